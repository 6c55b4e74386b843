import { describe, expect, test } from "bun:test";
import { cleanBeatEnvelope, isHeartbeatEnvelope } from "../../lib/wire/fast-check.ts";
import { envelopeSchema } from "../../lib/wire/schema.ts";

function valid(): Record<string, any> {
  return {
    from: "n1",
    inc: 1764000000000,
    seq: 42,
    body: {
      kind: "heartbeat",
      config: "ab12",
      active: true,
      standby: false,
      ready: true,
      leaving: false,
      quorum: true,
      pingOk: null,
      alive: ["n2", "n3"],
      heard: [12, 40.5],
      stable: ["n2"],
      holds: [{ slot: "ipaddr:vip@n1", role: "primary", claim: 3, heldMs: 1234.5 }],
      failed: [],
      uptimeMs: 99,
      sv: 7,
    },
  };
}

function validBeat(): Record<string, any> {
  return { from: "n1", inc: 1764000000000, seq: 43, link: 1, body: { kind: "beat", sv: 7, heard: [12, 40.5] } };
}

/** Seeded PRNG (mulberry32) so a failure replays. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WEIRD: unknown[] = [null, undefined, -1, 0, 1.5, NaN, Infinity, "", "x", "x".repeat(300), true, false, [], {}, ["a"], [1], [{}], "primary", 2 ** 60];

function paths(v: any, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (v && typeof v === "object") for (const k of Object.keys(v)) out.push(...paths(v[k], [...prefix, Array.isArray(v) ? Number(k) : k]));
  return out;
}

function mutate(r: () => number, make: () => Record<string, any> = valid): Record<string, any> {
  const x = make();
  const all = paths(x).filter((p) => p.length > 0);
  const n = 1 + Math.floor(r() * 2);
  for (let i = 0; i < n; i++) {
    const p = all[Math.floor(r() * all.length)]!;
    let parent: any = x;
    for (const k of p.slice(0, -1)) parent = parent?.[k];
    if (!parent || typeof parent !== "object") continue;
    const last = p[p.length - 1]!;
    if (r() < 0.15) delete parent[last];
    else parent[last] = WEIRD[Math.floor(r() * WEIRD.length)];
  }
  return x;
}

describe("isHeartbeatEnvelope()", () => {
  test("isHeartbeatEnvelope() accepts a valid heartbeat envelope, with and without heard", () => {
    expect(isHeartbeatEnvelope(valid())).toBe(true);
    const v = valid();
    delete v.body.heard;
    expect(isHeartbeatEnvelope(v)).toBe(true);
  });

  test("isHeartbeatEnvelope() agrees with the zod schema on 20000 mutated envelopes", () => {
    const r = rng(20261125);
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const x = mutate(r);
      const z = envelopeSchema.safeParse(x);
      const zodSays = z.success && z.data.body.kind === "heartbeat";
      const fast = isHeartbeatEnvelope(x);
      if (fast !== zodSays) throw new Error(`disagree on case ${i}: fast=${fast} zod=${zodSays}: ${JSON.stringify(x)}`);
      if (fast) accepted++;
    }
    // Both sides of the rules are exercised.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(19000);
  });

  test("isHeartbeatEnvelope() rejects commands and non-objects (they go through zod)", () => {
    expect(isHeartbeatEnvelope({ from: "n1", inc: 1, seq: 1, body: { kind: "command", command: { op: "reload" }, by: "x" } })).toBe(false);
    for (const w of WEIRD) expect(isHeartbeatEnvelope(w)).toBe(false);
  });
});

describe("cleanBeatEnvelope()", () => {
  test("cleanBeatEnvelope() agrees with the zod schema on 20000 mutated beat envelopes and drops unknown fields", () => {
    expect(cleanBeatEnvelope({ ...validBeat(), extra: 1 })).toEqual(validBeat() as never);
    const r = rng(20261203);
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const x = mutate(r, validBeat);
      const z = envelopeSchema.safeParse(x);
      const zodSays = z.success && z.data.body.kind === "beat";
      const fast = cleanBeatEnvelope(x) !== null;
      if (fast !== zodSays) throw new Error(`disagree on case ${i}: fast=${fast} zod=${zodSays}: ${JSON.stringify(x)}`);
      if (fast) accepted++;
    }
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(19000);
  });
});
