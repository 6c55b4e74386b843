// Duplicates: two holders of an exclusive slot at once, and which of them is a planned overlap.
import type { View } from "./placement.ts";
import type { HeldSlot, SlotRecord } from "./records.ts";
import { emit, type CoreState } from "./state.ts";
import type { Slot } from "./types.ts";

/**
 * Two holders of an exclusive slot. A planned overlap (make-before-break: this node started it while the
 * other held it, or this node was already handing it to the other) is no duplicate: it is not reported
 * and needs no re-announce. An unplanned one (a healed partition, a stale restart, a resumed node) is
 * reported once, and the winner announces the resource again once the loser has released it.
 */
export function noteDuplicates(s: CoreState, slot: Slot, rec: SlotRecord, held: HeldSlot, view: View, desired: string | null): void {
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
