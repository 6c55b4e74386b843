// Operator moves (pins): when one is made, and the rules that end it alike on every node.
import { nextGen } from "./operator.ts";
import { eligible, type View } from "./placement.ts";
import { slotRec } from "./records.ts";
import { deadTimeMs, emit, type CoreState, type Pin } from "./state.ts";

/** Remembers an operator `move` of `resource` to `node` made at `since`, with the claims seen so far; `until` null: until cleared. */
export function addPin(s: CoreState, resource: string, node: string, since: number, until: number | null): void {
  const base = new Map<string, number>();
  for (const slot of s.slots) if (slot.resource === resource) base.set(slot.id, slotRec(s, slot.id).seenClaim);
  s.pins.set(resource, { node, base, since, until, reached: false });
}

/**
 * A pin lasts while its target can hold the resource and nobody overrode it. It ends, on every node alike:
 * - when the target cannot hold it (dead, stalled past dead_time, standby, failed, no quorum);
 * - when another node holds it with a claim newer than the move (it took it over while the target was
 *   gone: the claim winner keeps it, so a target that resumes after a stall releases instead of clinging);
 * - when the target has not been seen holding it in 2 x dead_time + the kind's action timeout (it never
 *   got the command, or could not act on it): the old holder must not wait for a move that never comes;
 * - when its lifetime (move --lifetime) has run out.
 * Returns true when a pin ended.
 */
export function clearPins(s: CoreState, view: View, t: number): boolean {
  let ended = false;
  for (const [rid, pin] of s.pins) {
    const why = pinEnds(s, rid, pin, view, t);
    if (why === null) continue;
    s.pins.delete(rid);
    ended = true;
    emit(s, { type: "pin_cleared", resource: rid, node: pin.node, message: `The move of ${rid} to ${pin.node} ended: ${why}` });
  }
  // A new generation, so a peer that kept the pin (it was down, or restarts with it persisted) drops it
  // too on our next heartbeat, instead of placing the resource by a pin nobody else has.
  if (ended) s.op.gen = nextGen(s);
  return ended;
}

/** Why the pin ends now, or null while it holds. */
function pinEnds(s: CoreState, rid: string, pin: Pin, view: View, t: number): string | null {
  if (pin.until !== null && t >= pin.until) return "its lifetime ran out";
  const all = s.slots.filter((x) => x.resource === rid);
  const slots = all.filter((x) => x.candidates.includes(pin.node));
  if (slots.length === 0 || !slots.some((x) => eligible(x, pin.node, view))) return `${pin.node} cannot hold it now`;
  for (const x of all)
    for (const [name, n] of view.nodes) {
      const claim = n.holds.get(x.id);
      if (name !== pin.node && n.alive && claim !== undefined && claim > (pin.base.get(x.id) ?? 0)) return `${name} took it over since`;
    }
  if (pin.reached) return null;
  if (slots.some((x) => view.nodes.get(pin.node)?.holds.has(x.id))) {
    pin.reached = true;
    return null;
  }
  const bound = 2 * deadTimeMs(s) + Math.max(...slots.map((x) => s.cluster.server.actionTimeoutMs[x.kind]));
  return t - pin.since > bound ? `${pin.node} did not take it within ${bound} ms` : null;
}
