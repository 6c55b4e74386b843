// The core's own time: a clock that jumps back is re-based, and a long gap between calls is a local stall.
import { isAlive, stallThresholdMs } from "./membership.ts";
import { deadTimeMs, emit, intervalMs, type CoreState } from "./state.ts";

/** Clamp the clock (a backwards jump counts as no time passed) and apply the local-health guard; returns the core's time. */
export function beginCall(s: CoreState, now: number): number {
  if (now + s.skew < s.lastCall) s.skew = s.lastCall - now;
  const t = now + s.skew;
  const gap = t - s.lastCall;
  if (gap > stallThresholdMs(deadTimeMs(s), intervalMs(s))) {
    // Our own loop was stalled: silence during the stall says nothing about the peers, so every
    // peer that was alive before it gets a fresh grace instead of being declared dead now.
    for (const p of s.peers.values()) {
      if (isAlive(p, s.lastCall, deadTimeMs(s))) p.lastDirect = t;
    }
    // What queued up during the stall (heartbeats in the socket buffer) is read before acting on the old view.
    s.holdOffUntil = t + 2 * intervalMs(s);
    emit(s, { type: "local_stall", node: s.self, message: `Node ${s.self} was stalled for ${Math.round(gap)} ms: peers get a fresh grace period instead of being declared dead` });
  }
  s.lastCall = t;
  return t;
}
