// The simulated cluster: real Cores on a seeded fake network and fake clock, with a fake agent per host.
// Nothing sleeps: the event queue jumps from one timed event to the next.
import type { Cluster } from "../../lib/config/model.ts";
import { Core } from "../../lib/core/node.ts";
import { slotsOf } from "../../lib/core/slots.ts";
import type { Action, ClusterEvent, MessageBody, OperatorCommand, Slot, Step } from "../../lib/core/types.ts";
import { Checker } from "./invariants.ts";
import { EventQueue } from "./queue.ts";
import { Rng } from "./rng.ts";

export interface Host {
  readonly name: string;
  core: Core | null;
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
  seqOut: number;
  /** lib/wire replay check: highest sequence accepted per sender incarnation. */
  readonly replay: Map<string, { inc: number; seq: number }>;
  standby: boolean;
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
  readonly replayCmd?: string;
}

export class SimFailure extends Error {}

export class World {
  now = 0;
  readonly rng: Rng;
  readonly q = new EventQueue();
  readonly hosts: Host[];
  readonly byName = new Map<string, Host>();
  readonly cluster: Cluster;
  readonly slots: Slot[];
  readonly trace: string[] = [];
  readonly checker: Checker;
  readonly seed: number;
  readonly replayCmd: string;
  drop = 0;
  dup = 0;
  reorder = 0;
  readonly actionMs: readonly [number, number];
  readonly delayMs: readonly [number, number];
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
  readonly events: Array<{ at: number; node: string; e: ClusterEvent }> = [];
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
    this.replayCmd = o.replayCmd ?? `SIM_SEED=${o.seed} bun test ./test/sim/`;
    this.hosts = o.cluster.nodes.map((n) => ({
      name: n.nodename,
      core: null,
      inc: 0,
      present: new Set<string>(),
      down: false,
      stalledUntil: 0,
      pending: [],
      clockOffset: 0,
      watchFail: new Set<string>(),
      startFail: new Set<string>(),
      fenceFail: false,
      seqOut: 0,
      replay: new Map(),
      standby: false,
      leaving: false,
      pingOk: o.cluster.server.pingTargets.length > 0 ? true : null,
      faulted: new Set<string>(),
    }));
    for (const h of this.hosts) this.byName.set(h.name, h);
    this.checker = new Checker(this);
    const interval = o.cluster.server.keepAliveIntervalMs;
    for (const h of this.hosts) {
      const phase = this.rng.int(0, interval - 1);
      this.#loop(phase, interval, () => {
        if (this.running(h)) this.#call(h, (c, t) => c.tick(t));
      });
      if (h.pingOk !== null) this.#loop(phase + 1, 500, () => {
        if (this.running(h) && h.pingOk !== null) this.#call(h, (c, t) => c.onPingTargets(h.pingOk!, t));
      });
    }
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
    return h.core !== null && !h.down && this.now >= h.stalledUntil && !h.leaving;
  }
  stalled(h: Host): boolean {
    return h.core !== null && this.now < h.stalledUntil;
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

  // ------------------------------------------------------------ calls into the core

  #call(h: Host, f: (c: Core, t: number) => Step): void {
    const core = h.core;
    if (!core || h.down) return;
    if (this.now < h.stalledUntil) {
      h.pending.push(() => {
        if (h.core === core) this.#process(h, f(core, this.now + h.clockOffset));
      });
      return;
    }
    this.#process(h, f(core, this.now + h.clockOffset));
  }

  #process(h: Host, step: Step): void {
    const core = h.core!;
    for (const e of step.events) {
      this.log(`${h.name} ${e.type}: ${e.message}`);
      this.events.push({ at: this.now, node: h.name, e });
      this.checker.onEvent(h, e);
    }
    for (const out of step.send) this.#send(h, out.to, out.body);
    for (const a of step.actions) this.#act(h, core, a);
    if (h.core === core) h.standby = core.standby; // standby is kept across restarts, like the server's spool file
    if (h.leaving && core.stopped && h.core === core) {
      h.core = null;
      h.leaving = false;
      this.log(`${h.name} daemon exited after a graceful stop`);
    }
  }

  #send(from: Host, to: string, body: MessageBody): void {
    this.messages++;
    const seq = ++from.seqOut;
    const inc = from.inc;
    const target = this.byName.get(to);
    if (!target || this.isCut(from.name, to) || this.rng.chance(this.drop)) return;
    // A link delivers in order (a LAN does), unless this message is picked for reordering.
    const link = `${from.name}>${to}`;
    let at = Math.max(this.now + this.rng.int(this.delayMs[0], this.delayMs[1]), this.#linkLast.get(link) ?? 0);
    if (this.rng.chance(this.reorder)) at += this.rng.int(1, 30);
    else this.#linkLast.set(link, at);
    const deliver = () => this.#deliver(target, from.name, inc, seq, body);
    this.q.push(at, deliver);
    if (this.rng.chance(this.dup)) this.q.push(at + this.rng.int(0, 10), deliver);
  }

  #deliver(target: Host, from: string, inc: number, seq: number, body: MessageBody): void {
    if (!target.core || target.down) return;
    const r = target.replay.get(from);
    if (r && r.inc === inc && seq <= r.seq) return; // lib/wire refuses replays and reordered copies
    target.replay.set(from, { inc, seq });
    this.#call(target, (c, t) => c.onMessage({ from, incarnation: inc, body }, t));
  }

  #act(h: Host, core: Core, a: Action): void {
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
      if (h.core !== core) return; // the daemon that asked is gone: its results go nowhere
      this.#call(h, (c, t) => c.onResult({ id: a.id, ok, detail }, t));
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
    h.core = new Core(this.cluster, name, { now: this.now + h.clockOffset, standby: h.standby });
    this.#fault(name, `start ${name} (incarnation ${h.inc}, present: ${[...h.present].join(" ") || "nothing"})`);
  }
  startAll(): void {
    for (const h of this.hosts) this.start(h.name);
  }
  /** SIGKILL / crash: the daemon vanishes, the host keeps its addresses, crontabs and services. */
  kill(name: string): void {
    const h = this.host(name);
    h.core = null;
    h.leaving = false;
    this.#fault(name, `kill ${name}`);
  }
  restart(name: string): void {
    this.start(name);
  }
  /** The host dies (or is fenced): nothing runs, nothing is present. */
  powerOff(name: string, why = "power off"): void {
    const h = this.host(name);
    h.core = null;
    h.down = true;
    h.present.clear();
    this.checker.presenceChanged();
    this.#fault(name, `${why}: ${name} is down`);
  }
  /** Graceful stop (SIGTERM). */
  leave(name: string): void {
    const h = this.host(name);
    if (!h.core) return;
    this.#fault(name, `graceful stop of ${name}`);
    h.leaving = true;
    this.#call(h, (c, t) => c.shutdown(t));
  }
  /** SIGSTOP for `ms`, then SIGCONT: one late tick, then everything that queued up. */
  stall(name: string, ms: number): void {
    const h = this.host(name);
    if (!h.core) return;
    h.stalledUntil = this.now + ms;
    this.#fault(name, `stall ${name} for ${ms} ms`);
    const core = h.core;
    this.at(this.now + ms, () => {
      if (h.core !== core) return;
      this.#fault(name, `resume ${name}`);
      this.#call(h, (c, t) => c.tick(t));
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
  command(name: string, cmd: OperatorCommand): Step | null {
    const h = this.host(name);
    if (!h.core) return null;
    let out: Step | null = null;
    this.lastDisturb = this.now;
    this.log(`COMMAND on ${name}: ${JSON.stringify(cmd)}`);
    this.#call(h, (c, t) => {
      out = c.command(cmd, "sim@console", t);
      return out;
    });
    if (cmd.op === "move" && out !== null && (out as Step).rejected === undefined) this.moved.add(cmd.resource);
    for (const x of this.hosts) if (x.core) x.standby = x.core.standby;
    return out;
  }

  /** Who has the resource present, among hosts with a running daemon. */
  holdersOf(resource: string): string[] {
    return this.hosts.filter((h) => h.present.has(resource) && this.running(h)).map((h) => h.name);
  }
}
