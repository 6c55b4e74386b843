// Table tests of the cause place() returns for each rule, and of its one rendering, describeCause().
import { describe, expect, test } from "bun:test";
import { causeCode, describeCause, type Cause } from "../../lib/core/cause.ts";
import { Core } from "../../lib/core/node.ts";
import { place, type NodeView, type View } from "../../lib/core/placement.ts";
import type { Action, ClusterEvent, Slot, Step } from "../../lib/core/types.ts";
import { makeCluster } from "../sim/topology.ts";
import { clusterView, H, heartbeatBody, nodeView, svc, vip, type Over, type ViewOptions } from "./core-fixtures.ts";

const node = (o: Over = {}): NodeView => nodeView(o, { silentMs: 20, upMs: 60_000 });
const view = (nodes: Record<string, Over>, opts: ViewOptions & { self?: string } = {}): View => ({
  ...clusterView(nodes, opts, node),
  self: opts.self ?? "n2",
  failbackDelayMs: 5000,
  maxFailures: 3,
});
const dead = (silentMs: number | null): Over => ({ alive: false, silentMs });

describe("place() cause", () => {
  const cases: Array<[string, Slot, View, string | null, Cause]> = [
    ["owner alive and holding: primary", vip, view({ n1: { holds: H(1) }, n2: {}, n3: {} }), "n1", { kind: "primary", node: "n1" }],
    ["nobody holds, owner eligible: primary", vip, view({ n1: {}, n2: {}, n3: {} }), "n1", { kind: "primary", node: "n1" }],
    [
      "owner dead: first live backup, with the heartbeat age",
      vip,
      view({ n1: { ...dead(812), holds: H(1) }, n2: {}, n3: {} }),
      "n2",
      { kind: "owner-down", owner: { node: "n1", why: "dead", silentMs: 812 }, node: "n2", holds: false, skipped: [] },
    ],
    [
      "owner and first backup down: next backup, the skipped one named",
      vip,
      view({ n1: dead(900), n2: { standby: true }, n3: {} }, { self: "n3" }),
      "n3",
      { kind: "owner-down", owner: { node: "n1", why: "dead", silentMs: 900 }, node: "n3", holds: false, skipped: [{ node: "n2", why: "standby" }] },
    ],
    [
      "owner leaving, backup holds: stays there",
      vip,
      view({ n1: { leaving: true, alive: false }, n2: { holds: H(2) }, n3: {} }),
      "n2",
      { kind: "owner-down", owner: { node: "n1", why: "leaving" }, node: "n2", holds: true, skipped: [] },
    ],
    ["owner inactive", vip, view({ n1: { active: false }, n2: {}, n3: {} }), "n2", { kind: "owner-down", owner: { node: "n1", why: "inactive" }, node: "n2", holds: false, skipped: [] }],
    ["owner failed too often", vip, view({ n1: { failed: [vip.id] }, n2: {}, n3: {} }), "n2", { kind: "owner-down", owner: { node: "n1", why: "failed" }, node: "n2", holds: false, skipped: [] }],
    ["operator move", vip, view({ n1: { holds: H(1) }, n2: {}, n3: {} }, { pins: { "ipaddr:vip": "n3" } }), "n3", { kind: "moved", node: "n3" }],
    ["owner stable on the holder: failback", vip, view({ n1: {}, n2: { holds: H(2), stable: ["n1"] }, n3: {} }), "n1", { kind: "failback", owner: "n1", from: "n2" }],
    [
      "owner back, not stable yet: failback-delay with the time to go",
      vip,
      view({ n1: { upMs: 1200 }, n2: { holds: H(2) }, n3: {} }),
      "n2",
      { kind: "failback-delay", owner: "n1", node: "n2", delayMs: 5000, remainingMs: 3800 },
    ],
    ["auto_failback = 0: kept", vip, view({ n1: {}, n2: { holds: H(2), stable: ["n1"] }, n3: {} }, { autoFailback: false }), "n2", { kind: "kept", owner: "n1", node: "n2" }],
    ["starting owner, nobody holds: waiting-start", vip, view({ n1: { ready: false }, n2: {}, n3: {} }), "n1", { kind: "waiting-start", node: "n1" }],
    ["leftover on a backup waits for a starting owner", svc, view({ n1: { ready: false }, n2: { holds: H(0) }, n3: {} }), "n1", { kind: "leftover-wait", owner: "n1", holder: "n2" }],
    [
      "this node without quorum, the others dead: no-quorum with the counts",
      vip,
      view({ n1: dead(2000), n2: { quorum: false }, n3: dead(2000) }),
      null,
      { kind: "no-quorum", alive: 1, total: 3 },
    ],
    ["this node without ping targets: ping-lost", vip, view({ n1: dead(2000), n2: { pingOk: false }, n3: dead(2000) }), null, { kind: "ping-lost", node: "n2" }],
    [
      "failed on every live candidate: max-failures",
      vip,
      view({ n1: { failed: [vip.id] }, n2: { failed: [vip.id] }, n3: dead(null) }),
      null,
      { kind: "max-failures", nodes: ["n1", "n2"], failures: 3 },
    ],
    [
      "nowhere: every candidate with its blocker",
      vip,
      view({ n1: { standby: true }, n2: { active: false }, n3: dead(null) }),
      null,
      {
        kind: "nowhere",
        blocked: [
          { node: "n1", why: "standby" },
          { node: "n2", why: "inactive" },
          { node: "n3", why: "dead", silentMs: null },
        ],
      },
    ],
  ];
  for (const [what, slot, v, desired, cause] of cases)
    test(`place() ${what}`, () => {
      const pl = place(slot, v);
      expect(pl.desired).toBe(desired);
      expect(pl.cause).toEqual(cause);
    });
});

