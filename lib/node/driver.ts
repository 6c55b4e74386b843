// The node driver: io events -> core -> actions -> io, for one node. It decides nothing itself (lib/core
// does); it signs and checks packets, runs what a Step asks for, repeats operator commands against loss,
// persists operator state, and applies a reload by the rules of lib/config/keys.ts. The daemon
// (lib/server.ts) and the simulator (test/sim/world.ts) run this same class with different ports.
import type { Cluster, NodeConfig } from "../config/model.ts";
import { describeRestartChange, restartOnlyChanges } from "../config/reload.ts";
import { Core, slotsOf } from "../core/node.ts";
import type { Action, ActionResult, ClusterEvent, ClusterStatus, MessageBody, OperatorCommand, Persisted, Slot, Step } from "../core/types.ts";
import { decode, encode, MAGIC, PROTOCOL_VERSION } from "../wire/codec.ts";
import { normalizeIp, PeerGuard } from "../wire/guard.ts";
import type { NodeInfo } from "../wire/control-protocol.ts";
import { VERSION } from "../version.ts";
import { errorMessage } from "../error.ts";
import type { LoadedConfig, Ports, SocketSpec, Timer } from "./ports.ts";
import { RejectionLog } from "./rejections.ts";
import { PortMove } from "./port-move.ts";
import { RecentEvents } from "./recent.ts";
import { LinkMonitor } from "./links.ts";
import { NodeMetrics } from "./metrics.ts";

export interface DriverInit {
  readonly cluster: Cluster;
  readonly self: NodeConfig;
  readonly key: Uint8Array;
  /** nodename -> resolved keep_alive_ip (first link), every node including this one. */
  readonly ips: ReadonlyMap<string, string>;
  /** nodename -> every resolved link address in link order, when keep_alive_ip lists more than one. */
  readonly links?: ReadonlyMap<string, readonly string[]>;
  /** Sender incarnation of this run (lib/wire): must grow from one run of the daemon to the next. */
  readonly incarnation: number;
  /** The debug level came from the command line: a reload does not change it. */
  readonly debugFromCli?: boolean;
  /**
   * lib/wire's decode, or the same function memoized by datagram: the simulator hands one datagram object
   * to every receiver and checks it once (decode is pure, and the replay guard still runs per receiver).
   */
  readonly decode?: typeof decode;
}

export interface Reply {
  readonly ok: boolean;
  readonly message: string;
}

/** Operator commands are single datagrams: each is sent twice more after these delays (all are safe to repeat). */
export const COMMAND_RESEND_MS = [40, 150] as const;
/** A udpport change keeps the old port open at most this long for peers that have not reloaded yet. */
export const PORT_MOVE_MAX_MS = 10 * 60_000;

export function socketSpecOf(cluster: Cluster, ips: ReadonlyMap<string, string>, self: string, links?: ReadonlyMap<string, readonly string[]>): SocketSpec {
  const myIp = ips.get(self)!;
  const mine = links?.get(self) ?? [myIp];
  const s = cluster.server;
  // The wildcard receives every link; "::" is dual-stack, for a cluster with an IPv6 link.
  const wildcard = mine.some((ip) => ip.includes(":")) ? "::" : "0.0.0.0";
  const spec = { bindHost: s.bindToKeepAliveIp ? myIp : wildcard, udpPort: s.udpport, sendHost: myIp, tcpPort: s.tcpport };
  if (mine.length < 2) return spec;
  return { ...spec, more: mine.slice(1).map((ip) => ({ bindHost: s.bindToKeepAliveIp ? ip : null, sendHost: ip })) };
}
const sameSpec = (a: SocketSpec, b: SocketSpec): boolean =>
  a.bindHost === b.bindHost && a.udpPort === b.udpPort && a.sendHost === b.sendHost && a.tcpPort === b.tcpPort && JSON.stringify(a.more ?? []) === JSON.stringify(b.more ?? []);

