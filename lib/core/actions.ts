// Asking the agents to act on a slot, and what holding or letting go of a slot means here.
import { describeCause, type Cause } from "./cause.ts";
import { seeClaim, slotRec } from "./records.ts";
import { beatNow, checkMs, emit, type CoreState, type Pending } from "./state.ts";
import type { Action, Slot } from "./types.ts";

type SlotAction = "start" | "stop" | "watch" | "probe";

/**
 * Start, stop or check a slot, unless the same resource already runs here for another slot.
 * A start names the node the slot moves `from` (undefined: no move, this node just starts it). A start or
 * stop that placement decided carries its `cause`.
 */
export function issue(s: CoreState, slot: Slot, type: SlotAction, reason: string, t: number, cleanup = false, from?: string, cause?: Cause): void {
  const rec = slotRec(s, slot.id);
  if (type === "start") {
    const claim = rec.seenClaim + 1;
    if (sharedOnNode(s, slot)) {
      // The same resource already runs here for another slot: hold this one too without a second start.
      acquired(s, slot, claim, reason, t, from, cause);
      return;
    }
    push(s, slot, type, reason, claim, cleanup, from, cause);
    return;
  }
  if (type === "stop" && sharedOnNode(s, slot) && !cleanup) {
    // Another slot of the same resource still wants it here: release this slot without stopping it.
    released(s, slot, reason, cause);
    return;
  }
  if (type === "watch") rec.nextWatch = t + checkMs(s, slot);
  push(s, slot, type, reason, 0, cleanup, undefined, cause);
}

/** Hands the action to the agents and remembers what it was for. */
export function push(s: CoreState, slot: Slot, type: SlotAction, reason: string, claim: number, cleanup: boolean, from?: string, cause?: Cause): void {
  const action: Action = cause === undefined ? { id: s.nextActionId++, type, slot: slot.id, reason } : { id: s.nextActionId++, type, slot: slot.id, reason, cause };
  const pending: Pending = from === undefined ? { action, claim, cleanup } : { action, claim, cleanup, from };
  s.pendingById.set(action.id, pending);
  slotRec(s, slot.id).inflight = pending;
  s.out.actions.push(action);
}

/** A non-exclusive resource held here through another slot (a service primary here and backup of a peer). */
function sharedOnNode(s: CoreState, slot: Slot): boolean {
  if (slot.exclusive) return false;
  for (const r of s.records.values()) {
    if (!r.held || r.id === slot.id) continue;
    const other = s.slotById.get(r.id);
    if (other && other.resource === slot.resource && r.shutdownOrder === undefined) return true;
  }
  return false;
}

/** At start-up: ask what an earlier run left on this host, before taking anything. */
export function issueProbes(s: CoreState): void {
  s.probesIssued = true;
  const seen = new Set<string>();
  for (const slot of s.slots) {
    if (!slot.candidates.includes(s.self) || seen.has(slot.id)) continue;
    seen.add(slot.id);
    slotRec(s, slot.id).probing = true;
    push(s, slot, "probe", "start-up: is it still here from an earlier run?", 0, false);
  }
}

/**
 * This node now holds the slot. A move between nodes is reported by where it goes: to the owner it is a
 * failback, to any other node a takeover; a start that moves nothing (own primaries, a leftover taking a
 * claim while nobody else holds it) is an acquire.
 */
export function acquired(s: CoreState, slot: Slot, claim: number, reason: string, t: number, from?: string, cause?: Cause): void {
  const rec = slotRec(s, slot.id);
  const had = rec.held;
  rec.held = { claim, since: had?.since ?? t, order: had?.order ?? s.nextOrder++ };
  seeClaim(rec, claim);
  rec.waitingSince = undefined;
  rec.lastElsewhere = undefined;
  if (rec.nextWatch === undefined || !had) rec.nextWatch = t + checkMs(s, slot);
  beatNow(s); // tell peers now: the old holder releases on this
  if (had && had.claim > 0) return; // a restart in place or a re-announce, not a new acquisition
  const what = cause === undefined ? { slot: slot.id, resource: slot.resource } : { slot: slot.id, resource: slot.resource, cause };
  if (from === undefined || from === s.self) {
    emit(s, { type: "acquire", node: s.self, ...what, message: `${slot.resource} started on ${s.self} (${reason})` });
    return;
  }
  // DRCM_NODE is the node concerned: the holder a takeover took it from, the owner a failback returns it to.
  if (slot.owner === s.self) {
    // "fails back to its primary" already says what a failback or primary cause would.
    const plain = cause?.kind === "failback" || cause?.kind === "primary";
    const why = plain ? "" : ` (${reason})`;
    emit(s, { type: "failback", node: s.self, from, to: s.self, ...what, message: `${slot.resource} fails back from ${from} to its primary ${s.self}${why}` });
    return;
  }
  emit(s, { type: "takeover", node: from, from, to: s.self, ...what, message: `Node ${s.self} is taking over ${slot.resource} from ${from} (${reason})` });
}

export function released(s: CoreState, slot: Slot, reason: string, cause?: Cause): void {
  forget(s, slot.id);
  beatNow(s);
  const ev = { type: "release", node: s.self, slot: slot.id, resource: slot.resource, message: `Released ${slot.resource} on ${s.self} (${reason})` } as const;
  emit(s, cause === undefined ? ev : { ...ev, cause });
}

/** The reason text of a start or stop placement decided: the cause in words, after what the action does (if anything). */
export const causedReason = (cause: Cause, what?: string): string => (what === undefined ? describeCause(cause) : `${what}: ${describeCause(cause)}`);

/** Drops everything kept about holding a slot here. */
export function forget(s: CoreState, id: string): void {
  const rec = slotRec(s, id);
  rec.held = undefined;
  rec.nextWatch = undefined;
  rec.lastWatch = undefined;
  rec.reannounce = false;
  rec.waitingSince = undefined;
  rec.plannedOverlap = undefined;
}
