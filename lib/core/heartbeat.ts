// What leaves at the end of every call: the heartbeat when one is due, then the Step.
import { isDirectlyAlive } from "./membership.ts";
import { failedInOrder, heldInOrder } from "./records.ts";
import { deadTimeMs, emptyOutput, intervalMs, slotOf, type CoreState } from "./state.ts";
import type { Action, ClusterEvent, HeartbeatBody, Hold, Outgoing, Step } from "./types.ts";
import { stableSet } from "./view.ts";
import { operatorWire } from "./operator.ts";
import { expireFailures, failuresWire } from "./failures.ts";

function buildHeartbeat(s: CoreState, t: number): HeartbeatBody {
  const alive: string[] = [];
  const heard: number[] = [];
  for (const p of s.peers.values()) {
    if (isDirectlyAlive(p, t, deadTimeMs(s))) {
      alive.push(p.name);
      heard.push(t - p.lastDirect!);
    }
  }
  const holds: Hold[] = [];
  for (const { id, held } of heldInOrder(s)) {
    const slot = slotOf(s, id);
    holds.push({ slot: id, role: slot?.owner === s.self ? "primary" : "backup", claim: held!.claim, heldMs: t - held!.since });
  }
  const hb: HeartbeatBody = {
    kind: "heartbeat",
    config: s.cluster.fingerprint,
    active: s.cfg.active,
    standby: s.standby,
    ready: s.ready,
    leaving: s.stopping,
    quorum: s.quorum,
    pingOk: s.pingOk,
    alive,
    heard,
    stable: [...stableSet(s, t)],
    holds,
    failed: failedInOrder(s).map((r) => r.id),
    uptimeMs: t - s.startedAt,
  };
  // Operator state travels only once an operator has set some: a cluster that never used it sends no more bytes.
  const operator = operatorWire(s, t);
  expireFailures(s, t);
  const failures = s.failures.size > 0 ? failuresWire(s, t) : undefined;
  if (!s.maintenance && operator === undefined && failures === undefined) return hb;
  return { ...hb, ...(failures ? { failures } : {}), ...(s.maintenance ? { maintenance: true } : {}), ...(operator ? { operator } : {}) };
}

/** Ends a call: adds the heartbeat when one is due and hands out what the call produced. */
export function finishCall(s: CoreState, t: number): Step {
  // A timer that fires a little early must not skip a beat: the server ticks once per interval.
  if (t - s.lastBeat >= intervalMs(s) * 0.8) {
    s.lastBeat = t;
    const body = buildHeartbeat(s, t);
    for (const name of s.peers.keys()) s.out.send.push({ to: name, body });
  }
  const o = s.out;
  s.out = emptyOutput();
  const step: { send: Outgoing[]; actions: Action[]; events: ClusterEvent[]; reloadRequested?: boolean; rejected?: string } = {
    send: o.send,
    actions: o.actions,
    events: o.events,
  };
  if (o.reload) step.reloadRequested = true;
  if (o.rejected !== undefined) step.rejected = o.rejected;
  return step;
}
