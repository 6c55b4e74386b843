// explain NICK: where a resource runs, the cause chain, and where it would go next (golden text).
import { expect, test } from "bun:test";
import { renderExplain, slotsNamed } from "../../lib/client/explain.ts";
import { PLAIN } from "../../lib/client/paint.ts";
import { runCommand, type ClientContext } from "../../lib/client/run.ts";
import { utcStamp } from "../../lib/client/stamp.ts";
import type { Cause } from "../../lib/core/cause.ts";
import type { ClusterStatus, SlotStatus } from "../../lib/core/types.ts";
import type { CallResult, Caller } from "../../lib/io/control-client.ts";
import { CLUSTER, NOW, SCENARIOS } from "../fixtures/golden/scenarios.ts";

const VIP = "ipaddr:vip@cmnode1";
const dead: Cause = { kind: "owner-down", owner: { node: "cmnode1", why: "dead", silentMs: 26_830 }, node: "cmnode2", holds: true, skipped: [] };
const next = { ifDown: "cmnode2", node: "cmnode3", cause: { kind: "owner-down", owner: { node: "cmnode1", why: "dead", silentMs: 26_830 }, node: "cmnode3", holds: false, skipped: [{ node: "cmnode2", why: "assumed-dead" }] } } as const;

/** The failed-over scenario as a node of this version answers it: every slot with its cause. */
const withCauses: ClusterStatus = {
  ...SCENARIOS.failedOver,
  nodes: SCENARIOS.failedOver.nodes.map((n) => (n.nodename === "cmnode1" ? { ...n, heartbeatAgeMs: 26_830 } : n)),
  slots: SCENARIOS.failedOver.slots.map((s): SlotStatus => (s.slot === VIP ? { ...s, cause: dead, reason: "its primary cmnode1 is dead, no heartbeat for 26830 ms; cmnode2 holds it", next } : s)),
};

test("renderExplain() prints where, the cause chain, the candidates' state, quorum and next", () => {
  const text = renderExplain(withCauses, slotsNamed(withCauses, "vip"), { now: NOW, stamp: utcStamp, deadTimeMs: 800 });
  const vip = withCauses.slots.find((s) => s.slot === VIP)!;
  const held = vip.holders[0]!;
  expect(held).toMatchObject({ node: "cmnode2", role: "backup", claim: 2, heldMs: 26_000 });
  expect(text).toBe(
    [
      "ipaddr:vip@cmnode1 (ipaddr vip, primary cmnode1, candidates cmnode1, cmnode2, cmnode3)",
      "  where: on cmnode2 (backup, claim 2, for 26.0s)",
      "  why:   its primary cmnode1 is dead, no heartbeat for 26830 ms; cmnode2 holds it",
      `  nodes: cmnode1 dead since ${utcStamp(NOW - 26_830 + 800)}, no heartbeat for 26.8s; cmnode2 alive (answering); cmnode3 alive, heartbeat ${fmt(withCauses, "cmnode3")} ago`,
      `  quorum: ${withCauses.quorum.alive} of 3 nodes alive (majority: has quorum)`,
      "  next:  if cmnode2 fails, it would go to cmnode3: its primary cmnode1 is dead, no heartbeat for 26830 ms; cmnode2 is gone; cmnode3 is the next live backup",
      "(as seen by cmnode2)",
      "",
    ].join("\n"),
  );
});

const fmt = (s: ClusterStatus, node: string): string => {
  const ms = s.nodes.find((n) => n.nodename === node)!.heartbeatAgeMs!;
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
};

test("slotsNamed() finds every kind sharing a nickname, and kind:nickname", () => {
  expect(slotsNamed(withCauses, "web").map((s) => s.slot)).toEqual(["service:web@cmnode1", "service:web@cmnode2"]);
  expect(slotsNamed(withCauses, "service:web").length).toBe(2);
  expect(slotsNamed(withCauses, "VIP").map((s) => s.slot)).toEqual([VIP]);
  expect(slotsNamed(withCauses, "nope")).toEqual([]);
});

async function explain(words: string[], view: ClusterStatus) {
  const r = { code: -1, out: "", err: "" };
  const caller: Caller = {
    async call(ep, command): Promise<CallResult> {
      const info = { nodename: ep.nodename, version: "2.0.0", uptimeMs: 1, rejected: {} };
      return command === "status" ? { ok: true, via: "tcp", reply: { ok: true, info, status: view } } : { ok: false, error: "unexpected" };
    },
  };
  const ctx: ClientContext = {
    cluster: CLUSTER,
    self: CLUSTER.nodes[1]!,
    caller,
    now: () => NOW,
    stamp: utcStamp,
    paint: PLAIN,
    json: false,
    out: (s) => void (r.out += s),
    err: (s) => void (r.err += s),
    console: false,
  };
  r.code = await runCommand(ctx, words, { node: null, count: 1 });
  return r;
}

test("runCommand() explain NICK prints every slot of the nickname and exits 0", async () => {
  const r = await explain(["explain", "web"], withCauses);
  expect(r.code).toBe(0);
  expect(r.out.match(/^service:web@cmnode\d/gm)).toEqual(["service:web@cmnode1", "service:web@cmnode2"]);
  const vip = await explain(["explain", "vip"], withCauses);
  expect(vip.out).toContain("where: on cmnode2 (backup");
  expect(vip.out).toContain("next:  if cmnode2 fails, it would go to cmnode3");
});

test("runCommand() explain with an unknown nickname says so and exits 1", async () => {
  const r = await explain(["explain", "nope"], withCauses);
  expect(r.code).toBe(1);
  expect(r.out).toBe("");
  expect(r.err).toStartWith('drcm: ERROR - No resource with nickname "nope": known nicknames are ');
  const missing = await explain(["explain"], withCauses);
  expect(missing.code).toBe(1);
  expect(missing.err).toContain("usage explain NICK");
});

test("runCommand() explain of a status from an older node (no cause) falls back to its reason", async () => {
  const r = await explain(["explain", "web"], SCENARIOS.failedOver);
  expect(r.code).toBe(0);
  expect(r.out).toContain("next:  unknown (the answering node is older than explain)");
});