describe("describeCause()", () => {
  const cases: Array<[Cause, string]> = [
    [{ kind: "primary", node: "n1" }, "n1 is its primary"],
    [
      { kind: "owner-down", owner: { node: "n1", why: "dead", silentMs: 812.4 }, node: "n2", holds: false, skipped: [] },
      "its primary n1 is dead, no heartbeat for 812 ms; n2 is the first live backup",
    ],
    [
      { kind: "owner-down", owner: { node: "n1", why: "dead", silentMs: null }, node: "n3", holds: false, skipped: [{ node: "n2", why: "standby" }] },
      "its primary n1 has not been heard since this node started; n2 is in standby; n3 is the next live backup",
    ],
    [{ kind: "owner-down", owner: { node: "n1", why: "failed" }, node: "n2", holds: true, skipped: [] }, "it failed too often on its primary n1; n2 holds it"],
    [{ kind: "moved", node: "n3" }, "moved to n3 by an operator"],
    [{ kind: "failback", owner: "n1", from: "n2" }, "failback from n2"],
    [
      { kind: "failback-delay", owner: "n1", node: "n2", delayMs: 5000, remainingMs: 3800 },
      "its primary n1 is back; it stays on n2 until n1 has been up for failback_delay 5000 ms, 3800 ms to go",
    ],
    [{ kind: "kept", owner: "n1", node: "n2" }, "its primary n1 is back; it stays on n2 (auto_failback = 0)"],
    [{ kind: "waiting-start", node: "n1" }, "waiting for n1 to finish starting"],
    [{ kind: "leftover-wait", owner: "n1", holder: "n2" }, "left running on n2 by an earlier run; waiting for n1 to finish starting"],
    [{ kind: "no-quorum", alive: 1, total: 3 }, "no quorum (1 of 3 nodes alive)"],
    [{ kind: "ping-lost", node: "n2" }, "n2 reaches no ping target"],
    [{ kind: "max-failures", nodes: ["n1", "n2"], failures: 3 }, "failed too often on n1, n2 (3 failures each)"],
    [{ kind: "fenced-pending", node: "n2", fencing: ["n1"] }, "n2 takes it over once n1 is fenced"],
    [{ kind: "outclaimed", node: "n2", claim: 11, mine: 10 }, "n2 holds it with a higher claim (11 over 10)"],
    [{ kind: "nowhere", blocked: [{ node: "n1", why: "inactive" }, { node: "n2", why: "no-quorum" }] }, "no eligible node: n1 is inactive; n2 has no quorum"],
  ];
  for (const [c, text] of cases) test(`describeCause() ${c.kind}: ${text}`, () => expect(describeCause(c)).toBe(text));

  test("causeCode() is the kind", () => {
    expect(causeCode({ kind: "moved", node: "n3" })).toBe("moved");
  });
});

