// Reconcile: after every input, compare where placement wants each slot with what this node holds, and act.
import { issue } from "./actions.ts";
import { fenceGate } from "./fencing.ts";
import { lastHeard, peerState } from "./membership.ts";
import { observe } from "./observe.ts";
import { clearPins } from "./pins.ts";
import { place, type View } from "./placement.ts";
import { reconcileShutdown } from "./shutdown.ts";
import { slotRec, type HeldSlot, type SlotRecord } from "./records.ts";
import { deadTimeMs, emit, isConfigActive, START_RANK, type CoreState } from "./state.ts";
import type { Slot } from "./types.ts";
import { viewOf } from "./view.ts";
import { maybeWatch } from "./watches.ts";

export function settle(s: CoreState, t: number): void {
  observe(s, t);
  if (s.stopping) {
    reconcileShutdown(s);
    return;
  }
  if (!s.ready) return;
  if (t < s.holdOffUntil) return;
  let view = viewOf(s, t);
  if (clearPins(s, view, t)) view = viewOf(s, t);
  for (const [id, slot] of s.orphans) {
    const rec = slotRec(s, id);
    if (rec.inflight) continue;
    if (rec.held) issue(s, slot, "stop", "removed from the config", t);
    else s.orphans.delete(id);
  }
  // Stops first, last kind first (a floating IP leaves before the service behind it stops); then
  // starts, first kind first (traffic arrives only once the service is up). Config order within a kind.
  const byRank = s.slotsByRank;
  const pass: Pass = { kind: "stops", leavingRank: -1 };
  for (let i = byRank.length - 1; i >= 0; i--) reconcileSlot(s, byRank[i]!.slot, byRank[i]!.rec, view, t, pass);
  for (const { slot, rec } of byRank) reconcileSlot(s, slot, rec, view, t, { kind: "starts", leavingRank: -1 });
}

interface Pass {
  readonly kind: "stops" | "starts";
  /**
   * Highest kind rank of a slot this node holds, wants to hand over, and still keeps (make-before-break:
   * it waits for the new holder). Slots of lower kinds stay until it is gone: the application behind a
   * floating IP keeps answering until the IP has left this node.
   */
  leavingRank: number;
}

/** One slot, in one of the two passes of settle(): the stops pass only releases; the starts pass does the rest. */
function reconcileSlot(s: CoreState, slot: Slot, rec: SlotRecord, view: View, t: number, pass: Pass): void {
  const id = slot.id;
  const held = rec.held;
  if (!held && !rec.inflight && !slot.candidates.includes(s.self)) return; // not ours to run
  const selfView = view.nodes.get(s.self)!;
  const pl = place(slot, view);
  let desired = pl.desired;
  // The claim winner of a duplicate always wins: a node that another eligible node outclaims releases,
  // whatever its own placement says (views and pins can differ for a while; claims cannot).
  if (desired === s.self && held && pl.current !== null && pl.current !== s.self) desired = pl.current;
  if (held && slot.exclusive && pass.kind === "starts") noteDuplicates(s, slot, rec, held, view, desired);
  if (rec.inflight) return;
  if (held?.claim === 0 && pl.waitingForStart && desired !== s.self) return; // a leftover: neither claimed nor dropped before the owner is ready
  if (pass.kind === "stops" && (desired === s.self || !held)) return;
  if (pass.kind === "starts" && desired !== s.self) {
    // Held here but wanted elsewhere, and the stops pass did not release it yet: keep watching it.
    if (held) maybeWatch(s, slot, t);
    else rec.waitingSince = undefined;
    return;
  }
  if (desired === s.self) {
    rec.waitingSince = undefined;
    if (!held) {
      if (rec.notBefore > t) return;
      if (slot.kind === "crontab" && otherHolder(s, slot, view, true)) return; // released before it starts here
      if (startBlocked(s, slot)) return;
      if (!fenceGate(s, slot, view, t)) return;
      // Make-before-break: whoever holds it now is the planned overlap, not a duplicate to report.
      const others = holdersElsewhere(s, slot, view);
      rec.plannedOverlap = others.length > 0 ? new Set(others) : undefined;
      // Where it moves from: who holds it now, else the last peer seen holding it, else (on a backup) its owner.
      const from = movedFrom(slot, view, others, rec.lastElsewhere ?? (slot.owner === s.self ? undefined : slot.owner));
      issue(s, slot, "start", startReason(s, slot, view, t, from), t, false, from);
      return;
    }
    if (held.claim === 0) {
      // A leftover found by the start-up probe: take a real claim (and re-announce an IP). It is a move
      // (a failback on the owner) when another node holds it meanwhile.
      if (!fenceGate(s, slot, view, t)) return;
      // The other holder may have released already (it saw this node's leftover): the last one seen counts.
      issue(s, slot, "start", "found running at start-up, taking a claim", t, false, movedFrom(slot, view, holdersElsewhere(s, slot, view), rec.lastElsewhere));
      return;
    }
    if (rec.reannounce && !otherHolder(s, slot, view, false)) {
      rec.reannounce = false;
      issue(s, slot, "start", "duplicate resolved, announcing again", t);
      return;
    }
    maybeWatch(s, slot, t);
    return;
  }
  if (!held) {
    rec.waitingSince = undefined;
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
    const since = rec.waitingSince ?? t;
    rec.waitingSince = since;
    if (t - since >= 2 * deadTimeMs(s)) {
      stopNow = true;
      why = `${desired} did not take it over within ${2 * deadTimeMs(s)} ms`;
    }
  }
  // Reverse start order: wait while a later kind is still leaving here (only while a new holder takes
  // it over; a slot with nowhere to go, or without quorum, stops at once).
  const laterLeaving = desired !== null && why !== "no quorum" && pass.leavingRank > START_RANK[slot.kind];
  if (stopNow && !laterLeaving && rec.notBefore <= t && !stopBlocked(s, slot)) {
    issue(s, slot, "stop", why, t);
    return;
  }
  pass.leavingRank = Math.max(pass.leavingRank, START_RANK[slot.kind]);
}

