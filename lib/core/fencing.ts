// fence_script: a dead peer is fenced before this node takes over its floating IPs and crontabs.
import type { View } from "./placement.ts";
import type { PeerRecord } from "./records.ts";
import { deadTimeMs, emit, type CoreState, type Pending } from "./state.ts";
import type { Action, ActionResult, Slot } from "./types.ts";

/**
 * The dead peers to fence before `self` may start the slot (fence_script configured, exclusive slots only):
 * its owner and any holder, unless alive, stopped gracefully or fenced already. Status names them too.
 */
export function fencesNeeded(fenceScript: boolean, self: string, peers: ReadonlyMap<string, PeerRecord>, slot: Slot, view: View): Map<string, PeerRecord> {
  const needed = new Map<string, PeerRecord>();
  if (!fenceScript || !slot.exclusive) return needed;
  const consider = (name: string) => {
    const p = peers.get(name);
    if (name === self || !p || p.fenced) return;
    if (view.nodes.get(name)?.alive) return;
    if (p.hb?.leaving) return; // a graceful stop released its exclusive resources
    needed.set(name, p);
  };
  consider(slot.owner);
  for (const [name, n] of view.nodes) if (n.holds.has(slot.id)) consider(name);
  return needed;
}

/** True when the slot may be started now; otherwise fences the dead peers in the way (fence_script configured). */
export function fenceGate(s: CoreState, slot: Slot, view: View, t: number): boolean {
  if (!s.cluster.server.fenceScript || !slot.exclusive) return true;
  const needed = fencesNeeded(true, s.self, s.peers, slot, view);
  for (const [node, p] of needed) {
    if (p.fencing || p.fenceRetryAt > t) continue;
    const action: Action = { id: s.nextActionId++, type: "fence", node, reason: `before taking over ${slot.resource}` };
    const pending: Pending = { action, claim: 0, cleanup: false };
    s.pendingById.set(action.id, pending);
    p.fencing = true;
    s.out.actions.push(action);
  }
  return needed.size === 0;
}

export function applyFenceResult(s: CoreState, node: string, r: ActionResult, t: number): void {
  // A peer a reload removed meanwhile has no record left to update: the event still says what happened.
  const p = s.peers.get(node);
  if (p) p.fencing = false;
  if (r.ok) {
    if (p) p.fenced = true;
    emit(s, { type: "fence", node, message: `Fenced node ${node} (${r.detail})` });
  } else {
    if (p) p.fenceRetryAt = t + deadTimeMs(s);
    emit(s, { type: "fence", node, message: `Fencing node ${node} failed (${r.detail}): not taking over its floating IPs and crontabs` });
  }
}
