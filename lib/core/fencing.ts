// fence_script: a dead peer is fenced before this node takes over its floating IPs and crontabs.
import type { View } from "./placement.ts";
import { deadTimeMs, emit, type CoreState, type Pending } from "./state.ts";
import type { Action, ActionResult, Slot } from "./types.ts";

/** True when the slot may be started now; otherwise fences the dead peers in the way (fence_script configured). */
export function fenceGate(s: CoreState, slot: Slot, view: View, t: number): boolean {
  if (!s.cluster.server.fenceScript || !slot.exclusive) return true;
  const needed = new Set<string>();
  const consider = (name: string) => {
    if (name === s.self || s.fenced.has(name)) return;
    const n = view.nodes.get(name);
    const p = s.peers.get(name);
    if (!p) return;
    if (n?.alive) return;
    if (p.hb?.leaving) return; // a graceful stop released its exclusive resources
    needed.add(name);
  };
  consider(slot.owner);
  for (const [name, n] of view.nodes) if (n.holds.has(slot.id)) consider(name);
  for (const node of needed) {
    if (s.fenceInflight.has(node) || (s.fenceRetryAt.get(node) ?? 0) > t) continue;
    const action: Action = { id: s.nextActionId++, type: "fence", node, reason: `before taking over ${slot.resource}` };
    const pending: Pending = { action, claim: 0, cleanup: false };
    s.pendingById.set(action.id, pending);
    s.fenceInflight.set(node, action.id);
    s.out.actions.push(action);
  }
  return needed.size === 0;
}

export function applyFenceResult(s: CoreState, node: string, r: ActionResult, t: number): void {
  s.fenceInflight.delete(node);
  if (r.ok) {
    s.fenced.add(node);
    emit(s, { type: "fence", node, message: `Fenced node ${node} (${r.detail})` });
  } else {
    s.fenceRetryAt.set(node, t + deadTimeMs(s));
    emit(s, { type: "fence", node, message: `Fencing node ${node} failed (${r.detail}): not taking over its floating IPs and crontabs` });
  }
}
