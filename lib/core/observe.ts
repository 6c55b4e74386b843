// Once per call, before placement: peer state transitions and their events, stability, quorum and readiness.
import { isAlive, lastHeard, peerState, type Peer } from "./membership.ts";
import { deadTimeMs, emit, intervalMs, isConfigActive, type CoreState } from "./state.ts";
import type { ClusterEvent, PeerState } from "./types.ts";

export function computeQuorum(s: CoreState, t: number): boolean {
  if (s.cluster.server.quorum === "none") return true;
  let votes = s.stopping ? 0 : 1;
  for (const p of s.peers.values()) if (isAlive(p, t, deadTimeMs(s))) votes++;
  return votes > s.cluster.nodes.length / 2;
}

/** This node's own state, as status shows it. */
export function selfState(s: CoreState): PeerState {
  if (s.stopping) return "leaving";
  if (!s.cfg.active) return "inactive";
  if (s.standby) return "standby";
  if (!s.ready) return "starting";
  return "alive";
}

/** Peer state transitions, stability, quorum and readiness. */
export function observe(s: CoreState, t: number): void {
  for (const p of s.peers.values()) {
    const alive = isAlive(p, t, deadTimeMs(s));
    if (alive && p.hb?.ready) p.stableSince ??= t;
    else p.stableSince = null;
    if (alive) p.fenced = false;
    const state = eventState(s, p, t);
    if (state === null) continue;
    if (p.restarted !== null) {
      emit(s, { type: "node_alive", node: p.name, message: `Node ${p.name} restarted (incarnation ${p.restarted})` });
      p.restarted = null;
      p.shown = state;
      continue;
    }
    if (state === p.shown) continue;
    const before = p.shown;
    p.shown = state;
    const ev = peerEvent(p, state, before, t);
    if (ev) emit(s, ev);
  }
  const q = computeQuorum(s, t);
  // Quorum back after a partition: the first peer heard again is seldom the only one. Start and stop
  // nothing for two heartbeat periods, so the holds of every node on the other side arrive before
  // placement reads them (else a primary restarts what a backup across the cut still holds).
  if (q && !s.quorum && s.ready) s.holdOffUntil = Math.max(s.holdOffUntil, t + 2 * intervalMs(s));
  s.quorum = q;
  if (s.ready && s.cluster.server.quorum === "majority" && s.shownQuorum !== q) {
    if (s.shownQuorum !== null || !q) {
      const alive = [...s.peers.values()].filter((p) => isAlive(p, t, deadTimeMs(s))).length + 1;
      emit(
        s,
        q
          ? { type: "quorum_regained", node: s.self, message: `Quorum regained (${alive} of ${s.cluster.nodes.length} nodes alive)` }
          : { type: "quorum_lost", node: s.self, message: `Quorum lost (${alive} of ${s.cluster.nodes.length} nodes alive): taking over nothing, releasing floating IPs and crontabs` },
      );
    }
    s.shownQuorum = q;
  }
  if (!s.ready && s.probesIssued && ![...s.records.values()].some((r) => r.probing)) {
    const heardAll = [...s.peers.values()].every((p) => p.lastDirect !== null);
    if (heardAll || t - s.startedAt >= deadTimeMs(s)) {
      s.ready = true;
      // Not node_alive: that event (and its alert) is about peers. Readiness is when this node starts acquiring.
      emit(s, {
        type: "node_ready",
        node: s.self,
        message: heardAll
          ? `Node ${s.self} is ready (heard every peer after ${Math.round(t - s.startedAt)} ms)`
          : `Node ${s.self} is ready (initial wait of ${deadTimeMs(s)} ms over; not heard: ${[...s.peers.values()].filter((p) => p.lastDirect === null).map((p) => p.name).join(", ")})`,
      });
    }
  }
}

/**
 * The state events report. A peer never heard is no news during the initial wait (status shows it
 * "starting"), then it is dead: it was down when this node started. It is alive only once a heartbeat
 * really arrives. null: nothing to report yet.
 */
function eventState(s: CoreState, p: Peer, t: number): PeerState | null {
  if (lastHeard(p) === null) return t - s.startedAt >= deadTimeMs(s) ? "dead" : null;
  return peerState(p, t, deadTimeMs(s), isConfigActive(s, p.name));
}

/** The event for a peer's state change, or null for a change not worth a word. */
function peerEvent(p: Peer, state: PeerState, before: PeerState | "unknown", t: number): ClusterEvent | null {
  const n = p.name;
  const h = lastHeard(p);
  switch (state) {
    case "dead":
      if (h === null) return { type: "node_dead", node: n, message: `Node ${n} has not been heard since this node started` };
      return { type: "node_dead", node: n, message: `Node ${n} is dead (no heartbeat for ${Math.round(t - h)} ms)` };
    case "suspect":
      return { type: "node_suspect", node: n, message: `Node ${n} is suspect (no heartbeat for ${h === null ? 0 : Math.round(t - h)} ms)` };
    case "leaving":
      return { type: "node_leaving", node: n, message: `Node ${n} is stopping: taking over its resources now` };
    case "inactive":
      return { type: "node_inactive", node: n, message: `Node ${n} is inactive (node_is_active = 0): its resources go to active nodes` };
    case "standby":
      return { type: "node_standby", node: n, message: `Node ${n} is in standby: its resources go to other nodes` };
    case "alive":
      // suspect -> alive is no transition worth a word; starting -> alive was already reported as alive.
      if (before === "suspect" || before === "starting") return null;
      if (before === "standby") return { type: "node_unstandby", node: n, message: `Node ${n} left standby: its resources come back` };
      return { type: "node_alive", node: n, message: before === "dead" ? `Node ${n} is back on line` : `Node ${n} is alive` };
    case "starting":
      return before === "unknown" || before === "dead" ? { type: "node_alive", node: n, message: `Node ${n} is alive and starting` } : null;
  }
}
