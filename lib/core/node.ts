// Core: one node's whole decision logic. Time, messages and action results come in as arguments;
// heartbeats, actions and events leave as a Step. No clock, socket or process is touched here.
import { RESOURCE_KINDS, type Cluster, type NodeConfig, type ResourceKind } from "../config/model.ts";
import { isAlive, isDirectlyAlive, lastHeard, newPeer, peerState, stallThresholdMs, type Peer } from "./membership.ts";
import { eligible, place, type NodeView, type View } from "./placement.ts";
import { slotsOf } from "./slots.ts";
import { buildStatus } from "./status.ts";
import type {
  Action,
  ActionResult,
  ClusterEvent,
  ClusterStatus,
  HeartbeatBody,
  Hold,
  OperatorCommand,
  Outgoing,
  PeerMessage,
  PeerState,
  Slot,
  Step,
} from "./types.ts";

export { slotsOf } from "./slots.ts";

/** A slot this node holds. */
export interface HeldSlot {
  claim: number;
  /** When this node acquired it (monotonic ms). */
  since: number;
}

/** What an action in flight was for, so its result can be applied. */
interface Pending {
  readonly action: Action;
  /** start: the claim it will hold with. */
  readonly claim: number;
  /** A stop after max_failures (cleanup): its result does not count as a release. */
  readonly cleanup: boolean;
}

/** Derived sets of a peer's latest heartbeat, computed once per heartbeat. */
interface PeerFacts {
  readonly failed: ReadonlySet<string>;
  readonly stable: ReadonlySet<string>;
  readonly holds: ReadonlyMap<string, number>;
}

/**
 * An operator `move`, as this node remembers it. Every node keeps its own copy, so the rules that end a
 * pin read only what every node sees alike (liveness, holds and claims), never local history.
 */
interface Pin {
  readonly node: string;
  /** Highest claim seen per slot of the resource when the move was asked: a newer claim by another node ends the pin. */
  readonly base: ReadonlyMap<string, number>;
  readonly since: number;
  /** The pinned node has been seen holding it. */
  reached: boolean;
}

const EMPTY_FACTS: PeerFacts = { failed: new Set(), stable: new Set(), holds: new Map() };
/** Start rank: services and applications start together, after filesystems, before crontabs and IPs. */
const RANK: Record<ResourceKind, number> = { filesystem: 0, service: 1, application: 1, crontab: 2, ipaddr: 3 };

