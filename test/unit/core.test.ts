// Core driven by hand: the contract with the server (heartbeats, action ids, results, stalls, shutdown).
import { describe, expect, test } from "bun:test";
import { beginCall } from "../../lib/core/clock.ts";
import { Core, slotsOf } from "../../lib/core/node.ts";
import { receiveHeartbeat } from "../../lib/core/peers.ts";
import { clearPins } from "../../lib/core/pins.ts";
import { newState, setSlots } from "../../lib/core/state.ts";
import type { Action, HeartbeatBody, Step } from "../../lib/core/types.ts";
import { viewOf } from "../../lib/core/view.ts";
import { makeCluster } from "../sim/topology.ts";
import { heartbeatBody } from "./core-fixtures.ts";

const hb = heartbeatBody;
const slotActions = (s: Step, type: string) => s.actions.filter((a): a is Extract<Action, { slot: string }> => a.type === type && "slot" in a);

/** Answers every action ok (probes: absent) until the core asks for nothing more; returns the last step. */
function drain(core: Core, first: Step, t: number): Step {
  let queue = [...first.actions];
  let last = first;
  for (let round = 0; round < 50 && queue.length > 0; round++) {
    const next: Action[] = [];
    for (const a of queue) {
      last = core.onResult({ id: a.id, ok: a.type !== "probe", detail: "exit 0" }, t);
      next.push(...last.actions);
    }
    queue = next;
  }
  return last;
}

/** Ticks every 50 ms from `from` to `to` (a real server never goes quiet); returns every step. */
function advance(core: Core, from: number, to: number): Step[] {
  const out: Step[] = [];
  for (let t = from; t <= to; t += 50) out.push(core.tick(t));
  return out;
}

/** A 3-node core on cmnode1 that has probed (nothing present) and heard both peers at `t`. */
function readyCore(opts: Parameters<typeof makeCluster>[0] = { nodes: 3 }, t = 0) {
  const cluster = makeCluster(opts);
  const core = new Core(cluster, "cmnode1", { now: t });
  const first = core.tick(t);
  let last: Step = first;
  for (const a of first.actions) last = core.onResult({ id: a.id, ok: false, detail: "absent" }, t + 1);
  const steps: Step[] = [];
  for (const p of cluster.nodes.slice(1)) steps.push(core.onMessage({ from: p.nodename, incarnation: 1, body: hb() }, t + 2));
  return { cluster, core, first, last, steps };
}

describe("slotsOf()", () => {
  test("slotsOf() lists candidates as owner then backups in config node order", () => {
    const slots = slotsOf(makeCluster({ nodes: 4 }));
    const vip1 = slots.find((s) => s.id === "ipaddr:vip1@cmnode1")!;
    expect(vip1.candidates).toEqual(["cmnode1", "cmnode2", "cmnode3"]);
    expect(vip1.exclusive).toBe(true);
    expect(slots.find((s) => s.id === "service:svc4@cmnode4")!.candidates).toEqual(["cmnode4", "cmnode1", "cmnode2"]);
    expect(slots.find((s) => s.id === "service:svc4@cmnode4")!.exclusive).toBe(false);
    // start order: services before crontabs before IPs
    expect(slots.map((s) => s.kind).indexOf("ipaddr")).toBeGreaterThan(slots.map((s) => s.kind).lastIndexOf("crontab"));
  });
});

