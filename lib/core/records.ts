// Records: everything this node remembers about one slot, or one peer, in one place.
import { newPeer, type Peer } from "./membership.ts";
import type { CoreState, Pending } from "./state.ts";
import type { Slot } from "./types.ts";

/** A slot this node holds. */
export interface HeldSlot {
  readonly claim: number;
  /** When this node acquired it (monotonic ms). */
  readonly since: number;
  /** Heartbeats list holds in the order they were taken (peers compare those lists item by item). */
  readonly order: number;
}

/** What a check of a held slot last said, for status. */
export interface WatchOutcome {
  readonly ok: boolean;
  readonly at: number;
  readonly detail: string;
}

/**
 * What this node knows and does about one slot. A record exists for every slot id this node has met (its
 * own config, a peer's heartbeat) and is never dropped: a claim seen or a failure counted outlives a hold.
 */
export interface SlotRecord {
  readonly id: string;
  /** Held here; undefined: not held. */
  held?: HeldSlot;
  /** Highest claim seen for it, from anyone, alive or not: the next start here claims one more. */
  seenClaim: number;
  /** The start, stop, watch or probe in flight: one at a time per slot. */
  inflight?: Pending;
  /** The start-up probe has not answered yet: this node is not ready before it has. */
  probing: boolean;
  /** Failed watches or starts in a row: max_failures of them hand the slot on. */
  failCount: number;
  /** Failed max_failures times here, so placed elsewhere until a cleanup; the number orders the failed list heartbeats publish. */
  failedOrder?: number;
  /** What its last check said (status shows it). */
  lastWatch?: WatchOutcome;
  /** When the next check of the held slot is due; undefined: not scheduled yet (the first call only schedules it). */
  nextWatch?: number;
  /** No new start or stop before this time: a failed start or stop is not retried at once. */
  notBefore: number;
  /** Held here but desired elsewhere: since when this node waits for the new holder (the wait is bounded). */
  waitingSince?: number;
  /** Exclusive and held here while a stale duplicate existed: announce it again once the duplicate is gone. */
  reannounce: boolean;
  /** Peers already reported holding it alongside this node, so each duplicate is reported once per episode. */
  readonly dupShown: Set<string>;
  /** Make-before-break start: the nodes that held it when this node started it (a planned overlap, no duplicate). */
  plannedOverlap?: Set<string>;
  /** The last peer seen holding it: an owner taking it back from there is a failback, even after a break-before-make release. */
  lastElsewhere?: string;
  /** Still to stop before the daemon may exit; the number is the order the stops were planned in. */
  shutdownOrder?: number;
}

/** A slot of the config with its record (records are never dropped, so the pair stays valid). */
export interface RankedSlot {
  readonly slot: Slot;
  readonly rec: SlotRecord;
}

/** The record of a slot id, made on first use (a fresh record says what an absent one did: nothing held, nothing seen). */
export function slotRec(s: CoreState, id: string): SlotRecord {
  let r = s.records.get(id);
  if (r === undefined) {
    r = { id, seenClaim: 0, probing: false, failCount: 0, notBefore: 0, reannounce: false, dupShown: new Set() };
    s.records.set(id, r);
  }
  return r;
}

/** A claim someone holds the slot with: the next start here must claim more. */
export function seeClaim(r: SlotRecord, claim: number): void {
  if (claim > r.seenClaim) r.seenClaim = claim;
}

/** Records that carry the mark `orderOf` reads, in the order they got it. */
function inOrder(s: CoreState, orderOf: (r: SlotRecord) => number | undefined): SlotRecord[] {
  const out: SlotRecord[] = [];
  let sorted = true;
  let last = -1;
  for (const r of s.records.values()) {
    const o = orderOf(r);
    if (o === undefined) continue;
    if (o < last) sorted = false;
    last = o;
    out.push(r);
  }
  // Heartbeats ask for this on every beat, and the records are mostly in order already.
  return sorted ? out : out.sort((a, b) => orderOf(a)! - orderOf(b)!);
}

/** Slots held here, in the order they were taken. */
export const heldInOrder = (s: CoreState): SlotRecord[] => inOrder(s, (r) => r.held?.order);

/** Slots failed here, in the order they failed. */
export const failedInOrder = (s: CoreState): SlotRecord[] => inOrder(s, (r) => r.failedOrder);

/** Slots still to stop before exit, in the order the stops were planned. */
export const shutdownInOrder = (s: CoreState): SlotRecord[] => inOrder(s, (r) => r.shutdownOrder);

/** Slots with an action in flight, in the order the actions were asked for (action ids only grow). */
export const inflightInOrder = (s: CoreState): SlotRecord[] => inOrder(s, (r) => r.inflight?.action.id);

/** Derived sets of a peer's latest heartbeat, computed once per heartbeat. */
export interface PeerFacts {
  readonly failed: ReadonlySet<string>;
  readonly stable: ReadonlySet<string>;
  readonly holds: ReadonlyMap<string, number>;
}

export const EMPTY_FACTS: PeerFacts = { failed: new Set(), stable: new Set(), holds: new Map() };

/** What this node knows of one peer: its membership state, what its heartbeats say, and fencing it. */
export interface PeerRecord extends Peer {
  /** Its latest heartbeat as sets placement reads (empty before the first heartbeat). */
  facts: PeerFacts;
  /** A fence action against it is in flight: one at a time. */
  fencing: boolean;
  /** Fenced since it was last alive: not fenced again. */
  fenced: boolean;
  /** After a failed fence: not tried again before this time (monotonic ms). */
  fenceRetryAt: number;
  /** When this node last sent it a heartbeat (heartbeat.ts: the fan-out schedule). */
  lastSent: number;
}

export const newPeerRecord = (name: string): PeerRecord => ({ ...newPeer(name), facts: EMPTY_FACTS, fencing: false, fenced: false, fenceRetryAt: 0, lastSent: Number.NEGATIVE_INFINITY });
