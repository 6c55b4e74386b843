// Periodic checks of held slots, and counting failed checks and starts up to max_failures.
import { issue } from "./actions.ts";
import { slotRec } from "./records.ts";
import { checkMs, emit, type CoreState } from "./state.ts";
import { inMaintenance } from "./operator.ts";
import { recordFailure } from "./failures.ts";
import type { ActionResult, Slot } from "./types.ts";

/** Checks a held slot when its check is due (the first call only schedules it). */
export function maybeWatch(s: CoreState, slot: Slot, t: number): void {
  const rec = slotRec(s, slot.id);
  if (rec.nextWatch === undefined) {
    rec.nextWatch = t + checkMs(s, slot);
    return;
  }
  if (rec.nextWatch <= t) issue(s, slot, "watch", "periodic check", t);
}

/** A check came back: a healthy one resets the count, a failed one restarts the slot in place or gives it up. */
export function applyWatchResult(s: CoreState, slot: Slot, r: ActionResult, t: number): void {
  const rec = slotRec(s, slot.id);
  if (!rec.held) return;
  rec.lastWatch = { ok: r.ok, at: t, detail: r.detail };
  if (r.ok) {
    if (rec.failCount > 0) {
      rec.failCount = 0;
      emit(s, { type: "resource_recovered", node: s.self, slot: slot.id, resource: slot.resource, message: `${slot.resource} on ${s.self} is healthy again` });
    }
    return;
  }
  recordFailure(s, slot, "watch", r, t);
  if (inMaintenance(s)) {
    // Reported, not acted on: no restart, no count towards max_failures, no handover.
    emit(s, { type: "resource_failed", node: s.self, slot: slot.id, resource: slot.resource, message: `${slot.resource} on ${s.self}: watch failed: ${r.detail} (maintenance mode: not acted on)` });
    return;
  }
  if (countFailure(s, slot, `watch failed: ${r.detail}`, t)) return;
  if (!s.stopping) issue(s, slot, "start", `restart after failed watch (${r.detail})`, t);
}

/** Counts a failed watch or start; returns true when the slot is now failed on this node. */
export function countFailure(s: CoreState, slot: Slot, what: string, t: number): boolean {
  const rec = slotRec(s, slot.id);
  const n = rec.failCount + 1;
  rec.failCount = n;
  const max = s.cluster.server.maxFailures;
  if (n < max) {
    emit(s, { type: "resource_failed", node: s.self, slot: slot.id, resource: slot.resource, message: `${slot.resource} on ${s.self}: ${what} (${n} of ${max})` });
    return false;
  }
  if (rec.failedOrder === undefined) {
    rec.failedOrder = s.nextOrder++;
    emit(s, {
      type: "resource_failed",
      node: s.self,
      slot: slot.id,
      resource: slot.resource,
      message: `${slot.resource} failed too often on ${s.self} (${what}, ${n} failures): handing it to the next node`,
    });
  }
  if (!s.stopping && !rec.inflight) issue(s, slot, "stop", "failed too often", t, !rec.held);
  return true;
}