describe("Core", () => {
  test("tick() sends one heartbeat per peer each keep_alive_interval", () => {
    const core = new Core(makeCluster({ nodes: 3 }), "cmnode1", { now: 0 });
    expect(core.tick(0).send.map((o) => o.to)).toEqual(["cmnode2", "cmnode3"]);
    expect(core.tick(20).send).toEqual([]);
    const s = core.tick(50);
    expect(s.send.length).toBe(2);
    expect(s.send[0]!.body.kind).toBe("heartbeat");
    expect((s.send[0]!.body as HeartbeatBody).ready).toBe(false);
  });

  test("tick() probes every slot it is a candidate for, with unique increasing ids, and starts nothing before ready", () => {
    const cluster = makeCluster({ nodes: 3 });
    const core = new Core(cluster, "cmnode1", { now: 0 });
    const s = core.tick(0);
    expect(s.actions.every((a) => a.type === "probe")).toBe(true);
    expect(s.actions.length).toBe(slotsOf(cluster).length);
    const ids = s.actions.map((a) => a.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    let last: Step = s;
    for (const a of s.actions) last = core.onResult({ id: a.id, ok: false, detail: "absent" }, 5);
    expect(last.actions).toEqual([]); // peers not heard yet and dead_time not over
    const later = advance(core, 50, 800).flatMap((x) => slotActions(x, "start"));
    expect(later.map((a) => a.slot)).toEqual(["service:svc1@cmnode1"]); // ready after dead_time without peers
  });

  test("onResult() tolerates unknown ids and keeps one action in flight per slot", () => {
    const { core, steps } = readyCore();
    const starts = steps.flatMap((s) => slotActions(s, "start"));
    expect(starts.map((a) => a.slot)).toEqual(["service:svc1@cmnode1"]);
    expect(core.onResult({ id: 99999, ok: true, detail: "?" }, 10).actions).toEqual([]);
    // no second start of the same slot while the first is in flight
    expect(slotActions(core.tick(60), "start")).toEqual([]);
    const next = core.onResult({ id: starts[0]!.id, ok: true, detail: "exit 0" }, 20);
    expect(slotActions(next, "start").map((a) => a.slot)).toEqual(["crontab:cron1@cmnode1"]);
    expect(next.events.some((e) => e.type === "acquire")).toBe(true);
    expect(Math.min(...next.actions.map((a) => a.id))).toBeGreaterThan(starts[0]!.id);
  });

  test("tick() after a stall does not declare peers dead and emits local_stall", () => {
    const { core } = readyCore();
    core.tick(50);
    const late = core.tick(5000); // no call for 4.95 s: our own loop was stopped
    expect(late.events.map((e) => e.type)).toContain("local_stall");
    expect(late.events.filter((e) => e.type === "node_dead")).toEqual([]);
    expect(core.status(5000).nodes.filter((n) => n.state === "dead")).toEqual([]);
    // but a peer that really stays silent is dead dead_time later
    const after = advance(core, 5050, 5850).flatMap((x) => x.events);
    expect(after.filter((e) => e.type === "node_dead").map((e) => e.node).sort()).toEqual(["cmnode2", "cmnode3"]);
  });

  test("tick() rounds the durations in its event messages to whole milliseconds", () => {
    const { core } = readyCore();
    core.tick(50.123);
    const msgs = [core.tick(3063.297), ...advance(core, 3100.5, 4000.5)].flatMap((x) => x.events.map((e) => e.message));
    expect(msgs.some((m) => /stalled for 3013 ms/.test(m))).toBe(true);
    expect(msgs.some((m) => /is dead \(no heartbeat for \d+ ms\)/.test(m))).toBe(true);
    expect(msgs.filter((m) => /\d\.\d+ ms/.test(m))).toEqual([]);
  });

  test("status() renders the cause (inactive, standby, no quorum) as the reason a slot cannot run", () => {
    const reason = (c: Core, slot: string, t: number) => c.status(t).slots.find((x) => x.slot === slot)!.reason;
    // both candidates of vip1 are node_is_active = 0
    const inactive = new Core(makeCluster({ nodes: 2, inactive: ["cmnode1", "cmnode2"] }), "cmnode1", { now: 0 });
    for (const a of inactive.tick(0).actions) inactive.onResult({ id: a.id, ok: false, detail: "absent" }, 1);
    inactive.onMessage({ from: "cmnode2", incarnation: 1, body: hb({ active: false }) }, 2);
    expect(reason(inactive, "ipaddr:vip1@cmnode1", 3)).toBe("no eligible node: cmnode1 is inactive; cmnode2 is inactive");
    // both in standby
    const standby = new Core(makeCluster({ nodes: 2 }), "cmnode1", { now: 0, standby: true });
    for (const a of standby.tick(0).actions) standby.onResult({ id: a.id, ok: false, detail: "absent" }, 1);
    standby.onMessage({ from: "cmnode2", incarnation: 1, body: hb({ standby: true }) }, 2);
    expect(reason(standby, "ipaddr:vip1@cmnode1", 3)).toBe("no eligible node: cmnode1 is in standby; cmnode2 is in standby");
    // one in standby (the owner), one inactive: both causes, in candidate order
    const mixed = new Core(makeCluster({ nodes: 2, inactive: ["cmnode1"] }), "cmnode1", { now: 0 });
    for (const a of mixed.tick(0).actions) mixed.onResult({ id: a.id, ok: false, detail: "absent" }, 1);
    mixed.onMessage({ from: "cmnode2", incarnation: 1, body: hb({ standby: true }) }, 2);
    expect(reason(mixed, "ipaddr:vip2@cmnode2", 3)).toBe("no eligible node: cmnode2 is in standby; cmnode1 is inactive");
    // three nodes, neither peer heard: no quorum for a floating IP
    const alone = new Core(makeCluster({ nodes: 3 }), "cmnode1", { now: 0 });
    for (const a of alone.tick(0).actions) alone.onResult({ id: a.id, ok: false, detail: "absent" }, 1);
    advance(alone, 50, 900);
    expect(reason(alone, "ipaddr:vip1@cmnode1", 900)).toBe("no quorum (1 of 3 nodes alive)");
    // a dead candidate is named with what is known of it, the live one is inactive (two nodes: quorum none)
    const dead = new Core(makeCluster({ nodes: 2, inactive: ["cmnode1"] }), "cmnode1", { now: 0 });
    for (const a of dead.tick(0).actions) dead.onResult({ id: a.id, ok: false, detail: "absent" }, 1);
    advance(dead, 50, 900);
    const deadAndInactive = "no eligible node: cmnode2 has not been heard since this node started; cmnode1 is inactive";
    expect(reason(dead, "service:svc2@cmnode2", 900)).toBe(deadAndInactive);
    expect(reason(dead, "crontab:cron2@cmnode2", 900)).toBe(deadAndInactive);
    const none = new Core(makeCluster({ nodes: 2 }), "cmnode1", { now: 0 });
    expect(reason(none, "service:svc2@cmnode2", 0)).toBe("waiting for cmnode1 to finish starting");
  });

  test("tick() with a clock that jumps backwards treats it as no time passed", () => {
    const { core } = readyCore();
    core.tick(100);
    expect(() => core.tick(-100000)).not.toThrow();
    const s = core.tick(-100000 + 50);
    expect(s.send.length).toBe(2); // heartbeats keep coming after the jump
    expect(s.events.filter((e) => e.type === "node_dead")).toEqual([]);
  });

  test("onMessage() logs a differing config fingerprint once and shows it in status", () => {
    const { core } = readyCore();
    const a = core.onMessage({ from: "cmnode2", incarnation: 1, body: hb({ config: "a".repeat(64) }) }, 30);
    const b = core.onMessage({ from: "cmnode2", incarnation: 1, body: hb({ config: "a".repeat(64) }) }, 40);
    expect(a.events.filter((e) => e.type === "config_mismatch").length).toBe(1);
    expect(b.events.filter((e) => e.type === "config_mismatch").length).toBe(0);
    expect(core.status(40).nodes.find((n) => n.nodename === "cmnode2")!.configDiffers).toBe(true);
  });

  test("onMessage() with leaving = true takes the peer's resources at once", () => {
    const { core } = readyCore();
    const s = core.onMessage({ from: "cmnode3", incarnation: 1, body: hb({ leaving: true }) }, 30);
    expect(s.events.map((e) => e.type)).toContain("node_leaving");
    expect(core.status(30).slots.find((x) => x.slot === "ipaddr:vip3@cmnode3")!.desired).toBe("cmnode1");
  });

  test("onMessage() with a new incarnation forgets the peer's old holds", () => {
    const { core } = readyCore();
    core.onMessage({ from: "cmnode2", incarnation: 1, body: hb({ holds: [{ slot: "ipaddr:vip2@cmnode2", role: "primary", claim: 1, heldMs: 5 }] }) }, 30);
    expect(core.status(30).slots.find((x) => x.slot === "ipaddr:vip2@cmnode2")!.holders.map((h) => h.node)).toEqual(["cmnode2"]);
    const s = core.onMessage({ from: "cmnode2", incarnation: 2, body: hb({ ready: false }) }, 40);
    expect(s.events.some((e) => e.type === "node_alive" && e.message.includes("restarted"))).toBe(true);
    expect(core.status(40).slots.find((x) => x.slot === "ipaddr:vip2@cmnode2")!.holders).toEqual([]);
  });

  test("shutdown() stops IPs and crontabs always, keeps its own services with keep_services, stops backups", () => {
    const cluster = makeCluster({ nodes: 2, keep: { keepServices: true } });
    const core = new Core(cluster, "cmnode1", { now: 0 });
    const probes = core.tick(0).actions;
    // cmnode1 finds everything present (its own and cmnode2's, as if it had taken them over)
    for (const a of probes) core.onResult({ id: a.id, ok: true, detail: "present" }, 1);
    drain(core, core.onMessage({ from: "cmnode2", incarnation: 1, body: hb({ leaving: true }) }, 2), 2);
    const s = core.shutdown(3);
    expect(s.send.every((o) => o.body.kind === "heartbeat" && o.body.leaving)).toBe(true);
    expect(s.send.length).toBe(1);
    const stops = slotActions(s, "stop");
    // reverse start order: IPs first; crontabs wait until the IPs are down
    expect(stops.map((a) => a.slot).sort()).toEqual(["ipaddr:vip1@cmnode1", "ipaddr:vip2@cmnode2"]);
    expect(core.stopped).toBe(false);
    let next: Step = s;
    for (const a of stops) next = core.onResult({ id: a.id, ok: true, detail: "exit 0" }, 4);
    const crons = slotActions(next, "stop");
    expect(crons.map((a) => a.slot).sort()).toEqual(["crontab:cron1@cmnode1", "crontab:cron2@cmnode2"]);
    for (const a of crons) next = core.onResult({ id: a.id, ok: true, detail: "exit 0" }, 5);
    const svcs = slotActions(next, "stop");
    expect(svcs.map((a) => a.slot)).toEqual(["service:svc2@cmnode2"]); // svc1 is its own: keep_services
    next = core.onResult({ id: svcs[0]!.id, ok: true, detail: "exit 0" }, 6);
    expect(core.stopped).toBe(true);
    expect(next.send.length).toBe(1); // a last leaving heartbeat
    expect((next.send[0]!.body as HeartbeatBody).holds).toEqual([]);
  });

  test("reload() stops slots that left the config and keeps the others", () => {
    const cluster = makeCluster({ nodes: 2 });
    const core = new Core(cluster, "cmnode1", { now: 0 });
    for (const a of core.tick(0).actions) core.onResult({ id: a.id, ok: a.type === "probe" && "slot" in a && a.slot.endsWith("@cmnode1"), detail: "" }, 1);
    drain(core, core.onMessage({ from: "cmnode2", incarnation: 1, body: hb() }, 2), 2);
    const smaller = makeCluster({ nodes: 2, kinds: ["ipaddr", "service"] });
    const s = core.reload(smaller, 3);
    expect(slotActions(s, "stop").map((a) => a.slot)).toEqual(["crontab:cron1@cmnode1"]);
    expect(core.status(3).slots.some((x) => x.slot.startsWith("crontab"))).toBe(false);
  });

  test("command() reports standby as node_standby and leaving it as node_unstandby", () => {
    const { core } = readyCore();
    const on = core.command({ op: "standby", node: "cmnode1" }, "root@h1", 10);
    expect(on.events.map((e) => [e.type, e.node])).toEqual([["node_standby", "cmnode1"]]);
    const off = core.command({ op: "unstandby", node: "cmnode1" }, "root@h1", 20);
    expect(off.events.filter((e) => e.node === "cmnode1").map((e) => e.type)).toEqual(["node_unstandby"]);
    expect(off.events.find((e) => e.type === "node_unstandby")!.message).toBe("Node cmnode1 leaves standby (by root@h1): it takes its resources again");
    expect(core.command({ op: "unstandby", node: "cmnode1" }, "root@h1", 30).events).toEqual([]);
  });

  test("onMessage() reports a peer leaving standby as node_unstandby, not node_alive", () => {
    const { core } = readyCore();
    expect(core.onMessage({ from: "cmnode2", incarnation: 1, body: hb({ standby: true }) }, 10).events.map((e) => e.type)).toEqual(["node_standby"]);
    expect(core.onMessage({ from: "cmnode2", incarnation: 1, body: hb() }, 20).events.map((e) => [e.type, e.node])).toEqual([["node_unstandby", "cmnode2"]]);
  });

  test("tick() reports a peer never heard as dead once after the initial wait, and alive once it is heard", () => {
    const cluster = makeCluster({ nodes: 3 });
    const core = new Core(cluster, "cmnode1", { now: 0 });
    drain(core, core.tick(0), 1);
    const steps = [core.onMessage({ from: "cmnode3", incarnation: 1, body: hb() }, 2), ...advance(core, 50, 3000)];
    const about2 = (ss: Step[]) => ss.flatMap((x) => x.events).filter((e) => e.node === "cmnode2");
    expect(about2(steps.slice(0, 15))).toEqual([]); // the initial wait (dead_time 800 ms): no word either way
    expect(about2(steps).map((e) => [e.type, e.message])).toEqual([["node_dead", "Node cmnode2 has not been heard since this node started"]]);
    const heard = [core.onMessage({ from: "cmnode2", incarnation: 1, body: hb() }, 3010), ...advance(core, 3050, 3400)];
    expect(about2(heard).map((e) => e.type)).toEqual(["node_alive"]);
  });

  test("Core() keeps standby given by the server and heartbeats it", () => {
    const core = new Core(makeCluster({ nodes: 2 }), "cmnode1", { now: 0, standby: true });
    expect(core.standby).toBe(true);
    expect((core.tick(0).send[0]!.body as HeartbeatBody).standby).toBe(true);
  });

  test("heartbeat of a 64-node cluster holding 192 slots stays well under 60 KB", () => {
    const cluster = makeCluster({ nodes: 64, backups: 63 });
    const core = new Core(cluster, "cmnode1", { now: 0 });
    for (const a of core.tick(0).actions) core.onResult({ id: a.id, ok: true, detail: "present" }, 1);
    for (const n of cluster.nodes.slice(1)) core.onMessage({ from: n.nodename, incarnation: 1, body: hb() }, 2);
    const s = core.tick(100);
    const body = s.send[0]!.body as HeartbeatBody;
    expect(body.holds.length).toBe(192);
    expect(body.alive.length).toBe(63);
    const bytes = JSON.stringify(body).length;
    console.log(`heartbeat JSON with 63 peers and 192 holds: ${bytes} bytes`);
    expect(bytes).toBeLessThan(30_000);
  });
});

// The modules behind the Core facade, driven directly on a CoreState.
const modCluster = makeCluster({ nodes: 3 });
const state = (now = 0) => {
  const s = newState(modCluster, "cmnode1", now, false);
  setSlots(s, slotsOf(modCluster));
  return s;
};
/** A heartbeat with this cluster's own fingerprint (no config_mismatch event). */
const ownHb = (over: Partial<HeartbeatBody> = {}): HeartbeatBody => hb({ config: modCluster.fingerprint, ...over });

describe("receiveHeartbeat()", () => {
  test("receiveHeartbeat() asks for a reconcile on news only, not on a repeated heartbeat", () => {
    const s = state();
    expect(receiveHeartbeat(s, "cmnode2", 1, ownHb(), 10)).toBe(true);
    expect(receiveHeartbeat(s, "cmnode2", 1, ownHb(), 60)).toBe(false);
    const holding = ownHb({ holds: [{ slot: "ipaddr:vip2@cmnode2", role: "primary", claim: 1, heldMs: 5 }] });
    expect(receiveHeartbeat(s, "cmnode2", 1, holding, 110)).toBe(true);
    expect(s.records.get("ipaddr:vip2@cmnode2")?.seenClaim).toBe(1);
  });

  test("receiveHeartbeat() ignores a sender that is not a peer", () => {
    const s = state();
    expect(receiveHeartbeat(s, "stranger", 1, ownHb(), 10)).toBe(false);
    expect(s.peers.has("stranger")).toBe(false);
  });

  test("receiveHeartbeat() keeps a move to a peer whose daemon restarted: pins are cluster state, persisted and replicated", () => {
    const s = state();
    receiveHeartbeat(s, "cmnode2", 1, ownHb(), 10);
    s.pins.set("ipaddr:vip1", { node: "cmnode2", base: new Map(), since: 10, until: null, reached: false });
    receiveHeartbeat(s, "cmnode2", 2, ownHb(), 60);
    expect([...s.pins.keys()]).toEqual(["ipaddr:vip1"]);
    expect(s.peers.get("cmnode2")!.restarted).toBe(2);
  });
});

describe("beginCall()", () => {
  test("beginCall() never lets the core's time run backwards", () => {
    const s = state(1000);
    expect(beginCall(s, 1010)).toBe(1010);
    expect(beginCall(s, 500)).toBe(1010);
    expect(beginCall(s, 520)).toBe(1030);
  });

  test("beginCall() gives live peers a fresh grace after a local stall and logs it", () => {
    const s = state(0);
    receiveHeartbeat(s, "cmnode2", 1, ownHb(), 0);
    const t = beginCall(s, 3000);
    expect(s.peers.get("cmnode2")!.lastDirect).toBe(t);
    expect(s.holdOffUntil).toBe(t + 2 * modCluster.server.keepAliveIntervalMs);
    expect(s.out.events.map((e) => e.type)).toEqual(["local_stall"]);
  });
});

describe("clearPins()", () => {
  test("clearPins() ends a move that its target never acted on within 2 x dead_time + the action timeout", () => {
    const s = state(0);
    s.ready = true;
    for (const p of ["cmnode2", "cmnode3"]) receiveHeartbeat(s, p, 1, ownHb(), 0);
    s.pins.set("ipaddr:vip1", { node: "cmnode2", base: new Map(), since: 0, reached: false });
    const limit = 2 * modCluster.server.deadTimeMs + modCluster.server.actionTimeoutMs.ipaddr;
    expect(clearPins(s, viewOf(s, 10), 10)).toBe(false);
    for (const p of ["cmnode2", "cmnode3"]) receiveHeartbeat(s, p, 1, ownHb(), limit);
    expect(clearPins(s, viewOf(s, limit + 1), limit + 1)).toBe(true);
    expect(s.pins.size).toBe(0);
  });
});

describe("Core start order", () => {
  // [CM_IPADDRS] is written before [CM_APPLICATIONS] on purpose: order on a node comes from the kind, not the file.
  const text = [
    "[CM_SERVER]",
    "keep_alive_interval = 50ms",
    "dead_time = 800ms",
    "[CM_IPADDRS]",
    "vip, 10.0.0.100, 24, eth0, /bin/true",
    "[CM_APPLICATIONS]",
    "app, root:root, /bin/true, /bin/true, /bin/true",
    "[CM_NODE]",
    "nodename = solo",
    "hostname = solo.test",
    "keep_alive_ip = 127.0.0.1",
    "node_floating_ip_addrs = vip",
    "node_applications = app",
  ].join("\n");

  test("Core() starts a floating IP only after the application on the same node is up, whatever the config order", async () => {
    const { parseClusterText } = await import("../../lib/config/load.ts");
    const { cluster } = parseClusterText(text, "/tmp/order.cfg");
    const core = new Core(cluster!, "solo", { now: 0 });
    let step = core.tick(0);
    // Start-up probes: nothing is present.
    const probes = slotActions(step, "probe");
    expect(probes.length).toBe(2);
    const starts: Extract<Action, { slot: string }>[] = [];
    for (const p of probes) starts.push(...slotActions(core.onResult({ id: p.id, ok: false, detail: "absent" }, 1), "start"));
    for (let t = 50; t <= 1000 && starts.length === 0; t += 50) starts.push(...slotActions(core.tick(t), "start"));
    expect(starts.map((a) => a.slot)).toEqual(["application:app@solo"]);
    step = core.onResult({ id: starts[0]!.id, ok: true, detail: "exit 0" }, 1100);
    const next = slotActions(step, "start");
    for (let t = 1150; t <= 2000 && next.length === 0; t += 50) {
      const st = core.tick(t);
      next.push(...slotActions(st, "start"));
      for (const a of st.actions) if (a.type !== "start") core.onResult({ id: a.id, ok: true, detail: "exit 0" }, t);
    }
    expect(next.map((a) => a.slot)).toEqual(["ipaddr:vip@solo"]);
  });
});

describe("Core start order on failback", () => {
  const text = [
    "[CM_SERVER]",
    "keep_alive_interval = 50ms",
    "dead_time = 800ms",
    "failback_delay = 0",
    "[CM_IPADDRS]",
    "vip, 10.0.0.100, 24, eth0, /bin/true",
    "[CM_APPLICATIONS]",
    "app, root:root, /bin/true, /bin/true, /bin/true",
    "[CM_NODE]",
    "nodename = n1",
    "hostname = n1.test",
    "keep_alive_ip = 127.0.0.1",
    "node_floating_ip_addrs = vip",
    "node_applications = app",
    "[CM_NODE]",
    "nodename = n2",
    "hostname = n2.test",
    "keep_alive_ip = 127.0.0.2",
    "node_backup_floating_ip_addrs = n1:vip",
    "node_backup_applications = n1:app",
  ].join("\n");

  test("Core() does not bring a floating IP back while the application behind it is still being stopped or started", async () => {
    const { parseClusterText } = await import("../../lib/config/load.ts");
    const { cluster } = parseClusterText(text, "/tmp/order2.cfg");
    const core = new Core(cluster!, "n1", { now: 0 });
    const pending: Action[] = [];
    const take = (st: Step) => pending.push(...st.actions);
    take(core.tick(0));
    // The restarted owner's host still runs the application (a killed daemon), not the IP.
    for (const a of pending.splice(0)) {
      const present = a.type === "probe" && a.slot === "application:app@n1";
      take(core.onResult({ id: a.id, ok: present, detail: present ? "running" : "absent" }, 1));
    }
    // n2 took both over meanwhile and does not yet count n1 as stable: n1 releases its stale copy.
    const n2 = (stable: string[]) =>
      hb({ alive: ["n1"], stable, holds: [
        { slot: "application:app@n1", role: "backup", claim: 1, heldMs: 5000 },
        { slot: "ipaddr:vip@n1", role: "backup", claim: 1, heldMs: 5000 },
      ] });
    take(core.onMessage({ from: "n2", incarnation: 1, body: n2([]) }, 10));
    for (let t = 50; t <= 300; t += 50) take(core.tick(t));
    const stop = pending.find((a) => a.type === "stop" && "slot" in a && a.slot === "application:app@n1");
    expect(stop).toBeDefined();
    // The stale stop is slow (2 s under su -). Meanwhile n2 counts n1 stable: failback is due.
    take(core.onMessage({ from: "n2", incarnation: 1, body: n2(["n1"]) }, 350));
    for (let t = 400; t <= 1000; t += 50) take(core.tick(t));
    const vipStart = () => pending.find((a) => a.type === "start" && "slot" in a && a.slot === "ipaddr:vip@n1");
    expect(vipStart()).toBeUndefined();
    // The stop finishes: the application comes back first, the IP only once it runs.
    take(core.onResult({ id: stop!.id, ok: true, detail: "exit 0" }, 1050));
    for (let t = 1100; t <= 1300; t += 50) take(core.tick(t));
    const appStart = pending.find((a) => a.type === "start" && "slot" in a && a.slot === "application:app@n1");
    expect(appStart).toBeDefined();
    expect(vipStart()).toBeUndefined();
    take(core.onResult({ id: appStart!.id, ok: true, detail: "exit 0" }, 1350));
    for (let t = 1400; t <= 1600 && !vipStart(); t += 50) take(core.tick(t));
    expect(vipStart()).toBeDefined();
  });
});

describe("Core stop order on failback", () => {
  test("Core() keeps the application behind a floating IP until the IP has left this node", async () => {
    const { parseClusterText } = await import("../../lib/config/load.ts");
    const text = [
      "[CM_SERVER]", "keep_alive_interval = 50ms", "dead_time = 800ms", "failback_delay = 0",
      "[CM_IPADDRS]", "vip, 10.0.0.100, 24, eth0, /bin/true",
      "[CM_APPLICATIONS]", "app, root:root, /bin/true, /bin/true, /bin/true",
      "[CM_NODE]", "nodename = n1", "hostname = n1.test", "keep_alive_ip = 127.0.0.1", "node_floating_ip_addrs = vip", "node_applications = app",
      "[CM_NODE]", "nodename = n2", "hostname = n2.test", "keep_alive_ip = 127.0.0.2", "node_backup_floating_ip_addrs = n1:vip", "node_backup_applications = n1:app",
    ].join("\n");
    const { cluster } = parseClusterText(text, "/tmp/order3.cfg");
    const core = new Core(cluster!, "n2", { now: 0 });
    const pending: Action[] = [];
    const answerAll = (st: Step, t: number) => {
      let queue = [...st.actions];
      for (let i = 0; i < 20 && queue.length > 0; i++) {
        const next: Action[] = [];
        for (const a of queue) next.push(...core.onResult({ id: a.id, ok: a.type !== "probe", detail: "exit 0" }, t).actions);
        queue = next;
      }
    };
    // n1 is never heard: n2 takes over both after dead_time.
    for (let t = 0; t <= 2000; t += 50) answerAll(core.tick(t), t);
    const held = () => core.status(2000).slots.filter((x) => x.holders.some((h) => h.node === "n2")).map((x) => x.slot).sort();
    expect(held()).toEqual(["application:app@n1", "ipaddr:vip@n1"]);
    const n1 = (holds: string[], claim: number) =>
      hb({ alive: ["n2"], stable: ["n2"], holds: holds.map((slot) => ({ slot, role: "primary" as const, claim, heldMs: 10 })) });
    const stops = (st: Step) => pending.push(...st.actions.filter((a) => a.type === "stop"));
    // n1 is back and has started its application (make-before-break), not yet the IP.
    stops(core.onMessage({ from: "n1", incarnation: 1, body: n1(["application:app@n1"], 5) }, 2050));
    for (let t = 2100; t <= 2400; t += 50) stops(core.tick(t));
    expect(pending.map((a) => "slot" in a && a.slot)).toEqual([]);
    // n1 holds the IP too: n2 releases the IP first, the application after it.
    stops(core.onMessage({ from: "n1", incarnation: 1, body: n1(["application:app@n1", "ipaddr:vip@n1"], 5) }, 2450));
    for (let t = 2500; t <= 2600; t += 50) stops(core.tick(t));
    expect(pending.map((a) => "slot" in a && a.slot)).toEqual(["ipaddr:vip@n1"]);
    stops(core.onResult({ id: pending[0]!.id, ok: true, detail: "exit 0" }, 2650));
    for (let t = 2700; t <= 2800; t += 50) stops(core.tick(t));
    expect(pending.map((a) => "slot" in a && a.slot)).toEqual(["ipaddr:vip@n1", "application:app@n1"]);
  });
});
