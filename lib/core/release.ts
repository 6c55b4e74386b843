// The release step: a slot held here that placement wants elsewhere, or nowhere, is let go, by the rules of
// packaging/doc/failover.md: break-before-make for crontabs, make-before-break (with a bounded wait) for the
// rest, at once without quorum, and floating IPs before what they front.
import { causedReason, issue } from "./actions.ts";
import type { Cause } from "./cause.ts";
import { stopBlocked } from "./kind-order.ts";
import { groupCause, type View } from "./placement.ts";
import type { SlotRecord } from "./records.ts";
import { deadTimeMs, START_RANK, type CoreState } from "./state.ts";
import { leftoverWaits, targetOf, type Target } from "./target.ts";
import type { Slot } from "./types.ts";

/** What the release step carries from one slot to the next (it walks them last kind first). */
export interface Leaving {
  /**
   * Highest kind rank of a slot this node holds, wants to hand over, and still keeps (make-before-break:
   * it waits for the new holder). Slots of lower kinds stay until it is gone: the application behind a
   * floating IP keeps answering until the IP has left this node.
   */
  rank: number;
}

export function releaseStep(s: CoreState, slot: Slot, rec: SlotRecord, view: View, t: number, leaving: Leaving): void {
  if (!rec.held || rec.inflight) return; // nothing to let go, or its last action has not answered yet
  const target = targetOf(s, slot, rec, view);
  if (leftoverWaits(s, rec, target) || target.desired === s.self) return;
  const why = releaseNow(s, slot, rec, view, target, t);
  // Reverse start order: wait while a later kind is still leaving here (only while a new holder takes
  // it over; a slot with nowhere to go, or without quorum, stops at once).
  const isolated = why?.cause.kind === "no-quorum" || why?.cause.kind === "ping-lost";
  const laterLeaving = target.desired !== null && !isolated && leaving.rank > START_RANK[slot.kind];
  if (why !== null && !laterLeaving && rec.notBefore <= t && !stopBlocked(s, slot)) {
    issue(s, slot, "stop", why.reason, t, false, undefined, why.cause);
    return;
  }
  leaving.rank = Math.max(leaving.rank, START_RANK[slot.kind]);
}

/** Why the slot goes now (its cause, and the reason text built from it), or null while this node keeps it for the new holder (make-before-break). */
function releaseNow(s: CoreState, slot: Slot, rec: SlotRecord, view: View, target: Target, t: number): { cause: Cause; reason: string } | null {
  const { desired, cause } = target;
  if (desired === null) return { cause, reason: causedReason(cause) };
  const moving = { cause, reason: causedReason(cause, `moving to ${desired}`) };
  // Crontabs move break-before-make: the job never runs on two nodes.
  if (slot.kind === "crontab") return moving;
  // Make-before-break: the new holder has it up, so this copy may go.
  if (view.nodes.get(desired)?.holds.has(slot.id)) return moving;
  // A node without quorum (or cut off from its ping targets) releases every floating IP and crontab, even its own.
  const isolated = slot.exclusive ? groupCause(view) : null;
  if (isolated !== null) return { cause: isolated, reason: causedReason(isolated) };
  // The wait for the new holder is bounded: a holder that never comes must not keep it here for ever.
  const since = rec.waitingSince ?? t;
  rec.waitingSince = since;
  if (t - since >= 2 * deadTimeMs(s)) return { cause, reason: causedReason(cause, `${desired} did not take it over within ${2 * deadTimeMs(s)} ms`) };
  return null;
}