/** Other live nodes that say they hold the slot, highest claim first. */
function holdersElsewhere(s: CoreState, slot: Slot, view: View): string[] {
  const claimOf = (name: string) => view.nodes.get(name)?.holds.get(slot.id) ?? 0;
  return [...view.nodes]
    .filter(([name, n]) => name !== s.self && n.alive && n.holds.has(slot.id))
    .map(([name]) => name)
    .sort((a, b) => claimOf(b) - claimOf(a));
}

/** The node a start moves the slot from: a live holder with a real claim (a start-up leftover is none), else `fallback`. */
function movedFrom(slot: Slot, view: View, holders: readonly string[], fallback: string | undefined): string | undefined {
  return holders.find((name) => (view.nodes.get(name)?.holds.get(slot.id) ?? 0) > 0) ?? fallback;
}

/** Another node (alive, or leaving but still heard) says it holds the slot. */
function otherHolder(s: CoreState, slot: Slot, view: View, includeLeaving: boolean): boolean {
  for (const [name, n] of view.nodes) {
    if (name === s.self || !n.holds.has(slot.id)) continue;
    if (n.alive) return true;
    if (includeLeaving && n.leaving) {
      const p = s.peers.get(name);
      if (p && p.lastDirect !== null && s.lastCall - p.lastDirect < deadTimeMs(s)) return true;
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
function noteDuplicates(s: CoreState, slot: Slot, rec: SlotRecord, held: HeldSlot, view: View, desired: string | null): void {
  for (const name of slot.candidates) {
    const n = view.nodes.get(name);
    if (name === s.self || !n) continue;
    const claim = n.alive ? n.holds.get(slot.id) : undefined;
    if (claim === undefined) {
      rec.dupShown.delete(name);
      rec.plannedOverlap?.delete(name);
      continue;
    }
    const wins = claim < held.claim || (claim === held.claim && slot.candidates.indexOf(s.self) < slot.candidates.indexOf(name));
    const planned = wins ? (rec.plannedOverlap?.has(name) ?? false) : rec.waitingSince !== undefined && desired === name;
    if (!rec.dupShown.has(name)) {
      rec.dupShown.add(name);
      if (!planned)
        emit(s, {
          type: "duplicate_holder",
          node: name,
          slot: slot.id,
          resource: slot.resource,
          message: `${slot.resource} is held by ${s.self} (claim ${held.claim}) and by ${name} (claim ${claim}): the lower claim releases it`,
        });
    }
    if (wins && !planned) rec.reannounce = true;
  }
}

/**
 * Start order on a node: a kind waits while an earlier kind is still starting or stopping here (a
 * returning owner may still be stopping a stale copy of the application its floating IP fronts).
 */
function startBlocked(s: CoreState, slot: Slot): boolean {
  const earlier = (rank: number) => rank < START_RANK[slot.kind];
  return inflightOfRank(s, "start", earlier) || inflightOfRank(s, "stop", earlier);
}

/** Stop order: reverse of start. */
function stopBlocked(s: CoreState, slot: Slot): boolean {
  return inflightOfRank(s, "stop", (rank) => rank > START_RANK[slot.kind]);
}

/** A start (or stop) in flight here of a kind whose rank matches. */
function inflightOfRank(s: CoreState, type: "start" | "stop", matches: (rank: number) => boolean): boolean {
  for (const { inflight: p } of s.records.values()) {
    if (!p || p.action.type === "fence" || p.action.type !== type) continue;
    const other = s.slotById.get(p.action.slot);
    if (other && matches(START_RANK[other.kind])) return true;
  }
  return false;
}

/**
 * Why this node starts the slot: the words of its takeover, failback or acquire event. On the owner a
 * start from another node is a failback, even after a break-before-make release (crontabs).
 */
function startReason(s: CoreState, slot: Slot, view: View, t: number, from: string | undefined): string {
  if (slot.owner === s.self) return from !== undefined ? `failback from ${from}` : "primary";
  if (s.pins.get(slot.resource)?.node === s.self) return "moved by operator";
  const owner = s.peers.get(slot.owner);
  if (!owner) return `node ${slot.owner} is dead`;
  if (view.nodes.get(slot.owner)?.failed.has(slot.id)) return `it failed too often on ${slot.owner}`;
  if (lastHeard(owner) === null) return `node ${slot.owner} has not been heard since this node started`;
  return `node ${slot.owner} is ${peerState(owner, t, deadTimeMs(s), isConfigActive(s, slot.owner))}`;
}
