// Core: one node's whole decision logic. Time, messages and action results come in as arguments;
// heartbeats, actions and events leave as a Step. No clock, socket or process is touched here.
// This facade routes each input; the modules beside it hold the logic and share one CoreState.
import type { Cluster } from "../config/model.ts";
import { issueProbes } from "./actions.ts";
import { beginCall } from "./clock.ts";
import { applyCommand, validateCommand } from "./commands.ts";
import { finishCall } from "./heartbeat.ts";
import { computeQuorum, selfState } from "./observe.ts";
import { receiveBeat, receiveHeartbeat, receiveWant } from "./peers.ts";
import { heldInOrder, inflightInOrder, newPeerRecord, slotRec } from "./records.ts";
import { settle } from "./reconcile.ts";
import { applyResult } from "./results.ts";
import { planShutdownStop } from "./shutdown.ts";
import { slotsOf } from "./slots.ts";
import { beatNow, emit, isConfigActive, newState, setSlots, type CoreState } from "./state.ts";
import { buildStatus } from "./status.ts";
import type { ActionResult, ClusterStatus, OperatorCommand, PeerMessage, PeerState, Persisted, Step } from "./types.ts";
import { viewOf } from "./view.ts";
import { inMaintenance, nextGen, operatorWire, persistedOf, restoreOperator } from "./operator.ts";
import { failuresWire } from "./failures.ts";
import { isAlive, lastHeard, peerState } from "./membership.ts";

/** Commands that change the cluster-wide operator register (and so carry a generation). */
const changesRegister = (c: OperatorCommand): boolean => c.op === "move" || c.op === "clear" || (c.op === "maintenance" && c.node === null);

/**
 * What the persisted state depends on, cheap enough for every call: every change of a pin or of cluster
 * maintenance takes a new operator generation, so the generation stands for the whole register.
 */
const persistKey = (s: CoreState): number => (s.op.gen * 2 + (s.op.maintenance ? 1 : 0)) * 4 + (s.standby ? 2 : 0) + (s.maintenance ? 1 : 0);

export { slotsOf } from "./slots.ts";

export class Core {
  readonly #s: CoreState;
  /** Key of the operator state as last handed out (or given at start): a Step carries `persist` when it differs. */
  #persisted: number;

