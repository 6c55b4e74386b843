// Start order on a node: filesystems, then services and applications, then crontabs, then floating IPs;
// stops in reverse. A kind waits while an action of a kind before it (after it, for stops) still runs here.
import { START_RANK, type CoreState } from "./state.ts";
import type { Slot } from "./types.ts";

/**
 * A start waits while an earlier kind is still starting or stopping here (a returning owner may still be
 * stopping a stale copy of the application its floating IP fronts).
 */
export function startBlocked(s: CoreState, slot: Slot): boolean {
  const earlier = (rank: number) => rank < START_RANK[slot.kind];
  return inflightOfRank(s, "start", earlier) || inflightOfRank(s, "stop", earlier);
}

/** A stop waits while a later kind is still stopping here. */
export function stopBlocked(s: CoreState, slot: Slot): boolean {
  return inflightOfRank(s, "stop", (rank) => rank > START_RANK[slot.kind]);
}

/** A start (or stop) in flight here of a kind whose rank matches. */
function inflightOfRank(s: CoreState, type: "start" | "stop", matches: (rank: number) => boolean): boolean {
  for (const { inflight: p } of s.records.values()) {
    if (!p || p.action.type === "fence" || p.action.type !== type) continue;
    const other = s.slotById.get(p.action.slot);
    if (other && matches(START_RANK[other.kind])) return true;
  }
  return false;
}
