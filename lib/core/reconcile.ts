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
  // Releases first, last kind first (a floating IP leaves before the service behind it stops); then
  // starts, first kind first (traffic arrives only once the service is up). Config order within a kind.
  const byRank = s.slotsByRank;
  const leaving: Leaving = { rank: -1 };
  for (let i = byRank.length - 1; i >= 0; i--) releaseStep(s, byRank[i]!.slot, byRank[i]!.rec, view, t, leaving);
  for (const { slot, rec } of byRank) acquireStep(s, slot, rec, view, t);
}
