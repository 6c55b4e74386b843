// The acquire step: a slot placement wants here is started (or, when already held, claimed, re-announced
// or checked), by the rules of packaging/doc/failover.md: make-before-break except for crontabs, earlier
// kinds first, dead holders fenced first when fence_script is set.
import { causedReason, issue } from "./actions.ts";
import type { Cause } from "./cause.ts";
import { noteDuplicates } from "./duplicates.ts";
import { fenceGate } from "./fencing.ts";
import { startBlocked } from "./kind-order.ts";
import type { View } from "./placement.ts";
import type { SlotRecord } from "./records.ts";
import { deadTimeMs, type CoreState } from "./state.ts";
import { leftoverWaits, notOurs, targetOf } from "./target.ts";
import type { Slot } from "./types.ts";
import { maybeWatch } from "./watches.ts";

export function acquireStep(s: CoreState, slot: Slot, rec: SlotRecord, view: View, t: number): void {
  if (notOurs(s, slot, rec)) return;
  const held = rec.held;
  const target = targetOf(s, slot, rec, view);
  if (held && slot.exclusive) noteDuplicates(s, slot, rec, held, view, target.desired);
  if (rec.inflight || leftoverWaits(s, rec, target)) return;
  if (target.desired !== s.self) {
    // Held here but wanted elsewhere, and the release step did not let it go yet: keep watching it.
    if (held) maybeWatch(s, slot, t);
    else rec.waitingSince = undefined;
    return;
  }
  rec.waitingSince = undefined;
  if (!held) startHere(s, slot, rec, view, t, target.cause);
  else if (held.claim === 0) claimLeftover(s, slot, rec, view, t, target.cause);
  else if (rec.reannounce && !otherHolder(s, slot, view, false)) {
    rec.reannounce = false;
    issue(s, slot, "start", "duplicate resolved, announcing again", t);
  } else maybeWatch(s, slot, t);
}

/** Starts a slot this node does not hold yet, once nothing in its way is left. */
function startHere(s: CoreState, slot: Slot, rec: SlotRecord, view: View, t: number, cause: Cause): void {
  if (rec.notBefore > t) return; // a failed start or stop is not retried at once
  // Crontabs move break-before-make: the old holder removes it before it starts here.
  if (slot.kind === "crontab" && otherHolder(s, slot, view, true)) return;
  if (startBlocked(s, slot)) return;
  if (!fenceGate(s, slot, view, t)) return;
  // Make-before-break: whoever holds it now is the planned overlap, not a duplicate to report.
  const others = holdersElsewhere(s, slot, view);
  rec.plannedOverlap = others.length > 0 ? new Set(others) : undefined;
  // Where it moves from: who holds it now, else the last peer seen holding it, else (on a backup) its owner.
  const from = movedFrom(slot, view, others, rec.lastElsewhere ?? (slot.owner === s.self ? undefined : slot.owner));
  issue(s, slot, "start", causedReason(cause), t, false, from, cause);
}

/**
 * A leftover found by the start-up probe: take a real claim (and re-announce an IP). It is a move (a
 * failback on the owner) when another node holds it meanwhile.
 */
function claimLeftover(s: CoreState, slot: Slot, rec: SlotRecord, view: View, t: number, cause: Cause): void {
  if (!fenceGate(s, slot, view, t)) return;
  // The other holder may have released already (it saw this node's leftover): the last one seen counts.
  const from = movedFrom(slot, view, holdersElsewhere(s, slot, view), rec.lastElsewhere);
  issue(s, slot, "start", causedReason(cause, "found running at start-up, taking a claim"), t, false, from, cause);
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
