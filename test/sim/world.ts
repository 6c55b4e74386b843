// The simulated cluster: every host runs the daemon's own node driver (lib/node/driver.ts: signing,
// the replay guard, command resends, reload rules, persistence) around the real Core, on a seeded fake
// network, a fake clock and a fake agent per host. Nothing sleeps: the event queue jumps from one timed
// event to the next.
import type { Cluster } from "../../lib/config/model.ts";
import type { Core } from "../../lib/core/node.ts";
import { slotsOf } from "../../lib/core/slots.ts";
import type { Action, ActionResult, ClusterEvent, OperatorCommand, Persisted, Slot } from "../../lib/core/types.ts";
import { NodeDriver, type Reply } from "../../lib/node/driver.ts";
import { NOTHING_PERSISTED } from "../../lib/core/operator.ts";
import type { Ports, Timer } from "../../lib/node/ports.ts";
import { decode } from "../../lib/wire/codec.ts";
import { Checker } from "./invariants.ts";
import { EventQueue } from "./queue.ts";
import { Rng } from "./rng.ts";

export interface Host {
  readonly name: string;
  /** The running daemon, or null (killed, powered off, exited). */
  driver: NodeDriver | null;
  /** The daemon's core (status, standby), or null. */
  readonly core: Core | null;
  /** keep_alive_ip: the address its packets come from and go to. */
  readonly ip: string;
  /** UDP ports its daemon receives on (two while a udpport reload moves it). */
  listen: Set<number>;
  /** Incarnation of the current daemon (a restart bumps it, like lib/wire's sender incarnation). */
  inc: number;
  /** Resource ids present on this host (what `ip addr`, crontab dirs, systemctl would show). */
  readonly present: Set<string>;
  /** Powered off by fencing: nothing runs, nothing is present. */
  down: boolean;
  stalledUntil: number;
  /** Calls that arrived during a stall, run when it ends (socket buffers, finished scripts). */
  pending: Array<() => void>;
  clockOffset: number;
  readonly watchFail: Set<string>;
  readonly startFail: Set<string>;
  fenceFail: boolean;
  /** What the daemon keeps in spool_dir across restarts (the driver's Store). */
  persisted: Persisted;
  /** Operator standby as persisted (a view of `persisted`). */
  readonly standby: boolean;
  leaving: boolean;
  pingOk: boolean | null;
  /** Resources whose agent was made to fail here at some point (marks may persist until cleanup). */
  readonly faulted: Set<string>;
}

export interface WorldOptions {
  readonly seed: number;
  readonly cluster: Cluster;
  /** Script run time range, ms. */
  readonly actionMs?: readonly [number, number];
  /** One-way delivery delay range, ms. */
  readonly delayMs?: readonly [number, number];
  /**
   * One-way delay range of the link from -> to (nodenames), ms, overriding delayMs for that link (e.g.
   * in-site vs cross-site). delayMs should still be the largest range: the invariant bounds read it.
   */
  readonly delayFor?: (from: string, to: string) => readonly [number, number];
  readonly replayCmd?: string;
}

export class SimFailure extends Error {}

/** The shared cluster key of the simulated nodes (lib/wire signs and checks every packet with it). */
const SIM_KEY = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
/** lib/wire's decode, once per datagram: every receiver of one heartbeat gets the same bytes object. */
const decoded = new WeakMap<Uint8Array, ReturnType<typeof decode>>();
function decodeOnce(key: Uint8Array, bytes: Uint8Array): ReturnType<typeof decode> {
  let d = decoded.get(bytes);
  if (d === undefined) {
    d = decode(key, bytes);
    decoded.set(bytes, d);
  }
  return d;
}

/** Wall clock of sim time 0, for alerts. */
const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

/** What World.command() answers: the driver's reply, and which nodes the command datagram went to. */
export interface CommandOutcome extends Reply {
  /** The refusal, when the command was refused. */
  readonly rejected?: string;
  readonly forwardedTo: readonly string[];
}

