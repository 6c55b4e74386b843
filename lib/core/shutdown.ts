// Graceful stop: what is stopped (in reverse start order) and what keep_* leaves running.
import { forget, push } from "./actions.ts";
import { shutdownInOrder, slotRec } from "./records.ts";
import { beatNow, START_RANK, slotOf, type CoreState } from "./state.ts";

/** Marks a held (or starting) slot to be stopped before the daemon exits, unless keep_* keeps it. */
export function planShutdownStop(s: CoreState, id: string): void {
  const slot = slotOf(s, id);
  if (!slot) return;
  const keep =
    (slot.kind === "service" && s.cfg.keepServices) ||
    (slot.kind === "application" && s.cfg.keepApplications) ||
    (slot.kind === "filesystem" && s.cfg.keepFilesystems);
  if (!slot.exclusive && keep && slot.owner === s.self) {
    s.kept.add(slot.resource);
    forget(s, id); // keep_*: its own primary stays running after the daemon stops
    return;
  }
  slotRec(s, id).shutdownOrder ??= s.nextOrder++;
}

export function reconcileShutdown(s: CoreState): void {
  for (const rec of shutdownInOrder(s)) {
    const id = rec.id;
    if (rec.inflight) continue;
    if (!rec.held) {
      rec.shutdownOrder = undefined;
      continue;
    }
    const slot = slotOf(s, id)!;
    if (s.kept.has(slot.resource)) {
      // The same service also runs here as this node's own kept primary: forget the backup slot, stop nothing.
      forget(s, id);
      rec.shutdownOrder = undefined;
      continue;
    }
    const later = [...s.records.values()].some((o) => {
      const other = o.shutdownOrder === undefined ? undefined : slotOf(s, o.id);
      return other !== undefined && START_RANK[other.kind] > START_RANK[slot.kind];
    });
    if (later) continue;
    push(s, slot, "stop", "shutting down", 0, false);
  }
  const records = [...s.records.values()];
  const busy = records.some((r) => r.inflight?.action.type === "start" || r.inflight?.action.type === "stop");
  if (!s.stopped && !records.some((r) => r.shutdownOrder !== undefined) && !busy) {
    s.stopped = true;
    beatNow(s); // final leaving heartbeat with nothing held
  }
}
