// A hand-written check of the heartbeat envelope: the same rules as the zod schema (lib/wire/schema.ts),
// which stays the definition. Heartbeats arrive from every peer every keep_alive_interval, and zod's
// generic walk was a fifth of an idle 16-node daemon's CPU; this loop costs a fraction of it. Anything
// that is not a heartbeat envelope (commands, odd input) still goes through zod. A unit test checks
// that both accept and reject the same mutated envelopes.

import type { BeatBody, HeartbeatBody } from "../core/types.ts";

const MAX_NAME = 256;
const isName = (v: unknown): boolean => typeof v === "string" && v.length >= 1 && v.length <= MAX_NAME;
const isCount = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isNonNeg = (v: unknown): boolean => typeof v === "number" && Number.isFinite(v) && v >= 0;
const isBool = (v: unknown): boolean => typeof v === "boolean";
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function names(v: unknown, max: number): boolean {
  if (!Array.isArray(v) || v.length > max) return false;
  for (const x of v) if (!isName(x)) return false;
  return true;
}

/** `ack`: node -> incarnation (z.record(name, count)). */
function isAck(v: unknown): v is Record<string, number> {
  if (!isObj(v)) return false;
  for (const k in v) if (!Object.hasOwn(v, k) || !isName(k) || !isCount(v[k])) return false;
  return true;
}

/** The envelope's known fields besides the body, rebuilt (link and ack only when present). */
function head(v: Record<string, unknown>): { from: string; inc: number; seq: number; link?: number; ack?: Record<string, number> } {
  const e: { from: string; inc: number; seq: number; link?: number; ack?: Record<string, number> } = { from: v.from as string, inc: v.inc as number, seq: v.seq as number };
  if (v.link !== undefined) e.link = v.link as number;
  if (v.ack !== undefined) e.ack = v.ack as Record<string, number>;
  return e;
}

function holds(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > 4096) return false;
  for (const h of v) {
    if (!isObj(h)) return false;
    if (!isName(h.slot) || (h.role !== "primary" && h.role !== "backup") || !isCount(h.claim) || !isNonNeg(h.heldMs)) return false;
  }
  return true;
}

function failures(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > 64) return false;
  for (const f of v) {
    if (!isObj(f) || !isName(f.slot) || (f.action !== "start" && f.action !== "stop" && f.action !== "watch")) return false;
    if (typeof f.detail !== "string" || f.detail.length > 1024 || !isCount(f.count) || !isNonNeg(f.firstAgeMs) || !isNonNeg(f.lastAgeMs)) return false;
    if (!Array.isArray(f.output) || f.output.length > 16) return false;
    for (const l of f.output) if (typeof l !== "string" || l.length > 1024) return false;
  }
  return true;
}

function operator(v: unknown): boolean {
  if (!isObj(v) || !isCount(v.gen) || !isBool(v.maintenance) || !Array.isArray(v.pins) || v.pins.length > 4096) return false;
  for (const p of v.pins) {
    if (!isObj(p) || !isName(p.resource) || !isName(p.node) || !isNonNeg(p.ageMs)) return false;
    if (p.leftMs !== null && !isNonNeg(p.leftMs)) return false;
  }
  return true;
}

/**
 * The envelope rebuilt from its known fields (unknown ones are dropped, as zod does) when `v` is a
 * well-formed heartbeat envelope by the rules of envelopeSchema; null otherwise.
 */