export class World {
  now = 0;
  readonly rng: Rng;
  readonly q = new EventQueue();
  readonly hosts: Host[];
  readonly byName = new Map<string, Host>();
  readonly cluster: Cluster;
  readonly slots: Slot[];
  readonly trace: string[] = [];
  /** keep_alive_ip -> host. */
  readonly #byIp = new Map<string, Host>();
  /** The config a reload reads (World.setConfig); starts as the cluster's. */
  config: Cluster;
  /** While World.command() runs: destinations of command datagrams. */
  #capture: string[] | null = null;
  readonly checker: Checker;
  readonly seed: number;
  readonly replayCmd: string;
  drop = 0;
  dup = 0;
  reorder = 0;
  readonly actionMs: readonly [number, number];
  readonly delayMs: readonly [number, number];
  readonly #delayFor: ((from: string, to: string) => readonly [number, number]) | undefined;
  /** Cut links, both directions: "a|b" with a < b. */
  readonly cuts = new Set<string>();
  /** Last time each link was cut or healed. */
  readonly linkChanged = new Map<string, number>();
  /** Last fault per host (kill, restart, stall end, leave, clock jump, power). */
  readonly lastFault = new Map<string, number>();
  /** Last fault anywhere, including network changes: invariants 2, 3 and 6 wait for quiet. */
  lastDisturb = 0;
  messages = 0;
  readonly #linkLast = new Map<string, number>();
  steps = 0;
  /** Every event each node reported; `alert`: whether that node would run alert_script for it (alert_on). */
  readonly events: Array<{ at: number; node: string; e: ClusterEvent; alert: boolean }> = [];
  /** Every start and stop the cores asked for (the agents' journal). */
  readonly journal: Array<{ at: number; node: string; type: string; slot: string; reason: string }> = [];
  /** Resources an operator moved (chaos moves them back to their owner before the quiet period). */
  readonly moved = new Set<string>();

  constructor(o: WorldOptions) {
    this.seed = o.seed;
    this.rng = new Rng(o.seed);
    this.cluster = o.cluster;
    this.slots = slotsOf(o.cluster);
    this.actionMs = o.actionMs ?? [2, 20];
    this.delayMs = o.delayMs ?? [1, 3];
    this.#delayFor = o.delayFor;
    this.replayCmd = o.replayCmd ?? `SIM_SEED=${o.seed} bun test ./test/sim/`;
    this.config = o.cluster;
    this.hosts = o.cluster.nodes.map((n) => ({
      name: n.nodename,
      driver: null,
      get core() {
        return this.driver?.core ?? null;
      },
      ip: n.keepAliveIp,
      listen: new Set<number>(),
      inc: 0,
      present: new Set<string>(),
      down: false,
      stalledUntil: 0,
      pending: [],
      clockOffset: 0,
      watchFail: new Set<string>(),
      startFail: new Set<string>(),
      fenceFail: false,
      persisted: NOTHING_PERSISTED,
      get standby() {
        return this.persisted.standby;
      },
      leaving: false,
      pingOk: o.cluster.server.pingTargets.length > 0 ? true : null,
      faulted: new Set<string>(),
    }));
    for (const h of this.hosts) {
      this.byName.set(h.name, h);
      this.#byIp.set(h.ip, h);
    }
    this.checker = new Checker(this);
    const interval = o.cluster.server.keepAliveIntervalMs;
    this.#loop(0, Math.max(1, Math.floor(interval / 2)), () => this.checker.periodic());
  }

  // ------------------------------------------------------------ running the clock

  run(untilMs: number): void {
    for (;;) {
      const next = this.q.peek();
      if (!next || next.at > untilMs) break;
      this.q.pop();
      this.now = next.at;
      this.steps++;
      next.run();
    }
    this.now = untilMs;
  }

  at(t: number, f: () => void): void {
    this.q.push(Math.max(t, this.now), f);
  }

