// The node driver with every port faked: what it sends, persists, arms and refuses, without sockets.
import { describe, expect, test } from "bun:test";
import type { Cluster } from "../../lib/config/model.ts";
import { restartOnlyChanges } from "../../lib/config/reload.ts";
import type { Persisted } from "../../lib/core/types.ts";
import { COMMAND_RESEND_MS, NodeDriver, type Reply } from "../../lib/node/driver.ts";
import { RECENT_EVENTS_KEPT, RecentEvents } from "../../lib/node/recent.ts";
import { NOTHING_PERSISTED } from "../../lib/core/operator.ts";
import type { LoadedConfig, OpenResult, Ports, SocketSpec } from "../../lib/node/ports.ts";
import { decode, encode, PROTOCOL_VERSION } from "../../lib/wire/codec.ts";
import { makeCluster } from "../sim/topology.ts";

const KEY = new Uint8Array(32).fill(7);

interface Fake {
  driver: NodeDriver;
  now: { t: number };
  sent: Array<{ ip: string; port: number; bytes: Uint8Array }>;
  opened: SocketSpec[];
  every: Array<{ ms: number; cancelled: boolean; f: () => void }>;
  after: Array<{ ms: number; f: () => void }>;
  saved: Persisted[];
  logs: string[];
  /** What the next reload reads, and whether opening sockets fails. */
  next: { cluster: Cluster; openFails: string | null };
  debugLevel: number;
}

function fake(cluster: Cluster = makeCluster({ nodes: 3 })): Fake {
  const f = { now: { t: 1000 }, sent: [], opened: [], every: [], after: [], saved: [], logs: [], next: { cluster, openFails: null }, debugLevel: 0 } as unknown as Fake;
  const ipsOf = (c: Cluster) => new Map(c.nodes.map((n) => [n.nodename, n.keepAliveIp]));
  const ports: Ports = {
    clock: { now: () => f.now.t, wall: () => 0 },
    timers: {
      every(ms, fn) {
        const e = { ms, cancelled: false, f: fn };
        f.every.push(e);
        return { cancel: () => void (e.cancelled = true) };
      },
      aligned(ms, fn) {
        const e = { ms, cancelled: false, f: fn, aligned: true };
        f.every.push(e);
        return { cancel: () => void (e.cancelled = true) };
      },
      after(ms, fn) {
        f.after.push({ ms, f: fn });
        return { cancel() {} };
      },
    },
    sockets: {
      open(spec: SocketSpec, _current: SocketSpec | null, done: (r: OpenResult) => void) {
        if (f.next.openFails !== null) return done({ ok: false, error: f.next.openFails });
        f.opened.push(spec);
        done({ ok: true, commit() {}, abort() {} });
      },
      retireOld() {},
      send: (ip, port, bytes) => void f.sent.push({ ip, port, bytes }),
      close() {},
    },
    agents: { perform: (a, _s, done) => done({ id: a.id, ok: true, detail: "exit 0" }), setCluster() {} },
    alerts: { emit() {}, setCluster() {}, drain: (_ms, done) => done() },
    store: { load: () => NOTHING_PERSISTED, save: (p) => void f.saved.push(p) },
    config: {
      load(selfName, done: (r: LoadedConfig) => void) {
        const c = f.next.cluster;
        done({ ok: true, cluster: c, self: c.nodes.find((n) => n.nodename === selfName)!, ips: ipsOf(c) });
      },
    },
    log: {
      error: (m) => void f.logs.push(`ERROR ${m}`),
      warn: (m) => void f.logs.push(`WARN ${m}`),
      info: (m) => void f.logs.push(`INFO ${m}`),
      debug: (lvl, m) => void (lvl <= f.debugLevel && f.logs.push(`DEBUG${lvl} ${m}`)),
      setDebugLevel() {},
      get debugLevel() {
        return f.debugLevel;
      },
    },
    ping: { check: (_t, _ip, done) => done(true) },
  };
  f.driver = new NodeDriver(ports, { cluster, self: cluster.nodes[0]!, key: KEY, ips: ipsOf(cluster), incarnation: 5 });
  f.driver.start((e) => expect(e).toBeNull());
  return f;
}

