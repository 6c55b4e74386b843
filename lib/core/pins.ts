// Operator moves (pins): when one is made, and the rules that end it alike on every node.
import { eligible, type View } from "./placement.ts";
import { slotRec } from "./records.ts";
import { deadTimeMs, type CoreState } from "./state.ts";

/** Remembers an operator `move` of `resource` to `node`, with the claims seen so far. */
export function addPin(s: CoreState, resource: string, node: string, t: number): void {
  const base = new Map<string, number>();
  for (const slot of s.slots) if (slot.resource === resource) base.set(slot.id, slotRec(s, slot.id).seenClaim);
  s.pins.set(resource, { node, base, since: t, reached: false });
}

/**
 * A pin lasts while its target can hold the resource and nobody overrode it. It ends, on every node alike:
 * - when the target cannot hold it (dead, stalled past dead_time, standby, failed, no quorum);
 * - when another node holds it with a claim newer than the move (it took it over while the target was
 *   gone: the claim winner keeps it, so a target that resumes after a stall releases instead of clinging);
 * - when the target has not been seen holding it in 2 x dead_time + the kind's action timeout (it never
 *   got the command, or could not act on it): the old holder must not wait for a move that never comes.
 * Returns true when a pin ended.
 */
export function clearPins(s: CoreState, view: View, t: number): boolean {
  let ended = false;
  for (const [rid, pin] of s.pins) {
    const all = s.slots.filter((x) => x.resource === rid);
    const slots = all.filter((x) => x.candidates.includes(pin.node));
    let drop = slots.length === 0 || !slots.some((x) => eligible(x, pin.node, view));
    for (const x of all) {
      if (drop) break;
      for (const [name, n] of view.nodes) {
        const claim = n.holds.get(x.id);
        if (name !== pin.node && n.alive && claim !== undefined && claim > (pin.base.get(x.id) ?? 0)) drop = true;
      }
    }
    if (!drop && !pin.reached) {
      if (slots.some((x) => view.nodes.get(pin.node)?.holds.has(x.id))) pin.reached = true;
      else if (t - pin.since > 2 * deadTimeMs(s) + Math.max(...slots.map((x) => s.cluster.server.actionTimeoutMs[x.kind]))) drop = true;
    }
    if (drop) {
      s.pins.delete(rid);
      ended = true;
    }
  }
  return ended;
}
