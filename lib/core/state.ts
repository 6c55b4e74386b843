// The core's whole memory, as one plain object: the Core facade owns it and hands it to the modules
// (observe, reconcile, watches, commands, ...) that read and change it. No clock, socket or process here.
import type { Cluster, NodeConfig, ResourceKind } from "../config/model.ts";
import { newPeerRecord, slotRec, type PeerRecord, type RankedSlot, type SlotRecord } from "./records.ts";
import type { Action, ClusterEvent, HeartbeatBody, Outgoing, Slot } from "./types.ts";
import type { FailureRecord } from "./failures.ts";

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

/**
 * An operator `move`, as this node remembers it. Every node keeps its own copy, so the rules that end a
 * pin read only what every node sees alike (liveness, holds and claims), never local history.
 */
export interface Pin {
  readonly node: string;
  /** Highest claim seen per slot of the resource when the move was asked: a newer claim by another node ends the pin. */
  readonly base: ReadonlyMap<string, number>;
  readonly since: number;
  /** When the pin ends by itself (move --lifetime); null: until cleared. */
  readonly until: number | null;
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
  /** The same slots in start order (kind rank, then config order), each with its record: settle() walks them on every input. */
  slotsByRank: RankedSlot[];
  slotById: Map<string, Slot>;
  /** node_is_active of every node per this node's config (a peer's own word is not enough). */
  configActive: Map<string, boolean>;
  /** Held slots that a reload removed from the config: stopped, then forgotten. */
  orphans: Map<string, Slot>;
  /** Every other node of the config, by name. */
  peers: Map<string, PeerRecord>;
  readonly startedAt: number;
  /** Time of the previous call: a long gap since then is a local stall. */
  lastCall: number;
  /** Added to `now` after a backwards clock jump, so our time never runs backwards. */
  skew: number;
  /** After a local stall: no start or stop before this time (let the queued heartbeats in first). */
  holdOffUntil: number;
  /** When the last heartbeat was sent; -Infinity sends one with the current Step. */
  lastBeat: number;
  /** The last heartbeat built, to tell a change of state (sent to every peer) from a repeat. */
  lastBody: HeartbeatBody | null;
  /** Beats still to go to every peer after a change (a lost datagram must not hide it for a slow period). */
  changeBeats: number;
  /** State version: grows with every change of what the heartbeat says (ages aside). */
  sv: number;
  /** When every peer last got the whole state without a change (FULL_REFRESH_MS). */
  lastRefresh: number;
  /** What this node knows and does about each slot, by slot id. */
  records: Map<string, SlotRecord>;
  /** Stamps the lists others read in order (holds, failures, shutdown stops): the order a Set would keep. */
  nextOrder: number;
  /** Every action in flight by id, fences included, to match results. */
  pendingById: Map<number, Pending>;
  nextActionId: number;
  probesIssued: boolean;
  ready: boolean;
  standby: boolean;
  /** Node maintenance of this node (persisted): it starts, stops and moves nothing. */
  maintenance: boolean;
  /**
   * The cluster-wide operator register (operator.ts): its generation and cluster maintenance. The pins
   * below belong to the same register and generation.
   */
  op: { gen: number; maintenance: boolean };
  /** Operator moves by resource. */
  pins: Map<string, Pin>;
  /** Failed starts, stops and watches here, by "slot action" (failures.ts). */
  failures: Map<string, FailureRecord>;
  quorum: boolean;
  /** Quorum as last reported in an event (null: never), so each change is logged once. */
  shownQuorum: boolean | null;
  pingOk: boolean | null;
  stopping: boolean;
  /** Resources left running at shutdown by keep_* (own primaries). */
  kept: Set<string>;
  stopped: boolean;
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
    startedAt: now,
    lastCall: now,
    skew: 0,
    holdOffUntil: 0,
    lastBeat: Number.NEGATIVE_INFINITY,
    lastBody: null,
    changeBeats: 0,
    sv: 0,
    lastRefresh: Number.NEGATIVE_INFINITY,
    records: new Map(),
    nextOrder: 0,
    pendingById: new Map(),
    nextActionId: 1,
    probesIssued: false,
    ready: false,
    standby,
    maintenance: false,
    op: { gen: 0, maintenance: false },
    pins: new Map(),
    failures: new Map(),
    quorum: false,
    shownQuorum: null,
    pingOk: null,
    stopping: false,
    kept: new Set(),
    stopped: false,
    out: emptyOutput(),
  };
  for (const n of cluster.nodes) if (n.nodename !== self) s.peers.set(n.nodename, newPeerRecord(n.nodename));
  return s;
}

/** Takes the slots of `s.cluster` (at start and after a reload). */
export function setSlots(s: CoreState, slots: Slot[]): void {
  s.configActive = new Map(s.cluster.nodes.map((n) => [n.nodename, n.active]));
  s.slots = slots;
  s.slotsByRank = [...slots].sort((a, b) => START_RANK[a.kind] - START_RANK[b.kind]).map((slot) => ({ slot, rec: slotRec(s, slot.id) }));
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