const reload = (f: Fake): Reply => {
  let out: Reply | null = null;
  f.driver.reload("test", (r) => (out = r));
  return out!;
};
const liveTimers = (f: Fake) => f.every.filter((e) => !e.cancelled).map((e) => e.ms);

describe("NodeDriver", () => {
  test("NodeDriver start opens the sockets of the config and ticks at keep_alive_interval", () => {
    const f = fake();
    expect(f.opened).toEqual([{ bindHost: "0.0.0.0", udpPort: 53897, sendHost: "127.0.0.1", tcpPort: 53898 }]);
    expect(liveTimers(f)).toEqual([50]);
    // The first tick already said hello to both peers on the cluster's port.
    expect(f.sent.map((s) => `${s.ip}:${s.port}`).sort()).toEqual(["127.0.0.2:53897", "127.0.0.3:53897"]);
  });

  test("NodeDriver ticks on the wall clock's multiples, and one extra tick sees a death at dead_time between two ticks", () => {
    const f = fake();
    expect(f.every.filter((e) => !e.cancelled).map((e) => (e as { aligned?: boolean }).aligned)).toEqual([true]);
    const mine = decode(KEY, f.sent[0]!.bytes);
    if (!mine.ok) throw new Error(mine.reason);
    // cmnode2 is heard at 1007 (7 ms after a tick), then never again: dead at 1807, between the ticks at 1800 and 1850.
    f.now.t = 1007;
    f.driver.onPacket(encode(KEY, { from: "cmnode2", inc: 9, seq: 1, ack: { cmnode1: 5 }, body: { ...mine.env.body } }), "127.0.0.2", 53897);
    expect(f.driver.status().nodes.find((n) => n.nodename === "cmnode2")?.state).not.toBe("dead");
    for (let t = 1050; t <= 1750; t += 50) {
      f.now.t = t;
      f.driver.tick();
    }
    expect(f.after).toEqual([]);
    f.now.t = 1800;
    f.driver.tick();
    // Whole ms and one more, so the extra tick never runs before the deadline.
    expect(f.after.map((a) => a.ms)).toEqual([8]);
    expect(f.logs.some((l) => /cmnode2 is dead/.test(l))).toBe(false);
    f.now.t = 1808;
    f.after[0]!.f();
    // Seen 801 ms after the last heartbeat (the next regular tick would have made it 843).
    expect(f.logs.filter((l) => l.startsWith("WARN Node cmnode2 is dead"))).toEqual(["WARN Node cmnode2 is dead (no heartbeat for 801 ms)"]);
    // Nobody else is alive: nothing more is armed.
    f.now.t = 1850;
    f.driver.tick();
    expect(f.after.length).toBe(1);
  });

  test("NodeDriver reload that changes a restart-only key is refused whole: no socket, no new value", () => {
    const f = fake();
    f.next.cluster = makeCluster({ nodes: 3, server: { logDir: "/srv/log", udpport: 6000, failbackDelayMs: 1, lines: { log_dir: 9 } } });
    const r = reload(f);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('restart needed to change log_dir (/etc/drcm/cm.cfg:9: "/var/log/drcm" -> "/srv/log")');
    expect(f.opened.length).toBe(1);
    expect(f.driver.cluster.server.failbackDelayMs).toBe(5000);
  });

  test("NodeDriver reload whose new port cannot be opened is refused and keeps the running config", () => {
    const f = fake();
    f.next.cluster = makeCluster({ nodes: 3, server: { udpport: 6000, keepAliveIntervalMs: 100 } });
    f.next.openFails = "Cannot bind UDP 0.0.0.0:6000: address in use";
    const r = reload(f);
    expect(r.ok).toBe(false);
    expect(r.message).toContain("address in use");
    expect(f.driver.cluster.server.udpport).toBe(53897);
    expect(liveTimers(f)).toEqual([50]);
  });

  test("NodeDriver reload of udpport sends to both ports until the peer is heard on the new one", () => {
    const f = fake();
    f.next.cluster = makeCluster({ nodes: 3, server: { udpport: 6000 } });
    expect(reload(f).ok).toBe(true);
    f.sent.length = 0;
    f.now.t += 60;
    f.driver.tick();
    expect(f.sent.map((s) => `${s.ip}:${s.port}`).sort()).toEqual(["127.0.0.2:53897", "127.0.0.2:6000", "127.0.0.3:53897", "127.0.0.3:6000"]);
    // cmnode2 reloaded too: heard on 6000, so the old port is dropped for it only.
    const body = decode(KEY, f.sent[0]!.bytes);
    if (!body.ok) throw new Error(body.reason);
    // The peer's packet acks this node's run (incarnation 5), so the guard believes it.
    const fromPeer = encode(KEY, { from: "cmnode2", inc: 9, seq: 1, ack: { cmnode1: 5 }, body: { ...body.env.body } });
    f.driver.onPacket(fromPeer, "127.0.0.2", 6000);
    f.sent.length = 0;
    f.now.t += 60;
    f.driver.tick();
    expect(f.sent.map((s) => `${s.ip}:${s.port}`).sort()).toEqual(["127.0.0.2:6000", "127.0.0.3:53897", "127.0.0.3:6000"]);
  });

  test("NodeDriver reload of keep_alive_interval re-arms the tick timer", () => {
    const f = fake();
    f.next.cluster = makeCluster({ nodes: 3, server: { keepAliveIntervalMs: 200, deadTimeMs: 1600 } });
    expect(reload(f).ok).toBe(true);
    expect(liveTimers(f)).toEqual([200]);
  });

  test("NodeDriver stores standby before acting on it, and repeats the forwarded command", () => {
    const f = fake();
    let reply: Reply | null = null;
    f.driver.command({ op: "standby", node: "cmnode1" }, "root@test", (r) => (reply = r));
    expect(reply!.ok).toBe(true);
    expect(f.saved.map((p) => p.standby)).toEqual([true]);
    f.sent.length = 0;
    f.driver.command({ op: "standby", node: "cmnode2" }, "root@test", () => {});
    expect(f.after.map((a) => a.ms)).toEqual([...COMMAND_RESEND_MS]);
    const before = f.sent.length;
    for (const a of f.after) a.f();
    const resent = f.sent.slice(before).map((s) => decode(KEY, s.bytes));
    // Each repeat is signed anew (a fresh sequence number), so the receiver's replay guard lets it in.
    expect(resent.map((d) => (d.ok ? d.env.body.kind : d.reason))).toEqual(["command", "command"]);
    const seqs = resent.map((d) => (d.ok ? d.env.seq : 0));
    expect(seqs[1]!).toBeGreaterThan(seqs[0]!);
    expect(f.sent.slice(before).every((s) => s.ip === "127.0.0.2")).toBe(true);
  });

  test("NodeDriver at debug level 2 traces placement after a decision: holder, wanted node and cause of every slot", () => {
    const f = fake();
    f.debugLevel = 2;
    // Alone after the initial wait: the node decides to start its own resources.
    for (let i = 0; i < 30; i++) {
      f.now.t += 50;
      f.driver.tick();
    }
    const trace = f.logs.filter((l) => l.startsWith("DEBUG2 Placement "));
    expect(trace.length).toBeGreaterThan(0);
    expect(trace.some((l) => /^DEBUG2 Placement \S+@cmnode1: held by .*, wanted on cmnode1/.test(l))).toBe(true);
    // Nothing of level 4 or 5 at level 2.
    expect(f.logs.some((l) => /^DEBUG[45]/.test(l))).toBe(false);
  });

  test("NodeDriver counts forged packets by reason and logs each kind once per address", () => {
    const f = fake();
    const forged = encode(new Uint8Array(32).fill(1), { from: "cmnode2", inc: 1, seq: 1, body: { kind: "command", command: { op: "reload" }, by: "x" } });
    f.driver.onPacket(forged, "127.0.0.2", 53897);
    f.driver.onPacket(forged, "127.0.0.2", 53897);
    f.driver.onPacket(new Uint8Array([1, 2, 3]), "127.0.0.2", 53897);
    // From an address that is no node's: refused before any MAC is computed.
    f.driver.onPacket(forged, "127.0.0.9", 53897);
    const rejected = f.driver.info().rejected;
    expect(rejected.bad_mac).toBe(2);
    expect(rejected.malformed).toBe(1);
    expect(rejected.bad_source).toBe(1);
    expect(f.logs.filter((l) => l.startsWith("WARN Rejected heartbeat packet")).length).toBe(3);
  });

  test("NodeDriver names a configured node that sends another protocol version, and nothing else", () => {
    const f = fake();
    const ip2 = f.driver.cluster.nodes[1]!.keepAliveIp;
    const old = encode(KEY, { from: "cmnode2", inc: 1, seq: 1, body: { kind: "command", command: { op: "reload" }, by: "x" } });
    old[4] = PROTOCOL_VERSION - 1;
    f.driver.onPacket(old, ip2, 53897);
    f.driver.onPacket(old, ip2, 53897);
    // From an address that is no node of the config: refused as bad_source before anything else, never named.
    f.driver.onPacket(old, "192.0.2.77", 53897);
    const info = f.driver.info();
    expect(info.rejected.bad_version).toBe(2);
    expect(info.rejected.bad_source).toBe(1);
    expect(info.otherVersion).toEqual([{ node: "cmnode2", version: PROTOCOL_VERSION - 1 }]);
    expect(f.logs.filter((l) => l.includes("sends protocol version")).length).toBe(1);
    // Named for a minute after the last such packet, then no more.
    f.now.t += 61_000;
    expect(f.driver.info().otherVersion).toBeUndefined();
  });
});