  /**
   * `persisted`: what the previous run on this node handed out (standby, maintenance, the operator
   * register); `standby` alone is the older short form.
   */
  constructor(cluster: Cluster, self: string, opts: { now: number; standby?: boolean; persisted?: Persisted }) {
    this.#s = newState(cluster, self, opts.now, opts.standby ?? false);
    setSlots(this.#s, slotsOf(cluster));
    if (opts.persisted) restoreOperator(this.#s, opts.persisted);
    this.#persisted = persistKey(this.#s);
    this.#s.quorum = computeQuorum(this.#s, opts.now);
  }

  get stopped(): boolean {
    return this.#s.stopped;
  }
  get standby(): boolean {
    return this.#s.standby;
  }
  /** Maintenance applies here (cluster-wide or this node's own). */
  get maintenance(): boolean {
    return inMaintenance(this.#s);
  }
  get self(): string {
    return this.#s.self;
  }

  tick(now: number): Step {
    return this.#step(now, (s) => {
      if (!s.probesIssued) issueProbes(s);
    });
  }

  onMessage(msg: PeerMessage, now: number): Step {
    return this.#step(now, (s, t) => {
      const b = msg.body;
      if (b.kind === "heartbeat") return receiveHeartbeat(s, msg.from, msg.incarnation, b, t);
      if (b.kind === "beat") return receiveBeat(s, msg.from, msg.incarnation, b, t);
      if (b.kind === "want") return receiveWant(s, msg.from, t);
      applyCommand(s, b.command, b.by, t);
    });
  }

  onResult(r: ActionResult, now: number): Step {
    return this.#step(now, (s, t) => {
      const pending = s.pendingById.get(r.id);
      if (!pending) return;
      s.pendingById.delete(r.id);
      applyResult(s, pending, r, t);
    });
  }

  onPingTargets(ok: boolean, now: number): Step {
    return this.#step(now, (s) => {
      if (s.pingOk === ok) return;
      if (ok && s.pingOk === false) emit(s, { type: "ping_regained", node: s.self, message: `Ping targets reachable again from ${s.self}` });
      if (!ok) emit(s, { type: "ping_lost", node: s.self, message: `No ping target reachable from ${s.self}: taking over nothing, releasing floating IPs and crontabs` });
      s.pingOk = ok;
    });
  }

  /**
   * An operator command typed on this node: standby and node maintenance go to the node they name,
   * everything else to every node. Changes of the operator register (move, clear, cluster maintenance)
   * get their generation here, so every node applies the same change.
   */
  command(typed: OperatorCommand, by: string, now: number): Step {
    return this.#step(now, (s, t) => {
      const refused = validateCommand(s, typed, t);
      if (refused !== null) {
        s.out.rejected = refused;
        return false;
      }
      const cmd = changesRegister(typed) ? { ...typed, gen: nextGen(s) } : typed;
      const forward = (to: string) => s.out.send.push({ to, body: { kind: "command", command: cmd, by } });
      if (cmd.op === "standby" || cmd.op === "unstandby" || (cmd.op === "maintenance" && cmd.node !== null)) {
        if (cmd.node === s.self) applyCommand(s, cmd, by, t);
        else forward(cmd.node);
      } else {
        applyCommand(s, cmd, by, t);
        for (const peer of s.peers.keys()) forward(peer);
      }
    });
  }

  shutdown(now: number): Step {
    return this.#step(now, (s) => {
      if (s.stopping) return;
      s.stopping = true;
      // In maintenance the daemon leaves everything running as it is (an upgrade restarts it in place).
      if (!inMaintenance(s)) {
        for (const r of heldInOrder(s)) planShutdownStop(s, r.id);
        for (const r of inflightInOrder(s)) if (r.inflight!.action.type === "start") planShutdownStop(s, r.id);
      }
      beatNow(s); // leaving heartbeat at once
    });
  }

  reload(cluster: Cluster, now: number): Step {
    return this.#step(now, (s) => {
      const cfg = cluster.nodes.find((n) => n.nodename === s.self);
      if (!cfg) {
        s.out.rejected = `Reloaded config has no node "${s.self}": keeping the running config`;
        return false;
      }
      s.cluster = cluster;
      s.cfg = cfg;
      const names = new Set(cluster.nodes.map((n) => n.nodename));
      for (const name of [...s.peers.keys()]) if (!names.has(name)) s.peers.delete(name);
      for (const name of names) if (name !== s.self && !s.peers.has(name)) s.peers.set(name, newPeerRecord(name));
      const old = s.slotById;
      setSlots(s, slotsOf(cluster));
      for (const [id, slot] of old) {
        const r = slotRec(s, id);
        if (!s.slotById.has(id) && (r.held || r.inflight)) s.orphans.set(id, slot);
      }
    });
  }

  /**
   * Every input takes the same path: the core's time, the change itself, a reconcile (skipped when the
   * change returns false: a refused command, a heartbeat that repeats the last one), then the Step.
   */
  #step(now: number, change: (s: CoreState, t: number) => boolean | void): Step {
    const s = this.#s;
    const t = beginCall(s, now);
    if (change(s, t) !== false) settle(s, t);
    const step = finishCall(s, t);
    const key = persistKey(s);
    if (key === this.#persisted) return step;
    this.#persisted = key;
    return { ...step, persist: persistedOf(s) };
  }

  /**
   * Ms from `now` until the first peer alive now reaches dead_time of silence (Infinity: none). The
   * driver ticks at that moment when it falls between two ticks, so a death is seen at dead_time,
   * not up to an interval later. Only time moves it earlier; a packet only moves it later.
   */
  nextDeathIn(now: number): number {
    const s = this.#s;
    const t = Math.max(now + s.skew, s.lastCall);
    const dead = s.cluster.server.deadTimeMs;
    let first = Number.POSITIVE_INFINITY;
    for (const p of s.peers.values()) {
      if (!isAlive(p, t, dead)) continue;
      const left = lastHeard(p)! + dead - t;
      if (left < first) first = left;
    }
    return first;
  }

  /** Every node's state as status shows it (config order), without building the rest of the status. */
  nodeStates(now: number): { node: string; self: boolean; state: PeerState }[] {
    const s = this.#s;
    const t = Math.max(now + s.skew, s.lastCall);
    return s.cluster.nodes.map((n) =>
      n.nodename === s.self
        ? { node: n.nodename, self: true, state: selfState(s) }
        : { node: n.nodename, self: false, state: peerState(s.peers.get(n.nodename)!, t, s.cluster.server.deadTimeMs, isConfigActive(s, n.nodename)) },
    );
  }

  status(now: number): ClusterStatus {
    const s = this.#s;
    const t = Math.max(now + s.skew, s.lastCall);
    return buildStatus({
      cluster: s.cluster,
      self: s.self,
      now: t,
      view: viewOf(s, t),
      peers: s.peers,
      slots: s.slots,
      records: s.records,
      quorum: s.quorum,
      pingOk: s.pingOk,
      selfState: selfState(s),
      uptimeMs: t - s.startedAt,
      deadTimeMs: s.cluster.server.deadTimeMs,
      configActive: (n) => isConfigActive(s, n),
      maintenance: { cluster: s.op.maintenance, self: s.maintenance },
      pins: operatorWire(s, t)?.pins ?? [],
      failures: failuresWire(s, t, true),
    });
  }
}