  #loop(first: number, every: number, f: () => void): void {
    const go = () => {
      f();
      this.q.push(this.now + every, go);
    };
    this.q.push(this.now + first, go);
  }

  // ------------------------------------------------------------ host state

  /** A daemon that answers: up, not frozen, not stopping. */
  running(h: Host): boolean {
    return h.driver !== null && !h.down && this.now >= h.stalledUntil && !h.leaving;
  }
  stalled(h: Host): boolean {
    return h.driver !== null && this.now < h.stalledUntil;
  }
  isCut(a: string, b: string): boolean {
    return this.cuts.has(a < b ? `${a}|${b}` : `${b}|${a}`);
  }
  host(name: string): Host {
    const h = this.byName.get(name);
    if (!h) throw new Error(`No host "${name}"`);
    return h;
  }

  log(line: string): void {
    this.trace.push(`${(this.now / 1000).toFixed(3).padStart(9)}s ${line}`);
    if (this.trace.length > 400) this.trace.splice(0, this.trace.length - 200);
  }

  fail(what: string): never {
    const tail = this.trace.slice(-200).join("\n");
    throw new SimFailure(`${what}\n  at t=${this.now} ms, seed ${this.seed}\n  replay: ${this.replayCmd}\n--- last events ---\n${tail}`);
  }

  // ------------------------------------------------------------ the driver's ports

  /**
   * Runs `f` against the host's daemon `d` now, or when its stall ends (socket buffers, finished
   * scripts and due timers wait for SIGCONT); nothing when that daemon is gone.
   */
  #call(h: Host, d: NodeDriver, f: () => void): void {
    if (h.driver !== d || h.down) return;
    if (this.now < h.stalledUntil) {
      h.pending.push(() => {
        if (h.driver === d) f();
      });
      return;
    }
    f();
  }

  /** The ports of one daemon run on host `h`: its view of the simulated world. */
  #ports(h: Host, self: () => NodeDriver): Ports {
    const world = this;
    const live = (d: NodeDriver) => h.driver === d && !h.down;
    return {
      clock: { now: () => world.now + h.clockOffset, wall: () => SIM_EPOCH_MS + world.now },
      timers: {
        every(ms, f): Timer {
          let on = true;
          const d = self();
          // A random phase per daemon, as real daemons start at different moments. A stalled
          // daemon misses its ticks; World.stall() gives it the one late tick SIGCONT does.
          const go = () => {
            if (!on || !live(d)) return;
            if (world.now >= h.stalledUntil) f();
            world.q.push(world.now + ms, go);
          };
          world.q.push(world.now + world.rng.int(0, ms - 1), go);
          return { cancel: () => void (on = false) };
        },
        // The simulated hosts' clocks are not in step (the harder case): wall-aligned ticks get a random phase per daemon too.
        aligned(ms, f): Timer {
          return this.every(ms, f);
        },
        after(ms, f): Timer {
          let on = true;
          const d = self();
          world.q.push(world.now + ms, () => on && world.#call(h, d, f));
          return { cancel: () => void (on = false) };
        },
      },
      sockets: {
        open(spec, current, done) {
          let old: number | null = null;
          done({
            ok: true,
            commit() {
              if (current && current.udpPort !== spec.udpPort) old = current.udpPort;
              h.listen.add(spec.udpPort);
              if (old !== null) world.log(`${h.name} listens on UDP ${spec.udpPort} (and ${old} until its peers move)`);
            },
            abort() {},
          });
        },
        retireOld() {
          const d = h.driver;
          if (!d) return;
          h.listen = new Set([d.cluster.server.udpport]);
        },
        send(ip, port, bytes) {
          world.#send(h, ip, port, bytes);
        },
        close() {
          h.listen = new Set();
        },
      },
      agents: {
        perform(a, _slot, done) {
          world.#act(h, self(), a, done);
        },
        setCluster() {},
      },
      alerts: {
        emit(e, _wall, alert) {
          world.log(`${h.name} ${e.type}: ${e.message}`);
          world.events.push({ at: world.now, node: h.name, e, alert });
          world.checker.onEvent(h, e);
        },
        setCluster() {},
        drain(_ms, done) {
          done();
        },
      },
      store: {
        load: () => h.persisted,
        save(p) {
          h.persisted = p;
        },
      },
      config: {
        load(selfName, done) {
          const cluster = world.config;
          const self = cluster.nodes.find((n) => n.nodename === selfName);
          if (!self) return done({ ok: false, message: `no node "${selfName}" in the config`, details: [] });
          done({ ok: true, cluster, self, ips: new Map(cluster.nodes.map((n) => [n.nodename, n.keepAliveIp])) });
        },
      },
      log: {
        error: (m) => world.log(`${h.name} ERROR ${m}`),
        warn: (m) => world.log(`${h.name} WARN ${m}`),
        info: () => {},
        debug: () => {},
        setDebugLevel: () => {},
      },
      ping: {
        check(_targets, _from, done) {
          done(h.pingOk !== false);
        },
      },
    };
  }

  #send(from: Host, ip: string, port: number, bytes: Uint8Array): void {
    this.messages++;
    const target = this.#byIp.get(ip);
    if (this.#capture !== null && target) {
      const d = decode(SIM_KEY, bytes);
      if (d.ok && d.env.body.kind === "command") this.#capture.push(target.name);
    }
    if (!target || this.isCut(from.name, target.name) || this.rng.chance(this.drop)) return;
    // A link delivers in order (a LAN does), unless this message is picked for reordering.
    const link = `${from.name}>${target.name}`;
    const [lo, hi] = this.#delayFor?.(from.name, target.name) ?? this.delayMs;
    let at = Math.max(this.now + this.rng.int(lo, hi), this.#linkLast.get(link) ?? 0);
    if (this.rng.chance(this.reorder)) at += this.rng.int(1, 30);
    else this.#linkLast.set(link, at);
    const deliver = () => {
      const d = target.driver;
      if (!d || target.down || !target.listen.has(port)) return;
      this.#call(target, d, () => d.onPacket(bytes, from.ip, port));
    };
    this.q.push(at, deliver);
    if (this.rng.chance(this.dup)) this.q.push(at + this.rng.int(0, 10), deliver);
  }

  #act(h: Host, d: NodeDriver, a: Action, done: (r: ActionResult) => void): void {
    const what = a.type === "fence" ? `fence ${a.node}` : `${a.type} ${a.slot}`;
    if (a.type !== "watch") this.log(`${h.name} action #${a.id} ${what} (${a.reason})`);
    if (a.type === "start" || a.type === "stop") this.journal.push({ at: this.now, node: h.name, type: a.type, slot: a.slot, reason: a.reason });
    this.q.push(this.now + this.rng.int(this.actionMs[0], this.actionMs[1]), () => {
      let ok = true;
      let detail = "exit 0";
      if (a.type === "fence") {
        const target = this.byName.get(a.node);
        if (h.fenceFail || !target) {
          ok = false;
          detail = "exit 1";
        } else this.powerOff(a.node, `fenced by ${h.name}`);
      } else {
        const res = a.slot.slice(0, a.slot.lastIndexOf("@"));
        switch (a.type) {
          case "start":
            if (h.startFail.has(res)) {
              ok = false;
              detail = "exit 1";
            } else h.present.add(res);
            break;
          case "stop":
            h.present.delete(res);
            break;
          case "watch":
            ok = h.present.has(res) && !h.watchFail.has(res);
            if (!ok) detail = "exit 1";
            break;
          case "probe":
            ok = h.present.has(res);
            detail = ok ? "present" : "absent";
            break;
        }
        this.checker.presenceChanged();
      }
      if (a.type !== "watch" || !ok) this.log(`${h.name} result #${a.id} ${what}: ${ok ? "ok" : "FAILED"} (${detail})`);
      // The daemon that asked is gone: its results go nowhere.
      this.#call(h, d, () => done({ id: a.id, ok, detail }));
    });
  }

  // ------------------------------------------------------------ faults

  #fault(name: string, what: string): void {
    this.lastFault.set(name, this.now);
    this.lastDisturb = this.now;
    this.log(`FAULT ${what}`);
  }

  /** Start (or restart) the daemon: a new Core with a new incarnation; the host keeps what it had. */
  start(name: string): void {
    const h = this.host(name);
    h.down = false;
    h.leaving = false;
    h.stalledUntil = 0;
    h.pending = [];
    h.inc++;
    h.driver?.close();
    h.listen = new Set();
    const cluster = this.config;
    const self = cluster.nodes.find((n) => n.nodename === name)!;
    const ips = new Map(cluster.nodes.map((n) => [n.nodename, n.keepAliveIp]));
    let driver: NodeDriver | null = null;
    driver = new NodeDriver(this.#ports(h, () => driver!), { cluster, self, key: SIM_KEY, ips, incarnation: h.inc, decode: decodeOnce });
    h.driver = driver;
    const d = driver;
    d.onExit(() => {
      if (h.driver !== d) return;
      h.driver = null;
      h.leaving = false;
      h.listen = new Set();
      this.log(`${h.name} daemon exited after a graceful stop`);
    });
    this.#fault(name, `start ${name} (incarnation ${h.inc}, present: ${[...h.present].join(" ") || "nothing"})`);
    d.start((error) => {
      if (error !== null) this.fail(`${name} could not start: ${error}`);
    });
  }
  startAll(): void {
    for (const h of this.hosts) this.start(h.name);
  }
  /** SIGKILL / crash: the daemon vanishes, the host keeps its addresses, crontabs and services. */
  kill(name: string): void {
    const h = this.host(name);
    h.driver?.close();
    h.driver = null;
    h.listen = new Set();
    h.leaving = false;
    this.#fault(name, `kill ${name}`);
  }
  restart(name: string): void {
    this.start(name);
  }
  /** The host dies (or is fenced): nothing runs, nothing is present. */
  powerOff(name: string, why = "power off"): void {
    const h = this.host(name);
    h.driver?.close();
    h.driver = null;
    h.listen = new Set();
    h.down = true;
    h.present.clear();
    this.checker.presenceChanged();
    this.#fault(name, `${why}: ${name} is down`);
  }
  /** Graceful stop (SIGTERM). */
  leave(name: string): void {
    const h = this.host(name);
    const d = h.driver;
    if (!d) return;
    this.#fault(name, `graceful stop of ${name}`);
    h.leaving = true;
    this.#call(h, d, () => d.shutdown("SIGTERM"));
  }
  /** SIGSTOP for `ms`, then SIGCONT: one late tick, then everything that queued up. */
  stall(name: string, ms: number): void {
    const h = this.host(name);
    const d = h.driver;
    if (!d) return;
    h.stalledUntil = this.now + ms;
    this.#fault(name, `stall ${name} for ${ms} ms`);
    this.at(this.now + ms, () => {
      if (h.driver !== d) return;
      this.#fault(name, `resume ${name}`);
      this.#call(h, d, () => d.tick());
      const queued = h.pending;
      h.pending = [];
      for (const f of queued) f();
    });
  }
  clockJump(name: string, deltaMs: number): void {
    this.host(name).clockOffset += deltaMs;
    this.#fault(name, `clock of ${name} jumps ${deltaMs} ms`);
  }
  cut(a: string, b: string): void {
    const k = a < b ? `${a}|${b}` : `${b}|${a}`;
    this.cuts.add(k);
    this.linkChanged.set(k, this.now);
    this.lastDisturb = this.now;
    this.log(`FAULT cut ${a} <-> ${b}`);
  }
  isolate(name: string): void {
    for (const h of this.hosts) if (h.name !== name) this.cut(name, h.name);
  }
  partition(groups: readonly (readonly string[])[]): void {
    for (let i = 0; i < groups.length; i++)
      for (let j = i + 1; j < groups.length; j++) for (const a of groups[i]!) for (const b of groups[j]!) this.cut(a, b);
  }
  heal(): void {
    for (const k of this.cuts) this.linkChanged.set(k, this.now);
    this.cuts.clear();
    this.lastDisturb = this.now;
    this.log("FAULT heal: every link restored");
  }
  setDrop(p: number): void {
    this.drop = p;
    this.lastDisturb = this.now;
    this.log(`FAULT drop ${Math.round(p * 100)}% of messages`);
  }
  failWatch(name: string, resource: string, on = true): void {
    const h = this.host(name);
    if (on) {
      h.watchFail.add(resource);
      h.faulted.add(resource);
    } else h.watchFail.delete(resource);
    this.lastDisturb = this.now;
    this.log(`FAULT watch of ${resource} on ${name} ${on ? "fails" : "works again"}`);
  }
  setPing(name: string, ok: boolean): void {
    this.host(name).pingOk = ok;
    this.lastDisturb = this.now;
    this.log(`FAULT ping targets ${ok ? "reachable" : "unreachable"} from ${name}`);
  }
  /** An operator command typed on `name`'s console (null: no daemon there). */
  command(name: string, cmd: OperatorCommand): CommandOutcome | null {
    const h = this.host(name);
    const d = h.driver;
    if (!d) return null;
    let out: CommandOutcome | null = null;
    this.lastDisturb = this.now;
    this.log(`COMMAND on ${name}: ${JSON.stringify(cmd)}`);
    this.#call(h, d, () => {
      this.#capture = [];
      d.command(cmd, "sim@console", (r) => {
        out = { ...r, forwardedTo: this.#capture ?? [], ...(r.ok ? {} : { rejected: r.message }) };
      });
      this.#capture = null;
    });
    // Recorded whether or not an answer came: a command typed on a stalled node takes effect when it resumes.
    if (cmd.op === "move") this.moved.add(cmd.resource);
    return out;
  }

  /** The config every later start and reload reads (the file on every host). */
  setConfig(cluster: Cluster): void {
    this.config = cluster;
    this.log(`CONFIG changed (fingerprint ${cluster.fingerprint.slice(0, 12)})`);
  }

  /** SIGHUP on `name`: re-read World.config. */
  reload(name: string): Reply | null {
    const h = this.host(name);
    const d = h.driver;
    if (!d) return null;
    let out: Reply | null = null;
    this.lastDisturb = this.now;
    this.log(`RELOAD on ${name}`);
    this.#call(h, d, () => d.reload("SIGHUP", (r) => (out = r)));
    return out;
  }

  /** Who has the resource present, among hosts with a running daemon. */
  holdersOf(resource: string): string[] {
    return this.hosts.filter((h) => h.present.has(resource) && this.running(h)).map((h) => h.name);
  }
}