describe("Core.status() cause", () => {
  const hb = heartbeatBody;

  test("status() carries the cause of a takeover, its text as reason, and where the slot would go next", () => {
    const cluster = makeCluster({ nodes: 3 });
    const core = new Core(cluster, "cmnode2", { now: 0 });
    for (const a of core.tick(0).actions) core.onResult({ id: a.id, ok: false, detail: "absent" }, 1);
    const vip = "ipaddr:vip1@cmnode1";
    const starts: Extract<Action, { slot: string }>[] = [];
    const events: ClusterEvent[] = [];
    const answer = (step: Step, t: number): void => {
      events.push(...step.events);
      for (const a of step.actions) {
        if (a.type === "start" && a.slot === vip) starts.push(a);
        answer(core.onResult({ id: a.id, ok: a.type !== "probe", detail: "exit 0" }, t), t);
      }
    };
    const holds = [{ slot: vip, role: "primary" as const, claim: 1, heldMs: 10 }];
    for (let t = 2; t <= 1000; t += 50) {
      answer(core.onMessage({ from: "cmnode1", incarnation: 1, body: hb({ holds }) }, t), t);
      answer(core.onMessage({ from: "cmnode3", incarnation: 1, body: hb() }, t), t);
      answer(core.tick(t), t);
    }
    const before = core.status(1000).slots.find((s) => s.slot === vip)!;
    expect(before.cause).toEqual({ kind: "primary", node: "cmnode1" });
    expect(before.reason).toBeNull();
    expect(before.next).toMatchObject({ ifDown: "cmnode1", node: "cmnode2" });
    // cmnode1 goes silent after its beat at 952; cmnode3 keeps beating
    for (let t = 1050; t <= 2000; t += 50) {
      answer(core.onMessage({ from: "cmnode3", incarnation: 1, body: hb() }, t), t);
      answer(core.tick(t), t);
    }
    expect(starts).toHaveLength(1);
    const start = starts[0]!;
    expect(start.cause).toMatchObject({ kind: "owner-down", owner: { node: "cmnode1", why: "dead" }, node: "cmnode2" });
    expect(start.reason).toBe(describeCause(start.cause!));
    const took = events.find((e) => e.type === "takeover" && e.slot === vip)!;
    expect(took.cause).toEqual(start.cause);
    expect(took.message).toMatch(/^Node cmnode2 is taking over ipaddr:vip1 from cmnode1 \(its primary cmnode1 is dead, no heartbeat for \d+ ms; cmnode2 is the first live backup\)$/);
    const after = core.status(2100).slots.find((s) => s.slot === vip)!;
    expect(after.cause).toEqual({ kind: "owner-down", owner: { node: "cmnode1", why: "dead", silentMs: 2100 - 952 }, node: "cmnode2", holds: true, skipped: [] });
    expect(after.reason).toBe("its primary cmnode1 is dead, no heartbeat for 1148 ms; cmnode2 holds it");
    expect(after.next).toEqual({
      ifDown: "cmnode2",
      node: "cmnode3",
      cause: { kind: "owner-down", owner: { node: "cmnode1", why: "dead", silentMs: 1148 }, node: "cmnode3", holds: false, skipped: [{ node: "cmnode2", why: "assumed-dead" }] },
    });
  });
});
