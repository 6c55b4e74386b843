// Reconcile: after every input, compare where placement wants each slot with what this node holds, and act:
// first the release step over every slot, then the acquire step.
import { acquireStep } from "./acquire.ts";
import { issue } from "./actions.ts";
import { observe } from "./observe.ts";
import { clearPins } from "./pins.ts";
import { slotRec } from "./records.ts";
import { releaseStep, type Leaving } from "./release.ts";
import { reconcileShutdown } from "./shutdown.ts";
import type { CoreState } from "./state.ts";
import { viewOf } from "./view.ts";
import { acquired } from "./actions.ts";
import { inMaintenance } from "./operator.ts";
import { frozenBy, type View } from "./placement.ts";
import type { Slot } from "./types.ts";
import { maybeWatch } from "./watches.ts";

export function settle(s: CoreState, t: number): void {
  observe(s, t);
  if (s.stopping) {
    reconcileShutdown(s);
    return;
  }
  if (!s.ready) return;
  if (t < s.holdOffUntil) return;
  if (inMaintenance(s)) {
    keepAsIs(s, t);
    return;
  }
  let view = viewOf(s, t);
  if (clearPins(s, view, t)) view = viewOf(s, t);
  for (const [id, slot] of s.orphans) {
    const rec = slotRec(s, id);
    if (rec.inflight) continue;
    if (rec.held) issue(s, slot, "stop", "removed from the config", t);
    else s.orphans.delete(id);
  }
  // Releases first, last kind first (a floating IP leaves before the service behind it stops); then
  // starts, first kind first (traffic arrives only once the service is up). Config order within a kind.
  const byRank = s.slotsByRank;
  const leaving: Leaving = { rank: -1 };
  for (let i = byRank.length - 1; i >= 0; i--) {
    const { slot, rec } = byRank[i]!;
    if (!frozen(s, slot, view)) releaseStep(s, slot, rec, view, t, leaving);
  }
  for (const { slot, rec } of byRank) {
    if (!frozen(s, slot, view)) acquireStep(s, slot, rec, view, t);
    else if (rec.held && !rec.inflight) maybeWatch(s, slot, t);
  }
}

/** Held by a peer in node maintenance: left alone here too. */
const frozen = (s: CoreState, slot: Slot, view: View): boolean => {
  const by = frozenBy(slot, view);
  return by !== null && by !== s.self;
};

/**
 * Maintenance here: nothing is started, stopped or moved. What the start-up probe found running is
 * adopted with a real claim (so nothing is started for it when maintenance ends); held slots are still
 * watched, and their watches report without acting (watches.ts).
 */
function keepAsIs(s: CoreState, t: number): void {
  for (const { slot, rec } of s.slotsByRank) {
    if (!rec.held || rec.inflight) continue;
    if (rec.held.claim === 0) {
      acquired(s, slot, rec.seenClaim + 1, "found running, adopted in maintenance mode", t);
      continue;
    }
    maybeWatch(s, slot, t);
  }
}