/** nodename -> every link address (one entry per node without `links`). */
const allLinks = (ips: ReadonlyMap<string, string>, links?: ReadonlyMap<string, readonly string[]>): Map<string, readonly string[]> =>
  new Map([...ips].map(([node, ip]) => [node, links?.get(node) ?? [ip]]));

/** The same state with every pin time moved by `delta` ms (monotonic <-> wall clock). */
function shiftPins(p: Persisted, delta: number): Persisted {
  const pins = p.operator.pins.map((x) => ({ ...x, since: x.since + delta, until: x.until === null ? null : x.until + delta }));
  return { ...p, operator: { ...p.operator, pins } };
}

function peersOf(ips: ReadonlyMap<string, string>, self: string, links?: ReadonlyMap<string, readonly string[]>): Map<string, readonly string[]> {
  const m = allLinks(ips, links);
  m.delete(self);
  return m;
}

/** How long a node heard with another protocol version stays named in status. */
const OTHER_VERSION_SHOWN_MS = 60_000;
const WANT: MessageBody = { kind: "want" };
/** Events every node reports alike (about another node or the whole cluster): with alert_on = one, one node alerts them. */
const SHARED_EVENTS: ReadonlySet<ClusterEvent["type"]> = new Set([
  "node_dead",
  "node_alive",
  "node_leaving",
  "node_inactive",
  "node_standby",
  "node_unstandby",
  "config_mismatch",
  "pin_set",
  "pin_cleared",
  "maintenance_on",
  "maintenance_off",
]);

export class NodeDriver {
  readonly core: Core;
  #cluster: Cluster;
  #self: NodeConfig;
  #ips: ReadonlyMap<string, string>;
  #slots: Map<string, Slot>;
  #guard: PeerGuard;
  #spec: SocketSpec | null = null;
  #seq = 0;
  /** Every link address per node (undefined: one link per node, `#ips`). */
  #links: ReadonlyMap<string, readonly string[]> | undefined;
  readonly #linkMonitor: LinkMonitor;
  /** Nodes heard speaking another protocol version: when last, and which. */
  readonly #otherVersion = new Map<string, { version: number; at: number }>();
  /** When each unverified peer was last sent a `want` (#challenge). */
  readonly #challengedAt = new Map<string, number>();
  readonly #startedAt: number;
  readonly #rejections: RejectionLog;
  /** What this node reported lately, for live views (`--command=watch`). */
  readonly recent = new RecentEvents();
  /** Counters for /metrics (lib/node/metrics-text.ts). */
  readonly metrics = new NodeMetrics();
  #portMove: PortMove | null = null;
  #tickTimer: Timer | null = null;
  /** One extra tick when a peer reaches dead_time between two ticks (#armDeadline). */
  #deadlineTimer: Timer | null = null;
  #deadlineAt = Number.POSITIVE_INFINITY;
  #pingTimer: Timer | null = null;
  #tickEvery = 0;
  #stopping = false;
  #exiting = false;
  #closed = false;
  #reloading = false;
  /** Reloads asked for while one was running: run once more after it, and answer them all. */
  #reloadQueue: Array<(r: Reply) => void> = [];
  #onExit: (code: number) => void = () => {};

