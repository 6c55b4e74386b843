// Membership: what this node knows of each peer, failure detection and the local-health guard.
// A peer is alive while it was heard (directly, or through a peer that heard it) within dead_time.
import type { HeartbeatBody, PeerState } from "./types.ts";

export interface Peer {
  readonly name: string;
  /** Incarnation of the last accepted message; a change means the peer's daemon restarted. */
  incarnation: number | null;
  /** Last valid heartbeat received directly (monotonic ms); null: never. */
  lastDirect: number | null;
  /** Latest time a peer we heard reported hearing this one (one-hop relay); null: never. */
  lastIndirect: number | null;
  /** Its latest heartbeat (null before the first or after a restart until the next). */
  hb: HeartbeatBody | null;
  /** When `hb` arrived: its ages (uptime, held, failures) are as of then. */
  hbAt: number;
  /** It asked for our whole state (a beat of ours named a version it does not have). */
  wantFull: boolean;
  /** When we last asked it for its whole state (at most once per interval). */
  wantSentAt: number;

  /** Since when it has been continuously alive and ready (for the stable set / failback_delay). */
  stableSince: number | null;
  /** State last reported in an event, so each transition is logged once. */
  shown: PeerState | "unknown";
  /** Fingerprint last reported as differing (config_mismatch logged once per change). */
  shownConfig: string | null;
  /** A new daemon (incarnation) was heard and not yet reported: reported once, as its one node_alive. */
  restarted: number | null;
}

export const newPeer = (name: string): Peer => ({
  name,
  incarnation: null,
  lastDirect: null,
  lastIndirect: null,
  hb: null,
  hbAt: 0,
  wantFull: false,
  wantSentAt: Number.NEGATIVE_INFINITY,
  stableSince: null,
  shown: "unknown",
  shownConfig: null,
  restarted: null,
});

/** Last time this peer was known to be up, by any path. */
export function lastHeard(p: Peer): number | null {
  if (p.lastDirect === null) return p.lastIndirect;
  if (p.lastIndirect === null) return p.lastDirect;
  return Math.max(p.lastDirect, p.lastIndirect);
}

/** Alive for placement: heard within dead_time and not leaving. */
export function isAlive(p: Peer, now: number, deadTimeMs: number): boolean {
  const h = lastHeard(p);
  return h !== null && now - h < deadTimeMs && !(p.hb?.leaving ?? false);
}

/** Directly heard within dead_time: what this node publishes in its own `alive` list. */
export function isDirectlyAlive(p: Peer, now: number, deadTimeMs: number): boolean {
  return p.lastDirect !== null && now - p.lastDirect < deadTimeMs && !(p.hb?.leaving ?? false);
}

/** The state shown in status and logged on change. */
export function peerState(p: Peer, now: number, deadTimeMs: number, configActive: boolean): PeerState {
  const h = lastHeard(p);
  if (h === null) return "starting";
  if (p.hb?.leaving) return "leaving";
  if (now - h >= deadTimeMs) return "dead";
  if (!configActive || p.hb?.active === false) return "inactive";
  if (p.hb?.standby) return "standby";
  if (p.hb && !p.hb.ready) return "starting";
  if (now - h > deadTimeMs / 2) return "suspect";
  return "alive";
}

/**
 * Local-health guard: a gap this long between two calls means this node's own loop was stalled
 * (SIGSTOP, swapped out, late timers); silence from peers during it says nothing about them.
 */
export const stallThresholdMs = (deadTimeMs: number, intervalMs: number): number => Math.max(deadTimeMs / 2, 4 * intervalMs);
