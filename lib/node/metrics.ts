// What this node counts for /metrics (lib/io/http.ts) beyond what its status already says: moves it
// made, scripts it ran and how long they took, how regularly each peer's packets arrive. Pure: the
// driver feeds it with its clock's times; lib/node/metrics-text.ts renders it with the status.
import type { ClusterEvent } from "../core/types.ts";

/** Upper bounds (seconds) of the heartbeat receive-interval histogram: around keep_alive_interval up to dead_time and beyond. */
export const INTERVAL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.6, 5] as const;
/** Upper bounds (seconds) of the script duration histogram. */
export const SCRIPT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

export class Histogram {
  /** Per bucket, not cumulative (rendered cumulative); the last entry is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

/** "a|b|c" keys of labelled counters. */
const key = (...parts: string[]): string => parts.join("\u0000");
export const splitKey = (k: string): string[] => k.split("\u0000");

export class NodeMetrics {
  /** takeover / failback made by this node: resource, cause -> count. */
  readonly failovers = new Map<string, number>();
  readonly failbacks = new Map<string, number>();
  /** Script runs: kind, action, result (ok | failed) -> count; durations per kind, action. */
  readonly scriptRuns = new Map<string, number>();
  readonly scriptDurations = new Map<string, Histogram>();
  /** Failed watches: resource -> count. */
  readonly watchFailures = new Map<string, number>();
  /** Per peer: time between two accepted packets (any link). */
  readonly intervals = new Map<string, Histogram>();
  readonly #lastHeard = new Map<string, number>();
  /** Events by type, as this node reported them. */
  readonly events = new Map<string, number>();

  /** An accepted packet from `peer` at `now` (ms). */
  heard(peer: string, now: number): void {
    const last = this.#lastHeard.get(peer);
    this.#lastHeard.set(peer, now);
    if (last === undefined) return;
    let h = this.intervals.get(peer);
    if (h === undefined) this.intervals.set(peer, (h = new Histogram(INTERVAL_BUCKETS)));
    h.observe(Math.max(0, now - last) / 1000);
  }

  event(e: ClusterEvent): void {
    this.events.set(e.type, (this.events.get(e.type) ?? 0) + 1);
    if (e.type !== "takeover" && e.type !== "failback") return;
    const k = key(e.resource ?? e.slot ?? "unknown", e.cause?.kind ?? "unknown");
    const m = e.type === "takeover" ? this.failovers : this.failbacks;
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  /** A resource script (or fence) finished after `ms`. Probes count as runs of action "probe". */
  script(kind: string, action: string, ok: boolean, ms: number, resource?: string): void {
    const k = key(kind, action, ok ? "ok" : "failed");
    this.scriptRuns.set(k, (this.scriptRuns.get(k) ?? 0) + 1);
    const dk = key(kind, action);
    let h = this.scriptDurations.get(dk);
    if (h === undefined) this.scriptDurations.set(dk, (h = new Histogram(SCRIPT_BUCKETS)));
    h.observe(Math.max(0, ms) / 1000);
    if (action === "watch" && !ok && resource !== undefined) this.watchFailures.set(resource, (this.watchFailures.get(resource) ?? 0) + 1);
  }

  /** A peer left the config (reload): its series go. */
  forget(peer: string): void {
    this.intervals.delete(peer);
    this.#lastHeard.delete(peer);
  }
}
