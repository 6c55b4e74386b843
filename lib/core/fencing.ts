// fence_script: a dead peer is fenced before this node takes over its floating IPs and crontabs.
import type { View } from "./placement.ts";
import type { PeerRecord } from "./records.ts";
import { deadTimeMs, emit, type CoreState, type Pending } from "./state.ts";
import type { Action, ActionResult, Slot } from "./types.ts";

/** True when the slot may be started now; otherwise fences the dead peers in the way (fence_script configured). */
export function fenceGate(s: CoreState, slot: Slot, view: View, t: number): boolean {
  if (!s.cluster.server.fenceScript || !slot.exclusive) return true;
  const needed = new Map<string, PeerRecord>();
  const consider = (name: string) => {
    const p = s.peers.get(name);
    if (name === s.self || !p || p.fenced) return;
    if (view.nodes.get(name)?.alive) return;
    if (p.hb?.leaving) return; // a graceful stop released its exclusive resources
    needed.set(name, p);
  };
  consider(slot.owner);
  for (const [name, n] of view.nodes) if (n.holds.has(slot.id)) consider(name);
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
