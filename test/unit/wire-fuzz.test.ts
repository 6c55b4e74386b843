// Random and mutated packets thrown at the decoders: they must never throw, and must never accept a
// packet that differs from one signed with the key. Seeded: a failure names its seed and case.
import { describe, expect, test } from "bun:test";
import { MAGIC, MAX_PACKET_BYTES, PROTOCOL_VERSION, decode, encode } from "../../lib/wire/codec.ts";
import { NonceCache, decodeReply, decodeRequest, encodeReply, encodeRequest } from "../../lib/wire/control.ts";
import { KEY, command, heartbeat, prng } from "./wire-fixtures.ts";

const SEED = 0x5eed2;
const valid: Uint8Array[] = [
  encode(KEY, { from: "cmnode1", inc: 1718000000000, seq: 1, body: heartbeat }),
  encode(KEY, { from: "cmnode2", inc: 42, seq: 9000, body: command }),
  encode(KEY, { from: "n", inc: 0, seq: 0, body: { ...heartbeat, holds: [], alive: [], stable: [] } }),
];
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 256) | 0;
  return out;
}

/** One of: flip 1..8 bytes, truncate, extend, splice two packets. Always differs from `p`. */
function mutate(rand: () => number, p: Uint8Array): Uint8Array {
  const kind = (rand() * 4) | 0;
  if (kind === 0) {
    const q = p.slice();
    const flips = 1 + ((rand() * 8) | 0);
    for (let i = 0; i < flips; i++) q[(rand() * q.length) | 0]! ^= 1 + ((rand() * 255) | 0);
    return same(q, p) ? q.subarray(1) : q;
  }
  if (kind === 1) return p.slice(0, (rand() * p.length) | 0);
  if (kind === 2) {
    const extra = randomBytes(rand, 1 + ((rand() * 64) | 0));
    const q = new Uint8Array(p.length + extra.length);
    q.set(p);
    q.set(extra, p.length);
    return q;
  }
  const other = valid[(rand() * valid.length) | 0]!;
  const cut = (rand() * Math.min(p.length, other.length)) | 0;
  const q = new Uint8Array([...p.subarray(0, cut), ...other.subarray(cut + 1)]);
  return same(q, p) || valid.some((v) => same(q, v)) ? q.subarray(2) : q;
}

describe("fuzz", () => {
  test("decode() never throws on 20000 random buffers and accepts none", () => {
    const rand = prng(SEED);
    const header = new Uint8Array([...MAGIC, PROTOCOL_VERSION]);
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const size = rand() < 0.02 ? MAX_PACKET_BYTES + 1 + ((rand() * 100) | 0) : (rand() * 600) | 0;
      const b = randomBytes(rand, size);
      // Half of them get a valid header so the MAC check, not the magic check, has to stop them.
      if (i % 2 === 0 && b.length >= header.length) b.set(header);
      let r: ReturnType<typeof decode>;
      try {
        r = decode(KEY, b);
      } catch (err) {
        throw new Error(`seed ${SEED} case ${i}: decode threw ${err}`);
      }
      if (r.ok) accepted++;
    }
    expect(accepted).toBe(0);
  });

  test("decode() rejects 20000 mutations of valid packets without throwing", () => {
    const rand = prng(SEED + 1);
    const reasons = new Map<string, number>();
    for (let i = 0; i < 20000; i++) {
      const p = valid[i % valid.length]!;
      const m = mutate(rand, p);
      let r: ReturnType<typeof decode>;
      try {
        r = decode(KEY, m);
      } catch (err) {
        throw new Error(`seed ${SEED + 1} case ${i}: decode threw ${err}`);
      }
      if (r.ok) throw new Error(`seed ${SEED + 1} case ${i}: a mutated packet was accepted`);
      reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
    }
    // The MAC, not luck in the JSON parser, is what stops most of them.
    expect(reasons.get("bad_mac") ?? 0).toBeGreaterThan(10000);
    for (const p of valid) expect(decode(KEY, p).ok).toBe(true);
  });

  test("decodeRequest() and decodeReply() never throw on random or mutated input", () => {
    const rand = prng(SEED + 2);
    const now = 1_700_000_000_000;
    const req = encodeRequest(KEY, { nonce: "nonce-0001", ts: now, to: "cmnode1", by: "root@vm1", command: "cm_stat", args: [] });
    const rep = encodeReply(KEY, "nonce-0001", { healthy: true });
    const seen = new NonceCache(60_000);
    for (let i = 0; i < 5000; i++) {
      const input = i % 2 === 0 ? randomBytes(rand, (rand() * 300) | 0) : mutate(rand, i % 4 === 1 ? req : rep);
      const a = decodeRequest(KEY, input, now, seen, "cmnode1");
      const b = decodeReply(KEY, input, "nonce-0001");
      if (a.ok || b.ok) throw new Error(`seed ${SEED + 2} case ${i}: a forged control message was accepted`);
    }
    expect(decodeRequest(KEY, req, now, seen, "cmnode1").ok).toBe(true);
    expect(decodeReply(KEY, rep, "nonce-0001").ok).toBe(true);
  });
});