describe("restartOnlyChanges()", () => {
  test("restartOnlyChanges() lists restart keys only, once per field, with the line written", () => {
    const a = makeCluster({ nodes: 2 });
    const b = makeCluster({ nodes: 2, server: { logfileName: "x.log", udpport: 1, verbose: true, lines: { logfile: 4, verbose: 7 } } });
    expect(restartOnlyChanges(a, b).map((c) => `${c.key}:${c.line}`)).toEqual(["logfile:4", "verbose:7"]);
    expect(restartOnlyChanges(a, a)).toEqual([]);
  });
});

describe("RecentEvents", () => {
  test("RecentEvents.since() returns newer events and says when some were dropped", () => {
    const r = new RecentEvents();
    for (let i = 0; i < RECENT_EVENTS_KEPT + 5; i++) r.add({ type: "node_alive", node: `n${i}`, message: "" }, i);
    expect(r.since(RECENT_EVENTS_KEPT + 3).events.map((e) => e.seq)).toEqual([RECENT_EVENTS_KEPT + 4, RECENT_EVENTS_KEPT + 5]);
    expect(r.since(RECENT_EVENTS_KEPT + 3).missed).toBe(false);
    expect(r.since(2).missed).toBe(true);
    expect(r.since(0).events.length).toBe(RECENT_EVENTS_KEPT);
  });

  test("NodeDriver keeps the events it reports for live views", () => {
    const f = fake();
    f.driver.command({ op: "standby", node: "cmnode1" }, "root@test", () => {});
    expect(f.driver.recent.since(0).events.map((e) => e.event.type)).toContain("node_standby");
  });
});