export class Core {
  #cluster: Cluster;
  readonly #self: string;
  #cfg: NodeConfig;
  #slots: Slot[] = [];
  #slotById = new Map<string, Slot>();
  /** Held slots that a reload removed from the config: stopped, then forgotten. */
  #orphans = new Map<string, Slot>();
  #peers = new Map<string, Peer>();
  #facts = new Map<string, PeerFacts>();
  readonly #startedAt: number;
  #lastCall: number;
  /** Added to `now` after a backwards clock jump, so our time never runs backwards. */
  #skew = 0;
  /** After a local stall: no start or stop before this time (let the queued heartbeats in first). */
  #holdOffUntil = 0;
  #lastBeat = Number.NEGATIVE_INFINITY;
  #holds = new Map<string, HeldSlot>();
  /** Highest claim seen per slot, from anyone, alive or not. */
  #seenClaim = new Map<string, number>();
  #inflight = new Map<string, Pending>();
  #fenceInflight = new Map<string, number>();
  #byId = new Map<number, Pending>();
  #nextId = 1;
  #probesIssued = false;
  #probing = new Set<string>();
  #ready = false;
  #standby: boolean;
  #failCount = new Map<string, number>();
  #failed = new Set<string>();
  #lastWatch = new Map<string, { ok: boolean; at: number; detail: string }>();
  #nextWatch = new Map<string, number>();
  /** No new start/stop of this slot before this time (after a failed start or stop). */
  #notBefore = new Map<string, number>();
  #pins = new Map<string, Pin>();
  #fenced = new Set<string>();
  #fenceRetryAt = new Map<string, number>();
  #quorum = false;
  #shownQuorum: boolean | null = null;
  #pingOk: boolean | null = null;
  #stopping = false;
  #shutdownStops = new Set<string>();
  /** Resources left running at shutdown by keep_* (own primaries). */
  #kept = new Set<string>();
  #stopped = false;
  /** Held here but desired elsewhere: since when (bounded wait for the new holder). */
  #waitingSince = new Map<string, number>();
  /** Exclusive slots held here while a stale duplicate existed: re-announce once it is gone. */
  #reannounce = new Set<string>();
  /** Duplicates already logged ("slot node"), so each is logged once per episode. */
  #dupShown = new Set<string>();
  /** Make-before-break starts: the nodes that held the slot when this node started it (a planned overlap). */
  #mbbFrom = new Map<string, Set<string>>();
  /** The last peer seen holding each slot: an owner taking a slot back from it is a failback, even after a break-before-make release. */
  #lastElsewhere = new Map<string, string>();
  /** Why each slot was last started here (takeover from a dead node, failback, ...), for the event. */
  #out: { send: Outgoing[]; actions: Action[]; events: ClusterEvent[]; reload: boolean; rejected: string | undefined } = {
    send: [],
    actions: [],
    events: [],
    reload: false,
    rejected: undefined,
  };

  constructor(cluster: Cluster, self: string, opts: { now: number; standby?: boolean }) {
    this.#cluster = cluster;
    this.#self = self;
    const cfg = cluster.nodes.find((n) => n.nodename === self);
    if (!cfg) throw new Error(`Node "${self}" is not in the cluster config`);
    this.#cfg = cfg;
    this.#startedAt = opts.now;
    this.#lastCall = opts.now;
    this.#standby = opts.standby ?? false;
    for (const n of cluster.nodes) if (n.nodename !== self) this.#peers.set(n.nodename, newPeer(n.nodename));
    this.#setSlots(slotsOf(cluster));
    this.#quorum = this.#computeQuorum(opts.now);
  }

  get stopped(): boolean {
    return this.#stopped;
  }
  get standby(): boolean {
    return this.#standby;
  }
  get self(): string {
    return this.#self;
  }

  // ---------------------------------------------------------------- entry points

  tick(now: number): Step {
    const t = this.#begin(now);
    if (!this.#probesIssued) this.#issueProbes();
    this.#settle(t);
    return this.#finish(t);
  }

  onMessage(msg: PeerMessage, now: number): Step {
    const t = this.#begin(now);
    if (msg.body.kind === "command") {
      this.#applyCommand(msg.body.command, msg.body.by, t, false);
      this.#settle(t);
      return this.#finish(t);
    }
    const p = this.#peers.get(msg.from);
    if (!p) return this.#finish(t);
    const body = msg.body;
    const wasAlive = isAlive(p, t, this.#deadTimeMs);
    if (p.incarnation !== null && p.incarnation !== msg.incarnation) {
      // A new daemon: what we knew of its holds and its stability belongs to the old one.
      p.hb = null;
      p.stableSince = null;
      // Reported once by #observe, as this peer's one node_alive for the new daemon.
      p.restarted = msg.incarnation;
      // The new daemon forgot any move to it (pins live in memory): forget it here too, so all nodes agree.
      for (const [rid, pin] of this.#pins) if (pin.node === p.name) this.#pins.delete(rid);
    }
    const prev = p.hb;
    p.incarnation = msg.incarnation;
    p.lastDirect = t;
    p.hb = body;
    const relevant = prev === null || !wasAlive || heartbeatChanged(prev, body);
    if (relevant || !sameList(prev.stable, body.stable)) this.#facts.set(p.name, factsOf(body));
    this.#relay(body, t);
    for (const h of body.holds) {
      this.#seeClaim(h.slot, h.claim);
      if (relevant && !this.#holds.has(h.slot)) this.#lastElsewhere.set(h.slot, p.name);
    }
    if (body.config !== this.#cluster.fingerprint) {
      if (p.shownConfig !== body.config) {
        p.shownConfig = body.config;
        this.#event({
          type: "config_mismatch",
          node: p.name,
          message: `Node ${p.name} runs a different config (fingerprint ${body.config.slice(0, 12)}, ours ${this.#cluster.fingerprint.slice(0, 12)}); placement uses ours`,
        });
      }
    } else p.shownConfig = null;
    if (relevant) this.#settle(t);
    return this.#finish(t);
  }

  onResult(r: ActionResult, now: number): Step {
    const t = this.#begin(now);
    const pending = this.#byId.get(r.id);
    if (pending) {
      this.#byId.delete(r.id);
      this.#applyResult(pending, r, t);
    }
    this.#settle(t);
    return this.#finish(t);
  }

  onPingTargets(ok: boolean, now: number): Step {
    const t = this.#begin(now);
    if (this.#pingOk !== ok) {
      if (ok && this.#pingOk === false) this.#event({ type: "ping_regained", node: this.#self, message: `Ping targets reachable again from ${this.#self}` });
      if (!ok) this.#event({ type: "ping_lost", node: this.#self, message: `No ping target reachable from ${this.#self}: taking over nothing, releasing floating IPs and crontabs` });
      this.#pingOk = ok;
    }
    this.#settle(t);
    return this.#finish(t);
  }

  command(cmd: OperatorCommand, by: string, now: number): Step {
    const t = this.#begin(now);
    const refused = this.#validate(cmd, t);
    if (refused !== null) {
      this.#out.rejected = refused;
      return this.#finish(t);
    }
    const concernsSelf = (cmd.op === "standby" || cmd.op === "unstandby") && cmd.node === this.#self;
    const forward = (to: string) => this.#out.send.push({ to, body: { kind: "command", command: cmd, by } });
    if (cmd.op === "standby" || cmd.op === "unstandby") {
      if (concernsSelf) this.#applyCommand(cmd, by, t, true);
      else forward(cmd.node);
    } else {
      this.#applyCommand(cmd, by, t, true);
      for (const peer of this.#peers.keys()) forward(peer);
    }
    this.#settle(t);
    return this.#finish(t);
  }

  shutdown(now: number): Step {
    const t = this.#begin(now);
    if (!this.#stopping) {
      this.#stopping = true;
      for (const [id] of this.#holds) this.#planShutdownStop(id);
      for (const [id, p] of this.#inflight) if (p.action.type === "start") this.#planShutdownStop(id);
      this.#lastBeat = Number.NEGATIVE_INFINITY; // leaving heartbeat at once
    }
    this.#settle(t);
    return this.#finish(t);
  }

  reload(cluster: Cluster, now: number): Step {
    const t = this.#begin(now);
    const cfg = cluster.nodes.find((n) => n.nodename === this.#self);
    if (!cfg) {
      this.#out.rejected = `Reloaded config has no node "${this.#self}": keeping the running config`;
      return this.#finish(t);
    }
    this.#cluster = cluster;
    this.#cfg = cfg;
    const names = new Set(cluster.nodes.map((n) => n.nodename));
    for (const name of [...this.#peers.keys()]) if (!names.has(name)) this.#peers.delete(name);
    for (const name of names) if (name !== this.#self && !this.#peers.has(name)) this.#peers.set(name, newPeer(name));
    const old = this.#slotById;
    this.#setSlots(slotsOf(cluster));
    for (const [id, slot] of old) if (!this.#slotById.has(id) && (this.#holds.has(id) || this.#inflight.has(id))) this.#orphans.set(id, slot);
    this.#settle(t);
    return this.#finish(t);
  }

  status(now: number): ClusterStatus {
    const t = Math.max(now + this.#skew, this.#lastCall);
    return buildStatus({
      cluster: this.#cluster,
      self: this.#self,
      now: t,
      view: this.#view(t),
      peers: this.#peers,
      facts: this.#facts,
      slots: this.#slots,
      holds: this.#holds,
      quorum: this.#quorum,
      pingOk: this.#pingOk,
      selfState: this.#selfState(),
      uptimeMs: t - this.#startedAt,
      failCount: this.#failCount,
      failed: this.#failed,
      lastWatch: this.#lastWatch,
      deadTimeMs: this.#deadTimeMs,
      configActive: (n) => this.#configActive(n),
    });
  }

  // ---------------------------------------------------------------- time and membership

  get #deadTimeMs(): number {
    return this.#cluster.server.deadTimeMs;
  }
  get #intervalMs(): number {
    return this.#cluster.server.keepAliveIntervalMs;
  }

  /** Clamp the clock (a backwards jump counts as no time passed) and apply the local-health guard. */
  #begin(now: number): number {
    // A clock that went backwards is re-based: the jump counts as no time passed, and time moves on from there.
    if (now + this.#skew < this.#lastCall) this.#skew = this.#lastCall - now;
    const t = now + this.#skew;
    const gap = t - this.#lastCall;
    if (gap > stallThresholdMs(this.#deadTimeMs, this.#intervalMs)) {
      // Our own loop was stalled: silence during the stall says nothing about the peers, so every
      // peer that was alive before it gets a fresh grace instead of being declared dead now.
      for (const p of this.#peers.values()) {
        if (isAlive(p, this.#lastCall, this.#deadTimeMs)) p.lastDirect = t;
      }
      // What queued up during the stall (heartbeats in the socket buffer) is read before acting on the old view.
      this.#holdOffUntil = t + 2 * this.#intervalMs;
      this.#event({ type: "local_stall", node: this.#self, message: `Node ${this.#self} was stalled for ${Math.round(gap)} ms: peers get a fresh grace period instead of being declared dead` });
    }
    this.#lastCall = t;
    return t;
  }

  /** One-hop relay: a peer that heard X recently is evidence that X is up. */
  #relay(body: HeartbeatBody, t: number): void {
    const heard = body.heard;
    if (!heard || heard.length !== body.alive.length) return;
    for (let i = 0; i < body.alive.length; i++) {
      const name = body.alive[i]!;
      const q = this.#peers.get(name);
      const age = heard[i]!;
      if (!q || !(age >= 0) || age >= this.#deadTimeMs) continue;
      // A peer that left or restarted is only believed when heard directly.
      if (q.hb === null || q.hb.leaving) continue;
      const at = t - age;
      if (q.lastIndirect === null || at > q.lastIndirect) q.lastIndirect = at;
    }
  }

  #configActive(name: string): boolean {
    return this.#activeOf.get(name) ?? false;
  }

  /** node_is_active of a peer per this node's config. */
  #activeOf = new Map<string, boolean>();

  #computeQuorum(t: number): boolean {
    if (this.#cluster.server.quorum === "none") return true;
    let votes = this.#stopping ? 0 : 1;
    for (const p of this.#peers.values()) if (isAlive(p, t, this.#deadTimeMs)) votes++;
    return votes > this.#cluster.nodes.length / 2;
  }

  #selfState(): PeerState {
    if (this.#stopping) return "leaving";
    if (!this.#cfg.active) return "inactive";
    if (this.#standby) return "standby";
    if (!this.#ready) return "starting";
    return "alive";
  }

  /** Peer state transitions, stability, quorum and readiness. */
  #observe(t: number): void {
    for (const p of this.#peers.values()) {
      const alive = isAlive(p, t, this.#deadTimeMs);
      if (alive && p.hb?.ready) p.stableSince ??= t;
      else p.stableSince = null;
      if (alive) this.#fenced.delete(p.name);
      const state = peerState(p, t, this.#deadTimeMs, this.#configActive(p.name));
      if (p.restarted !== null) {
        this.#event({ type: "node_alive", node: p.name, message: `Node ${p.name} restarted (incarnation ${p.restarted})` });
        p.restarted = null;
        p.shown = state;
        continue;
      }
      if (state === p.shown) continue;
      const before = p.shown;
      p.shown = state;
      const ev = this.#peerEvent(p, state, before, t);
      if (ev) this.#event(ev);
    }
    const q = this.#computeQuorum(t);
    this.#quorum = q;
    if (this.#ready && this.#cluster.server.quorum === "majority" && this.#shownQuorum !== q) {
      if (this.#shownQuorum !== null || !q) {
        const alive = [...this.#peers.values()].filter((p) => isAlive(p, t, this.#deadTimeMs)).length + 1;
        this.#event(
          q
            ? { type: "quorum_regained", node: this.#self, message: `Quorum regained (${alive} of ${this.#cluster.nodes.length} nodes alive)` }
            : { type: "quorum_lost", node: this.#self, message: `Quorum lost (${alive} of ${this.#cluster.nodes.length} nodes alive): taking over nothing, releasing floating IPs and crontabs` },
        );
      }
      this.#shownQuorum = q;
    }
    if (!this.#ready && this.#probesIssued && this.#probing.size === 0) {
      const heardAll = [...this.#peers.values()].every((p) => p.lastDirect !== null);
      if (heardAll || t - this.#startedAt >= this.#deadTimeMs) {
        this.#ready = true;
        // Not node_alive: that event (and its alert) is about peers. Readiness is when this node starts acquiring.
        this.#event({
          type: "node_ready",
          node: this.#self,
          message: heardAll
            ? `Node ${this.#self} is ready (heard every peer after ${Math.round(t - this.#startedAt)} ms)`
            : `Node ${this.#self} is ready (initial wait of ${this.#deadTimeMs} ms over; not heard: ${[...this.#peers.values()].filter((p) => p.lastDirect === null).map((p) => p.name).join(", ")})`,
        });
      }
    }
  }

  #peerEvent(p: Peer, state: PeerState, before: PeerState | "unknown", t: number): ClusterEvent | null {
    const n = p.name;
    const h = lastHeard(p);
    switch (state) {
      case "dead":
        return { type: "node_dead", node: n, message: `Node ${n} is dead (no heartbeat for ${h === null ? "ever" : `${Math.round(t - h)} ms`})` };
      case "suspect":
        return { type: "node_suspect", node: n, message: `Node ${n} is suspect (no heartbeat for ${h === null ? "ever" : `${Math.round(t - h)} ms`})` };
      case "leaving":
        return { type: "node_leaving", node: n, message: `Node ${n} is stopping: taking over its resources now` };
      case "inactive":
        return { type: "node_inactive", node: n, message: `Node ${n} is inactive (node_is_active = 0): its resources go to active nodes` };
      case "standby":
        return { type: "node_standby", node: n, message: `Node ${n} is in standby: its resources go to other nodes` };
      case "alive":
        // suspect -> alive is no transition worth a word; starting -> alive was already reported as alive.
        if (before === "suspect" || before === "starting") return null;
        return { type: "node_alive", node: n, message: before === "dead" ? `Node ${n} is back on line` : `Node ${n} is alive` };
      case "starting":
        return before === "unknown" || before === "dead" ? { type: "node_alive", node: n, message: `Node ${n} is alive and starting` } : null;
    }
  }

  // ---------------------------------------------------------------- the view placement reads

  #stableSet(t: number): Set<string> {
    const out = new Set<string>();
    for (const p of this.#peers.values()) if (p.stableSince !== null && t - p.stableSince >= this.#cluster.server.failbackDelayMs) out.add(p.name);
    return out;
  }

  #view(t: number): View {
    const nodes = new Map<string, NodeView>();
    const holds = new Map<string, number>();
    for (const [id, h] of this.#holds) holds.set(id, h.claim);
    nodes.set(this.#self, {
      alive: !this.#stopping,
      leaving: this.#stopping,
      ready: this.#ready,
      active: this.#cfg.active,
      standby: this.#standby,
      quorum: this.#quorum,
      pingOk: this.#pingOk,
      failed: this.#failed,
      stable: this.#stableSet(t),
      holds,
    });
    for (const p of this.#peers.values()) {
      const hb = p.hb;
      const f = this.#facts.get(p.name) ?? EMPTY_FACTS;
      nodes.set(p.name, {
        alive: hb !== null && isAlive(p, t, this.#deadTimeMs),
        leaving: hb?.leaving ?? false,
        ready: hb?.ready ?? false,
        active: (hb?.active ?? false) && (this.#activeOf.get(p.name) ?? false),
        standby: hb?.standby ?? false,
        quorum: hb?.quorum ?? false,
        pingOk: hb?.pingOk ?? null,
        failed: f.failed,
        stable: f.stable,
        holds: f.holds,
      });
    }
    const pins = new Map<string, string>();
    for (const [rid, pin] of this.#pins) pins.set(rid, pin.node);
    return { nodes, autoFailback: this.#cluster.server.autoFailback, pins };
  }

  // ---------------------------------------------------------------- reconcile

  #settle(t: number): void {
    this.#observe(t);
    if (this.#stopping) {
      this.#reconcileShutdown(t);
      return;
    }
    if (!this.#ready) return;
    if (t < this.#holdOffUntil) return;
    let view = this.#view(t);
    if (this.#clearPins(view, t)) view = this.#view(t);
    for (const [id, slot] of this.#orphans) {
      if (this.#inflight.has(id)) continue;
      if (this.#holds.has(id)) this.#issue(slot, "stop", "removed from the config", t);
      else this.#orphans.delete(id);
    }
    for (const slot of this.#slots) this.#reconcileSlot(slot, view, t);
  }

  /**
   * A pin lasts while its target can hold the resource and nobody overrode it. It ends, on every node alike:
   * - when the target cannot hold it (dead, stalled past dead_time, standby, failed, no quorum);
   * - when another node holds it with a claim newer than the move (it took it over while the target was
   *   gone: the claim winner keeps it, so a target that resumes after a stall releases instead of clinging);
   * - when the target has not been seen holding it in 2 x dead_time + the kind's action timeout (it never
   *   got the command, or could not act on it): the old holder must not wait for a move that never comes.
   * Returns true when a pin ended.
   */
  #clearPins(view: View, t: number): boolean {
    let ended = false;
    for (const [rid, pin] of this.#pins) {
      const all = this.#slots.filter((s) => s.resource === rid);
      const slots = all.filter((s) => s.candidates.includes(pin.node));
      let drop = slots.length === 0 || !slots.some((s) => eligible(s, pin.node, view));
      for (const s of all) {
        if (drop) break;
        for (const [name, n] of view.nodes) {
          const claim = n.holds.get(s.id);
          if (name !== pin.node && n.alive && claim !== undefined && claim > (pin.base.get(s.id) ?? 0)) drop = true;
        }
      }
      if (!drop && !pin.reached) {
        if (slots.some((s) => view.nodes.get(pin.node)?.holds.has(s.id))) pin.reached = true;
        else if (t - pin.since > 2 * this.#deadTimeMs + Math.max(...slots.map((s) => this.#cluster.server.actionTimeoutMs[s.kind]))) drop = true;
      }
      if (drop) {
        this.#pins.delete(rid);
        ended = true;
      }
    }
    return ended;
  }

  #reconcileSlot(slot: Slot, view: View, t: number): void {
    const id = slot.id;
    const held = this.#holds.get(id);
    if (!held && !this.#inflight.has(id) && !slot.candidates.includes(this.#self)) return; // not ours to run
    const selfView = view.nodes.get(this.#self)!;
    const pl = place(slot, view);
    let desired = pl.desired;
    // The claim winner of a duplicate always wins: a node that another eligible node outclaims releases,
    // whatever its own placement says (views and pins can differ for a while; claims cannot).
    if (desired === this.#self && held && pl.current !== null && pl.current !== this.#self) desired = pl.current;
    if (held && slot.exclusive) this.#noteDuplicates(slot, held, view, desired);
    if (this.#inflight.has(id)) return;
    if (desired === this.#self) {
      this.#waitingSince.delete(id);
      if (!held) {
        if ((this.#notBefore.get(id) ?? 0) > t) return;
        if (slot.kind === "crontab" && this.#otherHolder(slot, view, true)) return; // released before it starts here
        if (this.#startBlocked(slot)) return;
        if (!this.#fenceGate(slot, view, t)) return;
        // Make-before-break: whoever holds it now is the planned overlap, not a duplicate to report.
        const from = [...view.nodes].filter(([name, n]) => name !== this.#self && n.alive && n.holds.has(id)).map(([name]) => name);
        if (from.length > 0) this.#mbbFrom.set(id, new Set(from));
        else this.#mbbFrom.delete(id);
        this.#issue(slot, "start", this.#startReason(slot, view, t), t);
        return;
      }
      if (held.claim === 0) {
        // A leftover found by the start-up probe: take a real claim (and re-announce an IP).
        if (!this.#fenceGate(slot, view, t)) return;
        this.#issue(slot, "start", "found running at start-up, taking a claim", t);
        return;
      }
      if (this.#reannounce.has(id) && !this.#otherHolder(slot, view, false)) {
        this.#reannounce.delete(id);
        this.#issue(slot, "start", "duplicate resolved, announcing again", t);
        return;
      }
      this.#maybeWatch(slot, t);
      return;
    }
    if (!held) {
      this.#waitingSince.delete(id);
      return;
    }
    let stopNow = slot.kind === "crontab" || desired === null;
    let why = desired === null ? "no eligible node" : `moving to ${desired}`;
    if (!stopNow && view.nodes.get(desired!)?.holds.has(id)) stopNow = true;
    if (!stopNow && slot.exclusive && !(selfView.quorum && selfView.pingOk !== false)) {
      stopNow = true;
      why = "no quorum";
    }
    if (!stopNow) {
      const since = this.#waitingSince.get(id) ?? t;
      this.#waitingSince.set(id, since);
      if (t - since >= 2 * this.#deadTimeMs) {
        stopNow = true;
        why = `${desired} did not take it over within ${2 * this.#deadTimeMs} ms`;
      }
    }
    if (stopNow && (this.#notBefore.get(id) ?? 0) <= t && !this.#stopBlocked(slot)) {
      this.#issue(slot, "stop", why, t);
      return;
    }
    this.#maybeWatch(slot, t);
  }

  /** Another node (alive, or leaving but still heard) says it holds the slot. */
  #otherHolder(slot: Slot, view: View, includeLeaving: boolean): boolean {
    for (const [name, n] of view.nodes) {
      if (name === this.#self || !n.holds.has(slot.id)) continue;
      if (n.alive) return true;
      if (includeLeaving && n.leaving) {
        const p = this.#peers.get(name);
        if (p && p.lastDirect !== null && this.#lastCall - p.lastDirect < this.#deadTimeMs) return true;
      }
    }
    return false;
  }

  /**
   * Two holders of an exclusive slot. A planned overlap (make-before-break: this node started it while the
   * other held it, or this node was already handing it to the other) is no duplicate: it is not reported
   * and needs no re-announce. An unplanned one (a healed partition, a stale restart, a resumed node) is
   * reported once, and the winner announces the resource again once the loser has released it.
   */
  #noteDuplicates(slot: Slot, held: HeldSlot, view: View, desired: string | null): void {
    for (const name of slot.candidates) {
      const n = view.nodes.get(name);
      if (name === this.#self || !n) continue;
      const key = `${slot.id} ${name}`;
      const claim = n.alive ? n.holds.get(slot.id) : undefined;
      if (claim === undefined) {
        this.#dupShown.delete(key);
        this.#mbbFrom.get(slot.id)?.delete(name);
        continue;
      }
      const wins = claim < held.claim || (claim === held.claim && slot.candidates.indexOf(this.#self) < slot.candidates.indexOf(name));
      const planned = wins ? (this.#mbbFrom.get(slot.id)?.has(name) ?? false) : this.#waitingSince.has(slot.id) && desired === name;
      if (!this.#dupShown.has(key)) {
        this.#dupShown.add(key);
        if (!planned)
          this.#event({
            type: "duplicate_holder",
            node: name,
            slot: slot.id,
            resource: slot.resource,
            message: `${slot.resource} is held by ${this.#self} (claim ${held.claim}) and by ${name} (claim ${claim}): the lower claim releases it`,
          });
      }
      if (wins && !planned) this.#reannounce.add(slot.id);
    }
  }

  /** Start order on a node: a kind waits while an earlier kind is still starting here. */
  #startBlocked(slot: Slot): boolean {
    for (const p of this.#inflight.values()) {
      if (p.action.type !== "start") continue;
      const other = this.#slotById.get((p.action as { slot: string }).slot);
      if (other && RANK[other.kind] < RANK[slot.kind]) return true;
    }
    return false;
  }

  /** Stop order: reverse of start. */
  #stopBlocked(slot: Slot): boolean {
    for (const p of this.#inflight.values()) {
      if (p.action.type !== "stop") continue;
      const other = this.#slotById.get((p.action as { slot: string }).slot);
      if (other && RANK[other.kind] > RANK[slot.kind]) return true;
    }
    return false;
  }

  /** Fencing before taking an exclusive resource from a dead peer (fence_script configured). */
  #fenceGate(slot: Slot, view: View, t: number): boolean {
    if (!this.#cluster.server.fenceScript || !slot.exclusive) return true;
    const needed = new Set<string>();
    const consider = (name: string) => {
      if (name === this.#self || this.#fenced.has(name)) return;
      const n = view.nodes.get(name);
      const p = this.#peers.get(name);
      if (!p) return;
      if (n?.alive) return;
      if (p.hb?.leaving) return; // a graceful stop released its exclusive resources
      needed.add(name);
    };
    consider(slot.owner);
    for (const [name, n] of view.nodes) if (n.holds.has(slot.id)) consider(name);
    for (const node of needed) {
      if (this.#fenceInflight.has(node) || (this.#fenceRetryAt.get(node) ?? 0) > t) continue;
      const action: Action = { id: this.#nextId++, type: "fence", node, reason: `before taking over ${slot.resource}` };
      const pending: Pending = { action, claim: 0, cleanup: false };
      this.#byId.set(action.id, pending);
      this.#fenceInflight.set(node, action.id);
      this.#out.actions.push(action);
    }
    return needed.size === 0;
  }

  #startReason(slot: Slot, view: View, t: number): string {
    if (slot.owner === this.#self) {
      const other = [...view.nodes].find(([name, n]) => name !== this.#self && n.alive && n.holds.has(slot.id));
      if (other) return `failback from ${other[0]}`;
      // Break-before-make (crontabs): the backup released first, but it is a failback all the same.
      const last = this.#lastElsewhere.get(slot.id);
      return last !== undefined ? `failback from ${last}` : "primary";
    }
    const owner = this.#peers.get(slot.owner);
    const ownerState = owner ? peerState(owner, t, this.#deadTimeMs, this.#configActive(slot.owner)) : "dead";
    if (this.#pins.get(slot.resource)?.node === this.#self) return "moved by operator";
    return `node ${slot.owner} is ${ownerState}`;
  }

  #maybeWatch(slot: Slot, t: number): void {
    const due = this.#nextWatch.get(slot.id);
    if (due === undefined) {
      this.#nextWatch.set(slot.id, t + this.#checkMs(slot));
      return;
    }
    if (due <= t) this.#issue(slot, "watch", "periodic check", t);
  }

  #checkMs(slot: Slot): number {
    return Math.max(this.#intervalMs, this.#cfg.checkMs[slot.kind]);
  }

  #issue(slot: Slot, type: "start" | "stop" | "watch" | "probe", reason: string, t: number, cleanup = false): void {
    const id = slot.id;
    if (type === "start") {
      const claim = (this.#seenClaim.get(id) ?? 0) + 1;
      if (this.#sharedOnNode(slot)) {
        // The same resource already runs here for another slot: hold this one too without a second start.
        this.#acquired(slot, claim, reason, t);
        return;
      }
      this.#push(slot, type, reason, claim, cleanup);
      return;
    }
    if (type === "stop" && this.#sharedOnNode(slot) && !cleanup) {
      // Another slot of the same resource still wants it here: release this slot without stopping it.
      this.#released(slot, reason, t);
      return;
    }
    if (type === "watch") this.#nextWatch.set(id, t + this.#checkMs(slot));
    this.#push(slot, type, reason, 0, cleanup);
  }

  #push(slot: Slot, type: "start" | "stop" | "watch" | "probe", reason: string, claim: number, cleanup: boolean): void {
    const action: Action = { id: this.#nextId++, type, slot: slot.id, reason };
    const pending: Pending = { action, claim, cleanup };
    this.#byId.set(action.id, pending);
    this.#inflight.set(slot.id, pending);
    this.#out.actions.push(action);
  }

  /** A non-exclusive resource held here through another slot (a service primary here and backup of a peer). */
  #sharedOnNode(slot: Slot): boolean {
    if (slot.exclusive) return false;
    for (const [id] of this.#holds) {
      if (id === slot.id) continue;
      const other = this.#slotById.get(id);
      if (other && other.resource === slot.resource && !this.#shutdownStops.has(id)) return true;
    }
    return false;
  }

  #issueProbes(): void {
    this.#probesIssued = true;
    const seen = new Set<string>();
    for (const slot of this.#slots) {
      if (!slot.candidates.includes(this.#self) || seen.has(slot.id)) continue;
      seen.add(slot.id);
      this.#probing.add(slot.id);
      this.#push(slot, "probe", "start-up: is it still here from an earlier run?", 0, false);
    }
  }

  // ---------------------------------------------------------------- results

  #applyResult(p: Pending, r: ActionResult, t: number): void {
    const a = p.action;
    if (a.type === "fence") {
      this.#fenceInflight.delete(a.node);
      if (r.ok) {
        this.#fenced.add(a.node);
        this.#event({ type: "fence", node: a.node, message: `Fenced node ${a.node} (${r.detail})` });
      } else {
        this.#fenceRetryAt.set(a.node, t + this.#deadTimeMs);
        this.#event({ type: "fence", node: a.node, message: `Fencing node ${a.node} failed (${r.detail}): not taking over its floating IPs and crontabs` });
      }
      return;
    }
    if (this.#inflight.get(a.slot) === p) this.#inflight.delete(a.slot);
    const slot = this.#slotById.get(a.slot) ?? this.#orphans.get(a.slot);
    if (!slot) return;
    switch (a.type) {
      case "probe":
        this.#probing.delete(a.slot);
        if (r.ok && !this.#holds.has(a.slot)) {
          this.#holds.set(a.slot, { claim: 0, since: t });
          this.#event({ type: "acquire", node: this.#self, slot: a.slot, resource: slot.resource, message: `${slot.resource} found running on ${this.#self} at start-up (left by an earlier run)` });
        }
        return;
      case "start":
        if (r.ok) {
          this.#acquired(slot, p.claim, a.reason, t);
          if (this.#stopping) this.#planShutdownStop(a.slot);
        } else {
          this.#shutdownStops.delete(a.slot);
          this.#notBefore.set(a.slot, t + this.#checkMs(slot));
          this.#countFailure(slot, `start failed: ${r.detail}`, t);
        }
        return;
      case "stop":
        this.#shutdownStops.delete(a.slot);
        if (r.ok) {
          if (this.#holds.has(a.slot) && !p.cleanup) this.#released(slot, a.reason, t);
          else this.#forget(a.slot);
        } else {
          this.#notBefore.set(a.slot, t + this.#intervalMs * 4);
          this.#event({ type: "release", node: this.#self, slot: a.slot, resource: slot.resource, message: `Stopping ${slot.resource} on ${this.#self} failed (${r.detail}): trying again` });
        }
        if (this.#orphans.has(a.slot) && !this.#holds.has(a.slot)) this.#orphans.delete(a.slot);
        return;
      case "watch": {
        if (!this.#holds.has(a.slot)) return;
        this.#lastWatch.set(a.slot, { ok: r.ok, at: t, detail: r.detail });
        if (r.ok) {
          if ((this.#failCount.get(a.slot) ?? 0) > 0) {
            this.#failCount.set(a.slot, 0);
            this.#event({ type: "resource_recovered", node: this.#self, slot: a.slot, resource: slot.resource, message: `${slot.resource} on ${this.#self} is healthy again` });
          }
          return;
        }
        if (this.#countFailure(slot, `watch failed: ${r.detail}`, t)) return;
        if (!this.#stopping) this.#issue(slot, "start", `restart after failed watch (${r.detail})`, t);
        return;
      }
    }
  }

  /** Counts a failed watch or start; returns true when the slot is now failed on this node. */
  #countFailure(slot: Slot, what: string, t: number): boolean {
    const n = (this.#failCount.get(slot.id) ?? 0) + 1;
    this.#failCount.set(slot.id, n);
    const max = this.#cluster.server.maxFailures;
    if (n < max) {
      this.#event({ type: "resource_failed", node: this.#self, slot: slot.id, resource: slot.resource, message: `${slot.resource} on ${this.#self}: ${what} (${n} of ${max})` });
      return false;
    }
    if (!this.#failed.has(slot.id)) {
      this.#failed.add(slot.id);
      this.#event({
        type: "resource_failed",
        node: this.#self,
        slot: slot.id,
        resource: slot.resource,
        message: `${slot.resource} failed too often on ${this.#self} (${what}, ${n} failures): handing it to the next node`,
      });
    }
    if (!this.#stopping && !this.#inflight.has(slot.id)) this.#issue(slot, "stop", "failed too often", t, !this.#holds.has(slot.id));
    return true;
  }

  #acquired(slot: Slot, claim: number, reason: string, t: number): void {
    const had = this.#holds.get(slot.id);
    this.#holds.set(slot.id, { claim, since: had?.since ?? t });
    this.#seeClaim(slot.id, claim);
    this.#waitingSince.delete(slot.id);
    this.#lastElsewhere.delete(slot.id);
    if (!this.#nextWatch.has(slot.id) || !had) this.#nextWatch.set(slot.id, t + this.#checkMs(slot));
    this.#lastBeat = Number.NEGATIVE_INFINITY; // tell peers now: the old holder releases on this
    if (had && had.claim > 0) return; // a restart in place or a re-announce, not a new acquisition
    const backup = slot.owner !== this.#self;
    const type = backup ? "takeover" : reason.startsWith("failback") ? "failback" : "acquire";
    const message = backup
      ? `${reason.startsWith("node ") ? `Node ${reason.slice(5)}, t` : "T"}aking over ${slot.resource} from ${slot.owner} on ${this.#self}${reason.startsWith("node ") ? "" : ` (${reason})`}`
      : type === "failback"
        ? `${slot.resource} is back on its primary ${this.#self} (${reason})`
        : `${slot.resource} started on ${this.#self} (${reason})`;
    this.#event({ type, node: this.#self, slot: slot.id, resource: slot.resource, message });
  }

  #released(slot: Slot, reason: string, t: number): void {
    this.#forget(slot.id);
    this.#lastBeat = Number.NEGATIVE_INFINITY;
    void t;
    this.#event({ type: "release", node: this.#self, slot: slot.id, resource: slot.resource, message: `Released ${slot.resource} on ${this.#self} (${reason})` });
  }

  #forget(id: string): void {
    this.#holds.delete(id);
    this.#nextWatch.delete(id);
    this.#lastWatch.delete(id);
    this.#reannounce.delete(id);
    this.#waitingSince.delete(id);
    this.#mbbFrom.delete(id);
  }

  #seeClaim(slot: string, claim: number): void {
    if (claim > (this.#seenClaim.get(slot) ?? 0)) this.#seenClaim.set(slot, claim);
  }

  // ---------------------------------------------------------------- shutdown

  #planShutdownStop(id: string): void {
    const slot = this.#slotById.get(id) ?? this.#orphans.get(id);
    if (!slot) return;
    const keep =
      (slot.kind === "service" && this.#cfg.keepServices) ||
      (slot.kind === "application" && this.#cfg.keepApplications) ||
      (slot.kind === "filesystem" && this.#cfg.keepFilesystems);
    if (!slot.exclusive && keep && slot.owner === this.#self) {
      this.#kept.add(slot.resource);
      this.#forget(id); // keep_*: its own primary stays running after the daemon stops
      return;
    }
    this.#shutdownStops.add(id);
  }

  #reconcileShutdown(t: number): void {
    for (const id of [...this.#shutdownStops]) {
      if (this.#inflight.has(id)) continue;
      if (!this.#holds.has(id)) {
        this.#shutdownStops.delete(id);
        continue;
      }
      const slot = this.#slotById.get(id) ?? this.#orphans.get(id)!;
      if (this.#kept.has(slot.resource)) {
        // The same service also runs here as this node's own kept primary: forget the backup slot, stop nothing.
        this.#forget(id);
        this.#shutdownStops.delete(id);
        continue;
      }
      const later = [...this.#shutdownStops].some((o) => {
        const s = this.#slotById.get(o) ?? this.#orphans.get(o);
        return s !== undefined && RANK[s.kind] > RANK[slot.kind];
      });
      if (later) continue;
      this.#push(slot, "stop", "shutting down", 0, false);
    }
    const busy = [...this.#inflight.values()].some((p) => p.action.type === "start" || p.action.type === "stop");
    if (!this.#stopped && this.#shutdownStops.size === 0 && !busy) {
      this.#stopped = true;
      this.#lastBeat = Number.NEGATIVE_INFINITY; // final leaving heartbeat with nothing held
    }
    void t;
  }

  // ---------------------------------------------------------------- operator commands

  #validate(cmd: OperatorCommand, t: number): string | null {
    const known = (n: string) => this.#cluster.nodes.some((c) => c.nodename === n);
    const resource = (r: string) => this.#slots.some((s) => s.resource === r);
    switch (cmd.op) {
      case "standby":
      case "unstandby":
        return known(cmd.node) ? null : `Unknown node "${cmd.node}"`;
      case "cleanup":
        return resource(cmd.resource) ? null : `Unknown resource "${cmd.resource}"`;
      case "move": {
        if (!resource(cmd.resource)) return `Unknown resource "${cmd.resource}"`;
        if (!known(cmd.node)) return `Unknown node "${cmd.node}"`;
        const slots = this.#slots.filter((s) => s.resource === cmd.resource && s.candidates.includes(cmd.node));
        if (slots.length === 0) return `Node "${cmd.node}" cannot hold "${cmd.resource}": it is neither its primary nor a backup`;
        const view = this.#view(t);
        if (!slots.some((s) => eligible(s, cmd.node, view))) return `Node "${cmd.node}" cannot take "${cmd.resource}" now (not alive, not ready, inactive, standby, failed there or without quorum)`;
        return null;
      }
      case "reload":
        return null;
    }
  }

  #applyCommand(cmd: OperatorCommand, by: string, t: number, local: boolean): void {
    void local;
    switch (cmd.op) {
      case "standby":
      case "unstandby": {
        if (cmd.node !== this.#self) return;
        const on = cmd.op === "standby";
        if (this.#standby === on) return;
        this.#standby = on;
        this.#lastBeat = Number.NEGATIVE_INFINITY;
        this.#event({ type: "node_standby", node: this.#self, message: on ? `Node ${this.#self} put in standby by ${by}` : `Node ${this.#self} leaves standby (by ${by})` });
        return;
      }
      case "move": {
        const base = new Map<string, number>();
        for (const s of this.#slots) if (s.resource === cmd.resource) base.set(s.id, this.#seenClaim.get(s.id) ?? 0);
        this.#pins.set(cmd.resource, { node: cmd.node, base, since: t, reached: false });
        this.#event({ type: "acquire", resource: cmd.resource, node: cmd.node, message: `Operator ${by} moves ${cmd.resource} to ${cmd.node}` });
        return;
      }
      case "cleanup":
        for (const s of this.#slots) {
          if (s.resource !== cmd.resource) continue;
          this.#failCount.delete(s.id);
          this.#notBefore.delete(s.id);
          if (this.#failed.delete(s.id))
            this.#event({ type: "resource_recovered", node: this.#self, slot: s.id, resource: s.resource, message: `Operator ${by} cleared failures of ${s.resource} on ${this.#self}` });
        }
        this.#lastBeat = Number.NEGATIVE_INFINITY;
        return;
      case "reload":
        this.#out.reload = true;
        return;
    }
    void t;
  }

  // ---------------------------------------------------------------- output

  #event(e: ClusterEvent): void {
    this.#out.events.push(e);
  }

  #heartbeat(t: number): HeartbeatBody {
    const alive: string[] = [];
    const heard: number[] = [];
    for (const p of this.#peers.values()) {
      if (isDirectlyAlive(p, t, this.#deadTimeMs)) {
        alive.push(p.name);
        heard.push(t - p.lastDirect!);
      }
    }
    const holds: Hold[] = [];
    for (const [id, h] of this.#holds) {
      const slot = this.#slotById.get(id) ?? this.#orphans.get(id);
      holds.push({ slot: id, role: slot?.owner === this.#self ? "primary" : "backup", claim: h.claim, heldMs: t - h.since });
    }
    return {
      kind: "heartbeat",
      config: this.#cluster.fingerprint,
      active: this.#cfg.active,
      standby: this.#standby,
      ready: this.#ready,
      leaving: this.#stopping,
      quorum: this.#quorum,
      pingOk: this.#pingOk,
      alive,
      heard,
      stable: [...this.#stableSet(t)],
      holds,
      failed: [...this.#failed],
      uptimeMs: t - this.#startedAt,
    };
  }

  #finish(t: number): Step {
    // A timer that fires a little early must not skip a beat: the server ticks once per interval.
    if (t - this.#lastBeat >= this.#intervalMs * 0.8) {
      this.#lastBeat = t;
      const body = this.#heartbeat(t);
      for (const name of this.#peers.keys()) this.#out.send.push({ to: name, body });
    }
    const o = this.#out;
    this.#out = { send: [], actions: [], events: [], reload: false, rejected: undefined };
    const step: { send: Outgoing[]; actions: Action[]; events: ClusterEvent[]; reloadRequested?: boolean; rejected?: string } = {
      send: o.send,
      actions: o.actions,
      events: o.events,
    };
    if (o.reload) step.reloadRequested = true;
    if (o.rejected !== undefined) step.rejected = o.rejected;
    return step;
  }

  #setSlots(slots: Slot[]): void {
    this.#activeOf = new Map(this.#cluster.nodes.map((n) => [n.nodename, n.active]));
    this.#slots = slots;
    this.#slotById = new Map(slots.map((s) => [s.id, s]));
  }
}

function factsOf(hb: HeartbeatBody): PeerFacts {
  return { failed: new Set(hb.failed), stable: new Set(hb.stable), holds: new Map(hb.holds.map((h) => [h.slot, h.claim])) };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Did anything placement reads change? (Most heartbeats repeat the last one: skip the reconcile.) */
function heartbeatChanged(a: HeartbeatBody, b: HeartbeatBody): boolean {
  if (a.ready !== b.ready || a.leaving !== b.leaving || a.active !== b.active || a.standby !== b.standby) return true;
  if (a.quorum !== b.quorum || a.pingOk !== b.pingOk) return true;
  // `alive` and `stable` only matter at the next tick (liveness is judged on time; failback waits anyway).
  if (!sameList(a.failed, b.failed)) return true;
  if (a.holds.length !== b.holds.length) return true;
  for (let i = 0; i < a.holds.length; i++) if (a.holds[i]!.slot !== b.holds[i]!.slot || a.holds[i]!.claim !== b.holds[i]!.claim) return true;
  return false;
}
