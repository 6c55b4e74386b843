// An action's result comes back from the agents: apply it to what this node holds.
import { acquired, forget, released } from "./actions.ts";
import { applyFenceResult } from "./fencing.ts";
import { planShutdownStop } from "./shutdown.ts";
import { checkMs, emit, intervalMs, slotOf, type CoreState, type Pending } from "./state.ts";
import type { ActionResult } from "./types.ts";
import { applyWatchResult, countFailure } from "./watches.ts";

export function applyResult(s: CoreState, p: Pending, r: ActionResult, t: number): void {
  const a = p.action;
  if (a.type === "fence") {
    applyFenceResult(s, a.node, r, t);
    return;
  }
  if (s.inflight.get(a.slot) === p) s.inflight.delete(a.slot);
  const slot = slotOf(s, a.slot);
  if (!slot) return;
  switch (a.type) {
    case "probe":
      s.probing.delete(a.slot);
      if (r.ok && !s.holds.has(a.slot)) {
        s.holds.set(a.slot, { claim: 0, since: t });
        emit(s, { type: "acquire", node: s.self, slot: a.slot, resource: slot.resource, message: `${slot.resource} found running on ${s.self} at start-up (left by an earlier run)` });
      }
      return;
    case "start":
      if (r.ok) {
        acquired(s, slot, p.claim, a.reason, t, p.from);
        if (s.stopping) planShutdownStop(s, a.slot);
      } else {
        s.shutdownStops.delete(a.slot);
        s.notBefore.set(a.slot, t + checkMs(s, slot));
        countFailure(s, slot, `start failed: ${r.detail}`, t);
      }
      return;
    case "stop":
      s.shutdownStops.delete(a.slot);
      if (r.ok) {
        if (s.holds.has(a.slot) && !p.cleanup) released(s, slot, a.reason);
        else forget(s, a.slot);
      } else {
        s.notBefore.set(a.slot, t + intervalMs(s) * 4);
        emit(s, { type: "release", node: s.self, slot: a.slot, resource: slot.resource, message: `Stopping ${slot.resource} on ${s.self} failed (${r.detail}): trying again` });
      }
      if (s.orphans.has(a.slot) && !s.holds.has(a.slot)) s.orphans.delete(a.slot);
      return;
    case "watch":
      applyWatchResult(s, slot, r, t);
      return;
  }
}
