// Running the virtual clock until the cluster is quiet: nothing in flight, no `fail` mark still waiting
// for its resource to move, and no change for three dead_times. While a daemon still expects a move (its
// status says "waiting for failback" or "starting") the quiet must also outlast failback_delay: the
// failback is then due, or it is not coming (an operator's move pins the resource, and status still
// says "waiting for failback"). Bounded, so a cluster that never settles still ends.
import type { Cluster } from "../config/model.ts";
import type { VirtualCluster } from "./cluster.ts";

/** The longest one event may run: every failback, detection and handover it can cause, with room to spare. */
export function settleBoundMs(cluster: Cluster): number {
  const s = cluster.server;
  const longestCheck = Math.max(0, ...cluster.nodes.flatMap((n) => Object.values(n.checkMs)));
  return s.failbackDelayMs + 4 * s.deadTimeMs + 30_000 + s.maxFailures * longestCheck;
}

export const quietMs = (cluster: Cluster): number => 3 * cluster.server.deadTimeMs;

/** Runs from now until quiet or the bound; true when it got quiet. */
export function settle(vc: VirtualCluster): boolean {
  const start = vc.clock.now;
  const bound = start + settleBoundMs(vc.cluster);
  const step = Math.max(100, vc.cluster.server.keepAliveIntervalMs);
  const quiet = quietMs(vc.cluster);
  const patient = vc.cluster.server.failbackDelayMs + quiet;
  while (vc.clock.now < bound) {
    vc.clock.runUntil(Math.min(bound, vc.clock.now + step));
    const idle = vc.clock.now - vc.lastChange;
    if (vc.inflight > 0 || idle < quiet || vc.faultsPending()) continue;
    if (idle >= patient || !vc.expectingMoves()) return true;
  }
  return false;
}