export function cleanHeartbeatEnvelope(v: unknown): { from: string; inc: number; seq: number; link?: number; ack?: Record<string, number>; body: HeartbeatBody } | null {
  if (!isHeartbeatEnvelope(v)) return null;
  const e = v as { from: string; inc: number; seq: number; link?: number; body: HeartbeatBody };
  const b = e.body;
  const body: HeartbeatBody = {
    kind: "heartbeat",
    config: b.config,
    active: b.active,
    standby: b.standby,
    ready: b.ready,
    leaving: b.leaving,
    quorum: b.quorum,
    pingOk: b.pingOk,
    alive: b.alive,
    ...(b.heard !== undefined ? { heard: b.heard } : {}),
    stable: b.stable,
    holds: b.holds.map((h) => ({ slot: h.slot, role: h.role, claim: h.claim, heldMs: h.heldMs })),
    failed: b.failed,
    uptimeMs: b.uptimeMs,
    ...(b.failures !== undefined
      ? {
          failures: b.failures.map((f) => ({
            slot: f.slot,
            action: f.action,
            detail: f.detail,
            output: f.output,
            count: f.count,
            firstAgeMs: f.firstAgeMs,
            lastAgeMs: f.lastAgeMs,
          })),
        }
      : {}),
    ...(b.maintenance !== undefined ? { maintenance: b.maintenance } : {}),
    ...(b.sv !== undefined ? { sv: b.sv } : {}),
    ...(b.operator !== undefined
      ? {
          operator: {
            gen: b.operator.gen,
            maintenance: b.operator.maintenance,
            pins: b.operator.pins.map((p) => ({ resource: p.resource, node: p.node, ageMs: p.ageMs, leftMs: p.leftMs })),
          },
        }
      : {}),
  };
  return { ...head(v as Record<string, unknown>), body };
}

/** True when `v` is a well-formed heartbeat envelope by the rules of envelopeSchema. */
export function isHeartbeatEnvelope(v: unknown): boolean {
  if (!isObj(v) || !isName(v.from) || !isCount(v.inc) || !isCount(v.seq)) return false;
  if (v.link !== undefined && !(isCount(v.link) && (v.link as number) <= 7)) return false;
  if (v.ack !== undefined && !isAck(v.ack)) return false;
  const b = v.body;
  if (!isObj(b) || b.kind !== "heartbeat") return false;
  if (typeof b.config !== "string" || b.config.length > MAX_NAME) return false;
  if (!isBool(b.active) || !isBool(b.standby) || !isBool(b.ready) || !isBool(b.leaving) || !isBool(b.quorum)) return false;
  if (b.pingOk !== null && !isBool(b.pingOk)) return false;
  if (!names(b.alive, 1024) || !names(b.stable, 1024) || !names(b.failed, 4096) || !holds(b.holds)) return false;
  if (b.heard !== undefined) {
    if (!Array.isArray(b.heard) || b.heard.length > 1024) return false;
    for (const x of b.heard) if (!isNonNeg(x)) return false;
  }
  if (b.maintenance !== undefined && !isBool(b.maintenance)) return false;
  if (b.failures !== undefined && !failures(b.failures)) return false;
  if (b.operator !== undefined && !operator(b.operator)) return false;
  if (b.sv !== undefined && !isCount(b.sv)) return false;
  return isNonNeg(b.uptimeMs);
}

/**
 * The compact beat envelope (the message of every interval between changes), rebuilt from its known
 * fields, or null when `v` is not a well-formed one by the rules of envelopeSchema.
 */
export function cleanBeatEnvelope(v: unknown): { from: string; inc: number; seq: number; link?: number; ack?: Record<string, number>; body: BeatBody } | null {
  if (!isObj(v) || !isName(v.from) || !isCount(v.inc) || !isCount(v.seq)) return null;
  if (v.link !== undefined && !(isCount(v.link) && (v.link as number) <= 7)) return null;
  if (v.ack !== undefined && !isAck(v.ack)) return null;
  const b = v.body;
  if (!isObj(b) || b.kind !== "beat" || !isCount(b.sv) || !Array.isArray(b.heard) || b.heard.length > 1024) return null;
  for (const x of b.heard) if (!isNonNeg(x)) return null;
  const body: BeatBody = { kind: "beat", sv: b.sv as number, heard: b.heard as number[] };
  return { ...head(v), body };
}
