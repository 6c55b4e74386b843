// Where a slot should be, as this node acts on it: placement, overruled by the claim winner of a duplicate.
// Both reconcile steps (release, then acquire) start from this.
import type { Cause } from "./cause.ts";
import { place, type View } from "./placement.ts";
import type { SlotRecord } from "./records.ts";
import type { CoreState } from "./state.ts";
import type { Slot } from "./types.ts";

export interface Target {
  /** The node that should hold the slot; null: no node may. */
  readonly desired: string | null;
  /** The desired node is still starting: nobody starts the slot before it is ready. */
  readonly waitingForStart: boolean;
  /** Why `desired`: placement's cause, or the claim winner's. */
  readonly cause: Cause;
}

/** Not held here, nothing in flight for it, and this node is no candidate: nothing to do with it. */
export const notOurs = (s: CoreState, slot: Slot, rec: SlotRecord): boolean => !rec.held && !rec.inflight && !slot.candidates.includes(s.self);

export function targetOf(s: CoreState, slot: Slot, rec: SlotRecord, view: View): Target {
  const pl = place(slot, view);
  // The claim winner of a duplicate always wins: a node that another eligible node outclaims releases,
  // whatever its own placement says (views and pins can differ for a while; claims cannot).
  const outclaimed = pl.desired === s.self && rec.held !== undefined && pl.current !== null && pl.current !== s.self;
  if (!outclaimed) return pl;
  const claim = view.nodes.get(pl.current!)?.holds.get(slot.id) ?? 0;
  return { desired: pl.current, waitingForStart: pl.waitingForStart, cause: { kind: "outclaimed", node: pl.current!, claim, mine: rec.held!.claim } };
}

/** A leftover found at start-up (claim 0) is neither claimed nor dropped while the node that should have it is still starting. */
export const leftoverWaits = (s: CoreState, rec: SlotRecord, target: Target): boolean =>
  rec.held?.claim === 0 && target.waitingForStart && target.desired !== s.self;