  constructor(
    private readonly ports: Ports,
    private readonly init: DriverInit,
  ) {
    this.#cluster = init.cluster;
    this.#self = init.self;
    this.#ips = init.ips;
    this.#slots = new Map(slotsOf(init.cluster).map((sl) => [sl.id, sl]));
    this.#links = init.links;
    this.#guard = new PeerGuard(peersOf(init.ips, init.self.nodename, init.links), { self: init.self.nodename, selfInc: init.incarnation });
    this.#linkMonitor = new LinkMonitor(peersOf(init.ips, init.self.nodename, init.links), init.cluster.server.deadTimeMs);
    this.#startedAt = ports.clock.now();
    this.#rejections = new RejectionLog(ports.log, this.#startedAt);
    const persisted = shiftPins(ports.store.load(), this.#startedAt - ports.clock.wall());
    this.core = new Core(init.cluster, init.self.nodename, { now: this.#startedAt, persisted });
  }

  get cluster(): Cluster {
    return this.#cluster;
  }
  get self(): NodeConfig {
    return this.#self;
  }
  get stopping(): boolean {
    return this.#stopping;
  }
  /** Called once when the driver has stopped (graceful stop finished, or its bound ran out). */
  onExit(f: (code: number) => void): void {
    this.#onExit = f;
  }

  /** Opens the sockets and starts the loop; `done(null)` once running, or the reason it cannot. */
  start(done: (error: string | null) => void): void {
    const s = this.#cluster.server;
    this.ports.log.info(`Starting drcm ${VERSION} as node ${this.#self.nodename} (${this.#self.hostname}), config ${this.#cluster.file}`);
    const spec = socketSpecOf(this.#cluster, this.#ips, this.#self.nodename, this.#links);
    this.ports.sockets.open(spec, null, (r) => {
      if (!r.ok) return done(r.error);
      r.commit();
      this.#spec = spec;
      this.ports.log.info(`Heartbeats on UDP ${spec.bindHost}:${spec.udpPort} every ${s.keepAliveIntervalMs} ms, dead after ${s.deadTimeMs} ms`);
      if (spec.more) this.ports.log.info(`Heartbeat links: ${[spec.sendHost, ...spec.more.map((m) => m.sendHost)].map((ip, k) => `${k + 1} from ${ip}`).join(", ")}`);
      this.ports.log.info(`Control channel on TCP ${spec.bindHost}:${spec.tcpPort}`);
      this.#armTimers();
      this.#apply(this.core.tick(this.ports.clock.now()));
      done(null);
    });
  }

  // ------------------------------------------------------------ inputs

  /** The tick timer: the core decides what is due (heartbeats, watches, deaths). */
  tick(): void {
    if (this.#closed) return;
    const now = this.ports.clock.now();
    this.#apply(this.core.tick(now));
    for (const e of this.#linkMonitor.check(now)) this.#event(e);
    this.#rejections.summarize(now);
    if (this.#portMove?.expired(now)) this.#endPortMove("its time ran out");
    this.#armDeadline(now);
  }

  /**
   * Ticks are on the wall clock's multiples of the interval, and the beats of peers arrive just after
   * them: checked only at ticks, a silence would reach dead_time just after a tick and be seen one
   * interval late. So when a peer (or a link) reaches dead_time before the next tick, one extra tick
   * runs at that moment. Silent peers are rare: most ticks arm nothing.
   */
  #armDeadline(now: number): void {
    const left = Math.min(this.core.nextDeathIn(now), this.#linkMonitor.nextDownIn(now));
    if (!(left < this.#tickEvery)) return;
    const at = now + Math.max(0, left);
    if (this.#deadlineTimer !== null && this.#deadlineAt <= at) return;
    this.#deadlineTimer?.cancel();
    this.#deadlineAt = at;
    // Whole ms, and one more: a timer that fires early would find the peer still (just) alive.
    this.#deadlineTimer = this.ports.timers.after(Math.ceil(Math.max(0, left)) + 1, () => {
      this.#deadlineTimer = null;
      this.tick();
    });
  }

  /** A datagram arrived on `localPort` from `srcIp`. */
  onPacket(bytes: Uint8Array, srcIp: string, localPort: number): void {
    if (this.#closed) return;
    // Only configured peer addresses are worth a MAC: a flood from anywhere else costs a set lookup.
    if (!this.#guard.knownSource(srcIp)) {
      this.#guard.reject("bad_source");
      this.#rejections.add("bad_source", srcIp);
      return;
    }
    const d = (this.init.decode ?? decode)(this.init.key, bytes);
    if (!d.ok) {
      if (d.reason === "bad_version") this.#sawOtherVersion(bytes, srcIp);
      this.#guard.reject(d.reason);
      this.#rejections.add(d.reason, srcIp);
      return;
    }
    const now = this.ports.clock.now();
    const g = this.#guard.accept(d.env, srcIp);
    if (!g.ok) {
      if (g.reason === "unverified") this.#challenge(d.env.from, now);
      else this.#rejections.add(g.reason, srcIp, d.env.from);
      return;
    }
    this.metrics.heard(d.env.from, now);
    if (this.#portMove?.heard(d.env.from, localPort)) this.#endPortMove("every peer sends to the new port");
    const linkEvent = this.#linkMonitor.heard(d.env.from, g.link, now);
    if (linkEvent) this.#event(linkEvent);
    const level = this.ports.log.debugLevel ?? 0;
    if (level >= 5) this.ports.log.debug(5, `Received ${d.env.body.kind} #${d.env.seq} of ${d.env.from} (incarnation ${d.env.inc}) on link ${g.link + 1}, ${bytes.length} bytes`);
    else if (level >= 4 && d.env.body.kind === "heartbeat") {
      const b = d.env.body;
      this.ports.log.debug(4, `State of ${d.env.from} (version ${b.sv ?? "?"}): alive ${b.alive.join(",") || "-"}, holds ${b.holds.map((h) => `${h.slot}(claim ${h.claim})`).join(", ") || "nothing"}${b.standby ? ", standby" : ""}${b.leaving ? ", leaving" : ""}${b.quorum ? "" : ", no quorum"}`);
    }
    this.#apply(this.core.onMessage({ from: d.env.from, incarnation: d.env.inc, body: d.env.body }, now));
  }

  /**
   * A peer's packet did not ack this run (it or we just started; lib/wire/guard.ts): ask it for its whole
   * state with a `want`, which acks the peer's run, so its answer acks ours. At most once per interval per peer.
   */
  #challenge(from: string, now: number): void {
    this.ports.log.debug(3, `Heartbeat of ${from} does not ack this run yet: asking it for its state`);
    const last = this.#challengedAt.get(from);
    if (last !== undefined && now - last < this.#cluster.server.keepAliveIntervalMs) return;
    this.#challengedAt.set(from, now);
    this.#apply({ send: [{ to: from, body: WANT }], actions: [], events: [] });
  }

  /** A configured node (by its source address) speaks another protocol version: named in status. */
  #sawOtherVersion(bytes: Uint8Array, srcIp: string): void {
    const ip = normalizeIp(srcIp);
    for (const [node, addr] of this.#ips) {
      if (node === this.#self.nodename || normalizeIp(addr) !== ip) continue;
      const version = bytes[MAGIC.length] ?? 0;
      const known = this.#otherVersion.get(node);
      if (!known || known.version !== version) this.ports.log.warn(`Node ${node} (${srcIp}) sends protocol version ${version}, this node speaks ${PROTOCOL_VERSION}: its heartbeats are refused (bad_version) until both run the same drcm release`);
      this.#otherVersion.set(node, { version, at: this.ports.clock.now() });
      return;
    }
  }

  /** An operator command from the control channel (or the simulator's console). */
  command(cmd: OperatorCommand, by: string, reply: (r: Reply) => void): void {
    this.ports.log.info(`Operator command ${JSON.stringify(cmd)} from ${by}`);
    if (cmd.op === "reload") {
      this.reload(by, (r) => {
        // Tell the peers too (each re-reads its own copy of the config); this node just did.
        if (r.ok) this.#apply({ ...this.core.command(cmd, by, this.ports.clock.now()), reloadRequested: false });
        reply(r);
      });
      return;
    }
    const step = this.core.command(cmd, by, this.ports.clock.now());
    this.#apply(step);
    if (step.rejected) reply({ ok: false, message: `${cmd.op} refused by ${this.#self.nodename}: ${step.rejected}` });
    else reply({ ok: true, message: `${cmd.op} accepted by ${this.#self.nodename}` });
  }

  status(): ClusterStatus {
    const now = this.ports.clock.now();
    const st = this.core.status(now);
    const links = this.#linkMonitor.states(now);
    return links.length === 0 ? st : { ...st, links };
  }


  info(): NodeInfo {
    const now = this.ports.clock.now();
    const otherVersion: { node: string; version: number }[] = [];
    for (const [node, v] of this.#otherVersion) if (now - v.at < OTHER_VERSION_SHOWN_MS) otherVersion.push({ node, version: v.version });
    return {
      nodename: this.#self.nodename,
      version: VERSION,
      uptimeMs: Math.round(now - this.#startedAt),
      rejected: { ...this.#guard.counters },
      ...(otherVersion.length > 0 ? { otherVersion } : {}),
    };
  }

  /** SIGTERM/SIGINT: release everything (bounded by the longest script timeout), then exit. */
  shutdown(why: string): void {
    if (this.#stopping) {
      this.ports.log.warn(`Received ${why} again while stopping; still releasing resources`);
      return;
    }
    this.ports.log.info(`Received ${why}: releasing resources and stopping`);
    this.#stopping = true;
    this.#pingTimer?.cancel();
    this.#pingTimer = null;
    this.#apply(this.core.shutdown(this.ports.clock.now()));
    const bound = Math.max(...Object.values(this.#cluster.server.actionTimeoutMs)) + 5000;
    this.ports.timers.after(bound, () => {
      this.ports.log.error(`Shutdown did not finish within ${bound} ms; exiting anyway`);
      this.#exit(1);
    });
  }

  /** Stop everything at once without releasing (tests, a failed start). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tickTimer?.cancel();
    this.#deadlineTimer?.cancel();
    this.#pingTimer?.cancel();
    this.ports.sockets.close();
  }

  // ------------------------------------------------------------ reload

  /** SIGHUP or `reload`: a config with errors, or one that changes a restart-only key, is refused whole. */
  reload(by: string, reply: (r: Reply) => void): void {
    if (this.#reloading) {
      this.#reloadQueue.push(reply);
      return;
    }
    this.#reloading = true;
    const finish = (r: Reply) => {
      this.#reloading = false;
      reply(r);
      const queued = this.#reloadQueue;
      this.#reloadQueue = [];
      if (queued.length > 0) this.reload(by, (again) => queued.forEach((q) => q(again)));
    };
    this.ports.config.load(this.#self.nodename, (loaded) => this.#reloadLoaded(by, loaded, finish));
  }

  #refuse(msg: string, details: readonly string[], reply: (r: Reply) => void): void {
    this.ports.log.error(msg);
    for (const d of details.slice(0, 20)) this.ports.log.error(d);
    reply({ ok: false, message: [msg, ...details].join("\n") });
  }

  #reloadLoaded(by: string, loaded: LoadedConfig, reply: (r: Reply) => void): void {
    const file = this.#cluster.file;
    if (!loaded.ok) return this.#refuse(`Reload refused (asked by ${by}): ${loaded.message}; keeping the running config`, loaded.details, reply);
    const next = loaded.cluster;
    const restart = restartOnlyChanges(this.#cluster, next);
    if (restart.length > 0)
      return this.#refuse(
        `Reload refused (asked by ${by}): restart needed to change ${restart.map((c) => describeRestartChange(file, c)).join(", ")}; keeping the running config (nothing of the new file was applied)`,
        [],
        reply,
      );
    if (next.fingerprint === this.#cluster.fingerprint) this.ports.log.info(`Reload (asked by ${by}): config unchanged`);
    const spec = socketSpecOf(next, loaded.ips, loaded.self.nodename, loaded.links);
    if (this.#spec !== null && sameSpec(spec, this.#spec)) {
      this.#commit(by, loaded, null, reply);
      return;
    }
    this.ports.sockets.open(spec, this.#spec, (r) => {
      if (!r.ok) return this.#refuse(`Reload refused (asked by ${by}): ${r.error}; keeping the running config`, [], reply);
      if (this.#closed) {
        r.abort();
        return reply({ ok: false, message: "Reload refused: the daemon is stopping" });
      }
      r.commit();
      this.#commit(by, loaded, spec, reply);
    });
  }

  /** Applies a checked config: nothing here can fail, so a reload is never half-applied. */
  #commit(by: string, loaded: Extract<LoadedConfig, { ok: true }>, spec: SocketSpec | null, reply: (r: Reply) => void): void {
    const { cluster, self, ips, links } = loaded;
    const now = this.ports.clock.now();
    const old = { cluster: this.#cluster, peers: peersOf(this.#ips, this.#self.nodename, this.#links), spec: this.#spec };
    this.#cluster = cluster;
    this.#self = self;
    this.#ips = ips;
    this.#links = links;
    this.#slots = new Map(slotsOf(cluster).map((sl) => [sl.id, sl]));
    // The guard keeps its replay state for the peers that stay (a fresh one would accept packets recorded during this run).
    const peers = peersOf(ips, self.nodename, links);
    this.#linkMonitor.setConfig(peers, cluster.server.deadTimeMs);
    if (JSON.stringify([...old.peers].sort()) !== JSON.stringify([...peers].sort())) {
      this.#guard.setPeers(peers);
    }
    if (spec !== null) {
      this.#spec = spec;
      if (old.spec !== null && old.spec.udpPort !== spec.udpPort && peers.size > 0) {
        // Peers that have not reloaded yet still send to the old port and listen there: keep both until each is heard on the new one.
        this.#portMove?.close();
        this.#portMove = new PortMove(old.spec.udpPort, spec.udpPort, [...peers.keys()], now + PORT_MOVE_MAX_MS);
        this.ports.log.info(`udpport ${old.spec.udpPort} -> ${spec.udpPort}: sending to both and listening on both until every peer is heard on ${spec.udpPort}`);
      } else if (old.spec !== null) this.ports.sockets.retireOld();
      this.ports.log.info(`Heartbeats now on UDP ${spec.bindHost}:${spec.udpPort}, control channel on TCP ${spec.bindHost}:${spec.tcpPort}`);
    }
    this.ports.agents.setCluster(cluster, self);
    this.ports.alerts.setCluster(cluster, self);
    if (!this.init.debugFromCli) this.ports.log.setDebugLevel(cluster.server.debug ? Math.max(1, cluster.server.debugLevel) : 0);
    this.#apply(this.core.reload(cluster, now));
    this.#armTimers();
    const msg = `Reloaded ${cluster.file} (asked by ${by}), fingerprint ${cluster.fingerprint.slice(0, 12)}`;
    this.ports.log.info(msg);
    reply({ ok: true, message: msg });
  }

  #endPortMove(why: string): void {
    const move = this.#portMove;
    if (!move) return;
    this.#portMove = null;
    const silent = move.notHeard();
    if (silent.length > 0) this.ports.log.warn(`udpport ${move.to}: stopped using the old port ${move.from} (${why}); not heard on the new port: ${silent.join(", ")}`);
    else this.ports.log.info(`udpport ${move.to}: old port ${move.from} closed (${why})`);
    this.ports.sockets.retireOld();
  }

  // ------------------------------------------------------------ outputs

  /** (Re)arms the tick at the heartbeat period and the ping_targets probe; a reload may change either. */
  #armTimers(): void {
    const s = this.#cluster.server;
    const every = Math.max(5, s.keepAliveIntervalMs);
    if (this.#tickTimer === null || every !== this.#tickEvery) {
      this.#tickTimer?.cancel();
      this.#tickEvery = every;
      this.#tickTimer = this.ports.timers.aligned(every, () => this.tick());
    }
    if (s.pingTargets.length > 0 && this.#pingTimer === null && !this.#stopping) this.#pingTimer = this.ports.timers.every(1000, () => this.#pingTargets());
    if (s.pingTargets.length === 0 && this.#pingTimer !== null) {
      this.#pingTimer.cancel();
      this.#pingTimer = null;
    }
  }

  #pingTargets(): void {
    const targets = this.#cluster.server.pingTargets;
    this.ports.ping.check(targets, this.#ips.get(this.#self.nodename)!, (ok) => {
      if (this.#stopping || this.#closed) return;
      this.#apply(this.core.onPingTargets(ok, this.ports.clock.now()));
    });
  }

  /** Perform everything a core step asks for. */
  #apply(step: Step): void {
    if (step.send.length === 0 && step.events.length === 0 && step.actions.length === 0 && !step.persist && !step.rejected && !step.reloadRequested) {
      if (this.#stopping && this.core.stopped) this.#exit(0);
      return;
    }
    // Store operator state first: a crash right after acting must not forget it.
    if (step.persist) this.ports.store.save(shiftPins(step.persist, this.ports.clock.wall() - this.ports.clock.now()));
    // The core hands every peer the same heartbeat object: sign it once (one sequence number for all
    // peers is fine: it only has to grow per sender) instead of once per peer.
    // With several links, each link's copy is signed with its link number (the guard keeps replay state per link).
    const links = this.#linkCount();
    const signed = new Map<MessageBody, (Uint8Array | null)[]>();
    for (const m of step.send) {
      let copies = signed.get(m.body);
      if (copies === undefined) {
        const seq = ++this.#seq;
        copies = Array.from({ length: links }, (_, k) => this.#sign(m.body, seq, k));
        signed.set(m.body, copies);
      }
      copies.forEach((bytes, k) => this.#sendBytes(m.to, bytes, k));
      if (m.body.kind === "command") {
        const body = m.body;
        for (const delay of COMMAND_RESEND_MS)
          this.ports.timers.after(delay, () => {
            const seq = ++this.#seq;
            for (let k = 0; k < this.#linkCount(); k++) this.#sendBytes(m.to, this.#sign(body, seq, k), k);
          });
      }
    }
    if (step.rejected) this.ports.log.warn(`Operator command refused: ${step.rejected}`);
    if ((step.actions.some((a) => a.type === "start" || a.type === "stop") || step.events.length > 0) && (this.ports.log.debugLevel ?? 0) >= 2) this.#tracePlacement();
    for (const e of step.events) this.#event(e);
    for (const a of step.actions) this.#perform(a);
    if (step.reloadRequested) this.reload("operator", () => {});
    if (this.#stopping && this.core.stopped) this.#exit(0);
  }

  /** debug_level 2: where every slot is, where placement wants it and why, after a decision. */
  #tracePlacement(): void {
    const st = this.core.status(this.ports.clock.now());
    for (const s of st.slots)
      this.ports.log.debug(2, `Placement ${s.slot}: held by ${s.holders.map((h) => `${h.node}(claim ${h.claim})`).join(", ") || "nobody"}, wanted on ${s.desired ?? "no node"}${s.reason ? `: ${s.reason}` : ""}`);
  }

  #linkCount(): number {
    return this.#links?.get(this.#self.nodename)?.length ?? 1;
  }

  #sign(body: MessageBody, seq: number, link: number): Uint8Array | null {
    try {
      // Every packet but the compact beat acks the peers' runs, so a peer that just (re)started can believe it.
      const ack = body.kind === "beat" ? undefined : this.#guard.acks();
      return encode(this.init.key, { from: this.#self.nodename, inc: this.init.incarnation, seq, ...(link > 0 ? { link } : {}), ...(ack ? { ack } : {}), body });
    } catch (e) {
      this.ports.log.error(`Cannot send ${body.kind}: ${errorMessage(e)}`);
      return null;
    }
  }

  #sendBytes(to: string, bytes: Uint8Array | null, link: number): void {
    const ip = link === 0 ? this.#ips.get(to) : this.#links?.get(to)?.[link];
    if (!ip || !bytes || this.#closed) return;
    this.ports.sockets.send(ip, this.#cluster.server.udpport, bytes, link);
    const move = this.#portMove;
    if (move && !move.hasHeard(to)) this.ports.sockets.send(ip, move.from, bytes, link);
  }

  #event(e: ClusterEvent): void {
    const log = this.ports.log;
    if (e.type === "node_suspect") log.debug(1, e.message);
    else if (e.type === "node_dead" || e.type === "resource_failed" || e.type === "quorum_lost" || e.type === "duplicate_holder") log.warn(e.message);
    else log.info(e.message);
    const wall = this.ports.clock.wall();
    this.recent.add(e, wall);
    this.metrics.event(e);
    this.ports.alerts.emit(e, wall, this.#alertsHere(e));
  }

  /**
   * alert_on = one: an event every node reports about another node or the whole cluster alerts from one
   * node only, the lowest live one in config order (for a death: the lowest survivor; the dead node cannot).
   * Everything a node does or suffers itself alerts from that node. alert_on = all: every node alerts.
   */
  #alertsHere(e: ClusterEvent): boolean {
    if (this.#cluster.server.alertOn === "all") return true;
    if (!SHARED_EVENTS.has(e.type)) return true;
    const nodes = this.core.nodeStates(this.ports.clock.now());
    // A node still starting reports every peer it finds as alive: that is its news, not the cluster's.
    if (nodes.find((n) => n.self)?.state === "starting") return false;
    // The node an event is about does not count: the dead, the leaving and the returning one are not the reporter.
    const about = e.type === "node_dead" || e.type === "node_leaving" || e.type === "node_alive" ? e.node : undefined;
    // nodeStates is in config order: the first live node is the reporter.
    const first = nodes.find((n) => n.node !== about && (n.self || n.state === "alive" || n.state === "standby" || n.state === "leaving"));
    return first === undefined || first.self;
  }

  #perform(a: Action): void {
    const log = this.ports.log;
    const slot = a.type === "fence" ? undefined : this.#slots.get(a.slot);
    if (a.type === "fence") log.info(`Fencing node ${a.node} (${a.reason})`);
    else if (!slot) {
      this.#apply(this.core.onResult({ id: a.id, ok: false, detail: `unknown slot ${a.slot}` }, this.ports.clock.now()));
      return;
    } else if (a.type === "watch" || a.type === "probe") log.debug(2, `${a.type} ${slot.kind} ${slot.nickname}`);
    else log.info(`${a.type === "start" ? "Starting" : "Stopping"} ${slot.kind} ${slot.nickname} (${a.reason})`);
    const began = this.ports.clock.now();
    this.ports.agents.perform(a, slot, (result: ActionResult) => {
      this.metrics.script(slot?.kind ?? "fence", a.type, result.ok, this.ports.clock.now() - began, slot?.resource);
      if (!result.ok && a.type !== "probe") {
        const what = a.type === "fence" ? `fence ${a.node}` : `${a.type} ${slot!.kind} ${slot!.nickname}`;
        log.error(`Resource script could not ${what}: ${result.detail}`);
      }
      if (this.#closed) return;
      this.#apply(this.core.onResult(result, this.ports.clock.now()));
    });
  }

  #exit(code: number): void {
    if (this.#exiting) return;
    this.#exiting = true;
    // Say goodbye once more so peers act at once even if an earlier leaving heartbeat was lost.
    this.#apply(this.core.tick(this.ports.clock.now()));
    this.ports.alerts.drain(2000, () => {
      this.ports.log.info(`Stopped (exit ${code})`);
      this.close();
      this.#onExit(code);
    });
  }
}
