// What leaves at the end of every call: the heartbeat when one is due, then the Step.
import { isAlive, isDirectlyAlive } from "./membership.ts";
import { failedInOrder, heldInOrder } from "./records.ts";
import { deadTimeMs, emptyOutput, intervalMs, slotOf, type CoreState } from "./state.ts";
import type { Action, BeatBody, ClusterEvent, HeartbeatBody, Hold, Outgoing, Step } from "./types.ts";
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

/**
 * Heartbeat fan-out. Up to FULL_MESH_PEERS peers, every peer gets every beat (keep_alive_interval), as
 * in 1.x. In a larger cluster a node sends every beat to its FAST_PEERS next live peers in config
 * order (a ring: they are its monitors, which see its death after dead_time of silence) and to the
 * others every slowPeriodMs (dead_time / 2). Everyone still agrees on a death within dead_time plus a
 * tick: every heartbeat carries how long ago the sender last heard each peer (`heard`), so the
 * monitors' precise last contact reaches every node as evidence (peers.ts relay), whenever it arrives.
 * A change of state (holds, readiness, membership, operator state, leaving) goes to every peer at
 * once and on the next CHANGE_REPEATS beats, so nothing waits for a slow period.
 */
export const FULL_MESH_PEERS = 4;
export const FAST_PEERS = 2;
const CHANGE_REPEATS = 2;
export const slowPeriodMs = (s: CoreState): number => Math.max(intervalMs(s), deadTimeMs(s) / 2);

/** The peers that get every beat: everyone in a small cluster, else the next FAST_PEERS live ones in config order. */
export function fastPeers(s: CoreState, t: number): Set<string> {
  if (s.peers.size <= FULL_MESH_PEERS) return new Set(s.peers.keys());
  const nodes = s.cluster.nodes;
  const me = nodes.findIndex((n) => n.nodename === s.self);
  const fast = new Set<string>();
  for (let i = 1; i < nodes.length && fast.size < FAST_PEERS; i++) {
    const p = s.peers.get(nodes[(me + i) % nodes.length]!.nodename);
    if (p && isAlive(p, t, deadTimeMs(s))) fast.add(p.name);
  }
  return fast;
}

/** A peer gets the whole state at least this often, even when nothing changed (a safety net; a lost change is asked for at once). */
export const FULL_REFRESH_MS = 5000;

const EMPTY_STEP: Step = Object.freeze({ send: Object.freeze([]), actions: Object.freeze([]), events: Object.freeze([]) }) as Step;

/** Ends a call: adds the heartbeat when one is due and hands out what the call produced. */
export function finishCall(s: CoreState, t: number): Step {
  // A timer that fires a little early must not skip a beat: the server ticks once per interval.
  if (t - s.lastBeat >= intervalMs(s) * 0.8) {
    const forced = s.lastBeat === Number.NEGATIVE_INFINITY;
    s.lastBeat = t;
    const built = buildHeartbeat(s, t);
    if (forced || s.lastBody === null || !sameState(s.lastBody, built)) {
      s.sv++;
      s.changeBeats = CHANGE_REPEATS + 1;
    }
    const body: HeartbeatBody = { ...built, sv: s.sv };
    s.lastBody = body;
    const all = s.changeBeats > 0;
    if (all) s.changeBeats--;
    // The periodic refresh goes to every peer in one tick, so the whole state is encoded once per refresh, not per peer.
    const refresh = !all && t - s.lastRefresh >= FULL_REFRESH_MS;
    if (all || refresh) s.lastRefresh = t;
    const fast = all ? null : fastPeers(s, t);
    const slow = slowPeriodMs(s) - intervalMs(s) * 0.2;
    // Between changes a peer gets the compact beat (state version and fresh ages); the same object for all, signed once.
    let beat: BeatBody | null = null;
    for (const p of s.peers.values()) {
      if (!(all || refresh || p.wantFull || fast!.has(p.name) || t - p.lastSent >= slow)) continue;
      p.lastSent = t;
      // A peer we do not hear (dead, cut off, restarting) may have missed changes: it gets the whole state, so
      // the first packet that reaches it after a heal or a restart already carries everything.
      if (all || refresh || p.wantFull || !isDirectlyAlive(p, t, deadTimeMs(s))) {
        p.wantFull = false;
        s.out.send.push({ to: p.name, body });
      } else {
        beat ??= { kind: "beat", sv: s.sv, heard: body.heard ?? [] };
        s.out.send.push({ to: p.name, body: beat });
      }
    }
  }
  const o = s.out;
  // Most calls (a beat that repeats the last one) produce nothing: hand out one shared empty Step.
  if (o.send.length === 0 && o.actions.length === 0 && o.events.length === 0 && !o.reload && o.rejected === undefined) return EMPTY_STEP;
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

export function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Same state apart from ages (heard, heldMs, uptime, failure and pin ages): a repeat, not a change. */
export function sameState(a: HeartbeatBody, b: HeartbeatBody): boolean {
  if (a.config !== b.config || a.active !== b.active || a.standby !== b.standby || a.ready !== b.ready || a.leaving !== b.leaving) return false;
  if (a.quorum !== b.quorum || a.pingOk !== b.pingOk || (a.maintenance ?? false) !== (b.maintenance ?? false)) return false;
  if (!sameList(a.alive, b.alive) || !sameList(a.stable, b.stable) || !sameList(a.failed, b.failed)) return false;
  if (a.holds.length !== b.holds.length) return false;
  for (let i = 0; i < a.holds.length; i++) {
    const x = a.holds[i]!;
    const y = b.holds[i]!;
    if (x.slot !== y.slot || x.claim !== y.claim || x.role !== y.role) return false;
  }
  const fa = a.failures ?? [];
  const fb = b.failures ?? [];
  if (fa.length !== fb.length) return false;
  for (let i = 0; i < fa.length; i++) if (fa[i]!.slot !== fb[i]!.slot || fa[i]!.action !== fb[i]!.action || fa[i]!.count !== fb[i]!.count) return false;
  const oa = a.operator;
  const ob = b.operator;
  if ((oa === undefined) !== (ob === undefined)) return false;
  if (oa && ob && (oa.gen !== ob.gen || oa.maintenance !== ob.maintenance || oa.pins.length !== ob.pins.length)) return false;
  return true;
}
