// Failure history: every failed start, stop or watch this node ran, kept per (slot, action) with a
// count, first and last time and the script's last lines, until `cleanup` or failure_timeout. It
// travels in heartbeats, so cm_stat on any node lists the failed actions of every node.
import { emit, type CoreState } from "./state.ts";
import type { ActionResult, FailureWire, Slot } from "./types.ts";

/** Records kept per node; the oldest (by last failure) go first. */
export const FAILURES_KEPT = 50;
export const FAILURE_OUTPUT_LINES = 5;
const LINE_MAX = 200;

export interface FailureRecord {
  readonly slot: string;
  readonly action: "start" | "stop" | "watch";
  detail: string;
  output: string[];
  count: number;
  readonly first: number;
  last: number;
}

export function recordFailure(s: CoreState, slot: Slot, action: FailureRecord["action"], r: ActionResult, t: number): void {
  const key = `${slot.id} ${action}`;
  const output = (r.output ?? []).slice(-FAILURE_OUTPUT_LINES).map((l) => (l.length > LINE_MAX ? `${l.slice(0, LINE_MAX)}...` : l));
  const detail = r.detail.length > LINE_MAX ? `${r.detail.slice(0, LINE_MAX)}...` : r.detail;
  const old = s.failures.get(key);
  if (old) {
    old.count++;
    old.last = t;
    old.detail = detail;
    old.output = output;
  } else s.failures.set(key, { slot: slot.id, action, detail, output, count: 1, first: t, last: t });
  if (s.failures.size > FAILURES_KEPT) {
    const oldest = [...s.failures].sort((a, b) => a[1].last - b[1].last)[0]!;
    s.failures.delete(oldest[0]);
  }
}

/** `cleanup NICK`: that resource's failures are forgotten here. */
export function clearFailures(s: CoreState, resource: string): void {
  for (const [k, f] of s.failures) if (f.slot.startsWith(`${resource}@`)) s.failures.delete(k);
}

/** failure_timeout: failures whose last occurrence is older are forgotten (with an event). */
export function expireFailures(s: CoreState, t: number): void {
  const limit = s.cluster.server.failureTimeoutMs;
  if (limit === null) return;
  for (const [k, f] of s.failures) {
    if (t - f.last < limit) continue;
    s.failures.delete(k);
    emit(s, { type: "resource_recovered", node: s.self, slot: f.slot, message: `Failed ${f.action} of ${f.slot} on ${s.self} forgotten after failure_timeout` });
  }
}

/** Heartbeats carry the newest few, with their last lines, so a datagram stays well under one MTU's worth of failures. */
export const FAILURES_ON_WIRE = 8;
const WIRE_OUTPUT_LINES = 2;

export function failuresWire(s: CoreState, t: number, all = false): FailureWire[] {
  const newest = [...s.failures.values()].sort((a, b) => b.last - a.last);
  return (all ? newest : newest.slice(0, FAILURES_ON_WIRE)).map((f) => ({
    slot: f.slot,
    action: f.action,
    detail: f.detail,
    output: all ? f.output : f.output.slice(-WIRE_OUTPUT_LINES),
    count: f.count,
    firstAgeMs: Math.max(0, t - f.first),
    lastAgeMs: Math.max(0, t - f.last),
  }));
}
