// An action's result comes back from the agents: apply it to what this node holds.
import { acquired, forget, released } from "./actions.ts";
import { applyFenceResult } from "./fencing.ts";
import { slotRec } from "./records.ts";
import { planShutdownStop } from "./shutdown.ts";
import { checkMs, emit, intervalMs, slotOf, type CoreState, type Pending } from "./state.ts";
import type { ActionResult } from "./types.ts";
import { applyWatchResult, countFailure } from "./watches.ts";
import { recordFailure } from "./failures.ts";

export function applyResult(s: CoreState, p: Pending, r: ActionResult, t: number): void {
  const a = p.action;
  if (a.type === "fence") {
    applyFenceResult(s, a.node, r, t);
    return;
  }
  const rec = slotRec(s, a.slot);
  if (rec.inflight === p) rec.inflight = undefined;
  const slot = slotOf(s, a.slot);
  if (!slot) return;
  switch (a.type) {
    case "probe":
      rec.probing = false;
      if (r.ok && !rec.held) {
        rec.held = { claim: 0, since: t, order: s.nextOrder++ };
        emit(s, { type: "acquire", node: s.self, slot: a.slot, resource: slot.resource, message: `${slot.resource} found running on ${s.self} at start-up (left by an earlier run)` });
      }
      return;
    case "start":
      if (r.ok) {
        acquired(s, slot, p.claim, a.reason, t, p.from, a.cause);
        if (s.stopping) planShutdownStop(s, a.slot);
      } else {
        rec.shutdownOrder = undefined;
        rec.notBefore = t + checkMs(s, slot);
        recordFailure(s, slot, "start", r, t);
        countFailure(s, slot, `start failed: ${r.detail}`, t);
      }
      return;
    case "stop":
      rec.shutdownOrder = undefined;
      if (r.ok) {
        if (rec.held && !p.cleanup) released(s, slot, a.reason, a.cause);
        else forget(s, a.slot);
      } else {
        rec.notBefore = t + intervalMs(s) * 4;
        recordFailure(s, slot, "stop", r, t);
        emit(s, { type: "release", node: s.self, slot: a.slot, resource: slot.resource, message: `Stopping ${slot.resource} on ${s.self} failed (${r.detail}): trying again` });
      }
      if (s.orphans.has(a.slot) && !rec.held) s.orphans.delete(a.slot);
      return;
    case "watch":
      applyWatchResult(s, slot, r, t);
      return;
  }
}
