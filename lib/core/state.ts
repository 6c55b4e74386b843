// The core's whole memory, as one plain object: the Core facade owns it and hands it to the modules
// (observe, reconcile, watches, commands, ...) that read and change it. No clock, socket or process here.
import type { Cluster, NodeConfig, ResourceKind } from "../config/model.ts";
import { newPeer, type Peer } from "./membership.ts";
import type { Action, ClusterEvent, Outgoing, Slot } from "./types.ts";

/** A slot this node holds. */
export interface HeldSlot {
  claim: number;
  /** When this node acquired it (monotonic ms). */
  since: number;
}

/** What an action in flight was for, so its result can be applied. */
export interface Pending {
  readonly action: Action;
  /** start: the claim it will hold with. */
  readonly claim: number;
  /** A stop after max_failures: its result does not count as a release. */
  readonly cleanup: boolean;
  /** start: the node the slot moves from (its takeover or failback), or undefined when it is no move. */
  readonly from?: string;
}

/** Derived sets of a peer's latest heartbeat, computed once per heartbeat. */
export interface PeerFacts {
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

/** What the current call produces, handed out as its Step. */
interface Output {
  send: Outgoing[];
  actions: Action[];
  events: ClusterEvent[];
  reload: boolean;
  rejected: string | undefined;
}

export interface CoreState {
  cluster: Cluster;
  readonly self: string;
  /** This node's own section of the config. */
  cfg: NodeConfig;
  slots: Slot[];
  /** The same slots in start order (kind rank, then config order): settle() walks them on every input. */
  slotsByRank: Slot[];
  slotById: Map<string, Slot>;
  /** node_is_active of every node per this node's config (a peer's own word is not enough). */
  configActive: Map<string, boolean>;
  /** Held slots that a reload removed from the config: stopped, then forgotten. */
  orphans: Map<string, Slot>;
  peers: Map<string, Peer>;
  facts: Map<string, PeerFacts>;
  readonly startedAt: number;
  /** Time of the previous call: a long gap since then is a local stall. */
  lastCall: number;
  /** Added to `now` after a backwards clock jump, so our time never runs backwards. */
  skew: number;
  /** After a local stall: no start or stop before this time (let the queued heartbeats in first). */
  holdOffUntil: number;
  /** When the last heartbeat was sent; -Infinity sends one with the current Step. */
  lastBeat: number;
  holds: Map<string, HeldSlot>;
  /** Highest claim seen per slot, from anyone, alive or not. */
  seenClaim: Map<string, number>;
  /** The start, stop, watch or probe in flight per slot: one at a time. */
  inflight: Map<string, Pending>;
  /** Every action in flight by id, fences included, to match results. */
  pendingById: Map<number, Pending>;
  /** Fence action id in flight per peer. */
  fenceInflight: Map<string, number>;
  nextActionId: number;
  probesIssued: boolean;
  /** Slots whose start-up probe has not answered yet: not ready before they have. */
  probing: Set<string>;
  ready: boolean;
  standby: boolean;
  /** Failed watches or starts in a row per slot. */
  failCount: Map<string, number>;
  /** Slots that failed max_failures times here: placed elsewhere until a cleanup. */
  failed: Set<string>;
  lastWatch: Map<string, { ok: boolean; at: number; detail: string }>;
  nextWatch: Map<string, number>;
  /** No new start/stop of this slot before this time (after a failed start or stop). */
  notBefore: Map<string, number>;
  /** Operator moves by resource. */
  pins: Map<string, Pin>;
  /** Peers fenced since they were last alive: not fenced again. */
  fenced: Set<string>;
  fenceRetryAt: Map<string, number>;
  quorum: boolean;
  /** Quorum as last reported in an event (null: never), so each change is logged once. */
  shownQuorum: boolean | null;
  pingOk: boolean | null;
  stopping: boolean;
  /** Slots still to stop before the daemon may exit. */
  shutdownStops: Set<string>;
  /** Resources left running at shutdown by keep_* (own primaries). */
  kept: Set<string>;
  stopped: boolean;
  /** Held here but desired elsewhere: since when (bounded wait for the new holder). */
  waitingSince: Map<string, number>;
  /** Exclusive slots held here while a stale duplicate existed: re-announce once it is gone. */
  reannounce: Set<string>;
  /** Duplicates already logged ("slot node"), so each is logged once per episode. */
  dupShown: Set<string>;
  /** Make-before-break starts: the nodes that held the slot when this node started it (a planned overlap). */
  plannedOverlap: Map<string, Set<string>>;
  /** The last peer seen holding each slot: an owner taking a slot back from it is a failback, even after a break-before-make release. */
  lastElsewhere: Map<string, string>;
  out: Output;
}

export const emptyOutput = (): Output => ({ send: [], actions: [], events: [], reload: false, rejected: undefined });

export function newState(cluster: Cluster, self: string, now: number, standby: boolean): CoreState {
  const cfg = cluster.nodes.find((n) => n.nodename === self);
  if (!cfg) throw new Error(`Node "${self}" is not in the cluster config`);
  const s: CoreState = {
    cluster,
    self,
    cfg,
    slots: [],
    slotsByRank: [],
    slotById: new Map(),
    configActive: new Map(),
    orphans: new Map(),
    peers: new Map(),
    facts: new Map(),
    startedAt: now,
    lastCall: now,
    skew: 0,
    holdOffUntil: 0,
    lastBeat: Number.NEGATIVE_INFINITY,
    holds: new Map(),
    seenClaim: new Map(),
    inflight: new Map(),
    pendingById: new Map(),
    fenceInflight: new Map(),
    nextActionId: 1,
    probesIssued: false,
    probing: new Set(),
    ready: false,
    standby,
    failCount: new Map(),
    failed: new Set(),
    lastWatch: new Map(),
    nextWatch: new Map(),
    notBefore: new Map(),
    pins: new Map(),
    fenced: new Set(),
    fenceRetryAt: new Map(),
    quorum: false,
    shownQuorum: null,
    pingOk: null,
    stopping: false,
    shutdownStops: new Set(),
    kept: new Set(),
    stopped: false,
    waitingSince: new Map(),
    reannounce: new Set(),
    dupShown: new Set(),
    plannedOverlap: new Map(),
    lastElsewhere: new Map(),
    out: emptyOutput(),
  };
  for (const n of cluster.nodes) if (n.nodename !== self) s.peers.set(n.nodename, newPeer(n.nodename));
  return s;
}

/** Takes the slots of `s.cluster` (at start and after a reload). */
export function setSlots(s: CoreState, slots: Slot[]): void {
  s.configActive = new Map(s.cluster.nodes.map((n) => [n.nodename, n.active]));
  s.slots = slots;
  s.slotsByRank = [...slots].sort((a, b) => START_RANK[a.kind] - START_RANK[b.kind]);
  s.slotById = new Map(slots.map((x) => [x.id, x]));
}

export const deadTimeMs = (s: CoreState): number => s.cluster.server.deadTimeMs;
export const intervalMs = (s: CoreState): number => s.cluster.server.keepAliveIntervalMs;
export const isConfigActive = (s: CoreState, node: string): boolean => s.configActive.get(node) ?? false;

/** A slot of the config, or one a reload removed while it was still held here. */
export const slotOf = (s: CoreState, id: string): Slot | undefined => s.slotById.get(id) ?? s.orphans.get(id);

/** How often this node checks a slot of its kind (never more often than it beats). */
export const checkMs = (s: CoreState, slot: Slot): number => Math.max(intervalMs(s), s.cfg.checkMs[slot.kind]);

/** Start rank: services and applications start together, after filesystems, before crontabs and IPs. */
export const START_RANK: Record<ResourceKind, number> = { filesystem: 0, service: 1, application: 1, crontab: 2, ipaddr: 3 };

export function emit(s: CoreState, e: ClusterEvent): void {
  s.out.events.push(e);
}

/** Peers learn of this change with this Step's heartbeat instead of the next scheduled one. */
export function beatNow(s: CoreState): void {
  s.lastBeat = Number.NEGATIVE_INFINITY;
}

export function seeClaim(s: CoreState, slot: string, claim: number): void {
  if (claim > (s.seenClaim.get(slot) ?? 0)) s.seenClaim.set(slot, claim);
}
