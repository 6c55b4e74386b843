// A peer's heartbeat arrives: what it says about the peer, about the peers it hears, and about who holds what.
import { isAlive } from "./membership.ts";
import { seeClaim, slotRec, type PeerFacts } from "./records.ts";
import { deadTimeMs, emit, intervalMs, type CoreState } from "./state.ts";
import type { BeatBody, HeartbeatBody, WantBody } from "./types.ts";
import { sameList } from "./heartbeat.ts";
import { adoptOperator } from "./operator.ts";

/**
 * Takes in a peer's heartbeat. Returns true when it changed something placement reads (the caller then
 * reconciles); most heartbeats repeat the last one.
 */
export function receiveHeartbeat(s: CoreState, from: string, incarnation: number, body: HeartbeatBody, t: number): boolean {
  const p = s.peers.get(from);
  if (!p) return false;
  const wasAlive = isAlive(p, t, deadTimeMs(s));
  if (p.incarnation !== null && p.incarnation !== incarnation) {
    // A new daemon: what we knew of its holds and its stability belongs to the old one.
    p.hb = null;
    p.stableSince = null;
    // Reported once by observe(), as this peer's one node_alive for the new daemon.
    p.restarted = incarnation;
    // The new daemon knows nothing of us: our next heartbeat to it carries the whole state.
    p.wantFull = true;
  }
  const prev = p.hb;
  p.incarnation = incarnation;
  p.lastDirect = t;
  p.hb = body;
  p.hbAt = t;
  const adopted = body.operator !== undefined && adoptOperator(s, from, body.operator, t);
  const relevant = prev === null || !wasAlive || adopted || heartbeatChanged(prev, body);
  if (relevant || !sameList(prev.stable, body.stable)) p.facts = factsOf(body);
  relay(s, body.alive, body.heard, t);
  for (const h of body.holds) {
    const rec = slotRec(s, h.slot);
    seeClaim(rec, h.claim);
    // Leftovers found at start-up (claim 0), ours or the peer's, are no real hold: a claimed one elsewhere is where it would come from.
    if (relevant && h.claim > 0 && (rec.held?.claim ?? 0) === 0) rec.lastElsewhere = p.name;
  }
  if (body.config !== s.cluster.fingerprint) {
    if (p.shownConfig !== body.config) {
      p.shownConfig = body.config;
      emit(s, {
        type: "config_mismatch",
        node: p.name,
        message: `Node ${p.name} runs a different config (fingerprint ${body.config.slice(0, 12)}, ours ${s.cluster.fingerprint.slice(0, 12)}); placement uses ours`,
      });
    }
  } else p.shownConfig = null;
  return relevant;
}

/**
 * A compact beat: the peer is alive, its state is still the version we have (`hb`), and `heard` are
 * fresh ages for `hb.alive`. A version we do not have (a lost change, a restart) makes us ask for the
 * whole state; until it arrives the beat still counts as a sign of life of the same daemon.
 */
export function receiveBeat(s: CoreState, from: string, incarnation: number, beat: BeatBody, t: number): boolean {
  const p = s.peers.get(from);
  if (!p) return false;
  const known = p.hb !== null && p.incarnation === incarnation;
  if (!known || p.hb!.sv !== beat.sv) {
    if (t - p.wantSentAt >= intervalMs(s)) {
      p.wantSentAt = t;
      s.out.send.push({ to: from, body: WANT });
    }
    if (!known) return false;
  }
  const wasAlive = isAlive(p, t, deadTimeMs(s));
  p.lastDirect = t;
  if (p.hb!.sv === beat.sv) relay(s, p.hb!.alive, beat.heard, t);
  return !wasAlive;
}
const WANT: WantBody = { kind: "want" };

/** A peer asks for our whole state: it gets the last one built at once (its ages at most an interval old). */
export function receiveWant(s: CoreState, from: string, t: number): false {
  const p = s.peers.get(from);
  if (!p) return false;
  if (s.lastBody === null) p.wantFull = true;
  else {
    s.out.send.push({ to: from, body: s.lastBody });
  }
  return false;
}

/** One-hop relay: a peer that heard X recently is evidence that X is up. */
function relay(s: CoreState, alive: readonly string[], heard: readonly number[] | undefined, t: number): void {
  if (!heard || heard.length !== alive.length) return;
  for (let i = 0; i < alive.length; i++) {
    const name = alive[i]!;
    const q = s.peers.get(name);
    const age = heard[i]!;
    if (!q || !(age >= 0) || age >= deadTimeMs(s)) continue;
    // A peer that left or restarted is only believed when heard directly.
    if (q.hb === null || q.hb.leaving) continue;
    const at = t - age;
    if (q.lastIndirect === null || at > q.lastIndirect) q.lastIndirect = at;
  }
}

function factsOf(hb: HeartbeatBody): PeerFacts {
  return { failed: new Set(hb.failed), stable: new Set(hb.stable), holds: new Map(hb.holds.map((h) => [h.slot, h.claim])) };
}


/** Did anything placement reads change? (Most heartbeats repeat the last one: skip the reconcile.) */
function heartbeatChanged(a: HeartbeatBody, b: HeartbeatBody): boolean {
  if (a.ready !== b.ready || a.leaving !== b.leaving || a.active !== b.active || a.standby !== b.standby) return true;
  if (a.quorum !== b.quorum || a.pingOk !== b.pingOk || (a.maintenance ?? false) !== (b.maintenance ?? false)) return true;
  // `alive` and `stable` only matter at the next tick (liveness is judged on time; failback waits anyway).
  if (!sameList(a.failed, b.failed)) return true;
  if (a.holds.length !== b.holds.length) return true;
  for (let i = 0; i < a.holds.length; i++) if (a.holds[i]!.slot !== b.holds[i]!.slot || a.holds[i]!.claim !== b.holds[i]!.claim) return true;
  return false;
}
