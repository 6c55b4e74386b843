// Built-in alerts: every cluster transition the core reports is handed to each `alert_script` of
// [CM_SERVER], with the event in DRCM_* environment variables. 1.x only had an hourly cron
// (watch_cluster.sh) that noticed trouble up to an hour late; here an alert leaves as the event happens.
//
// emit() never blocks the server loop: events are queued per script and delivered in order, one at a
// time per script, so a slow or hung mail agent delays only its own later alerts (and is killed at
// alert_timeout), never the cluster or the other scripts.
import { causeCode, describeCause } from "../core/cause.ts";
import type { ClusterEvent } from "../core/types.ts";
import { lastLine, runShell } from "./runner.ts";
import { errorMessage } from "../error.ts";

export type AlertSeverity = "CRITICAL" | "WARNING" | "OK" | "INFO";
type EventType = ClusterEvent["type"];

/**
 * Which events alert, and how. null: not alerted. Left out on purpose:
 * - node_suspect: a suspicion becomes node_dead or clears within dead_time; alerting both doubles the mail.
 * - acquire/release: a node taking or dropping its *own* primaries at start and stop (takeover and
 *   failback already cover every move between nodes).
 */
export const ALERT_KINDS: Readonly<Record<EventType, { severity: AlertSeverity; recovery: boolean } | null>> = {
  node_dead: { severity: "CRITICAL", recovery: false },
  node_alive: { severity: "OK", recovery: true },
  node_suspect: null,
  node_ready: null,
  node_leaving: { severity: "WARNING", recovery: false },
  node_inactive: { severity: "WARNING", recovery: false },
  node_standby: { severity: "WARNING", recovery: false },
  node_unstandby: { severity: "OK", recovery: true },
  takeover: { severity: "WARNING", recovery: false },
  failback: { severity: "OK", recovery: true },
  release: null,
  acquire: null,
  resource_failed: { severity: "CRITICAL", recovery: false },
  resource_recovered: { severity: "OK", recovery: true },
  quorum_lost: { severity: "CRITICAL", recovery: false },
  quorum_regained: { severity: "OK", recovery: true },
  ping_lost: { severity: "CRITICAL", recovery: false },
  ping_regained: { severity: "OK", recovery: true },
  config_mismatch: { severity: "WARNING", recovery: false },
  duplicate_holder: { severity: "CRITICAL", recovery: false },
  local_stall: { severity: "WARNING", recovery: false },
  fence: { severity: "WARNING", recovery: false },
  pin_set: { severity: "INFO", recovery: false },
  pin_cleared: { severity: "INFO", recovery: false },
  maintenance_on: { severity: "WARNING", recovery: false },
  maintenance_off: { severity: "OK", recovery: true },
  link_down: { severity: "WARNING", recovery: false },
  link_up: { severity: "OK", recovery: true },
};

/** Events waiting per script; beyond this the oldest are dropped (counted and logged). */
const ALERT_QUEUE_LIMIT = 1000;

export type RunShell = typeof runShell;

export interface AlertDispatcherOptions {
  readonly scripts: readonly string[];
  readonly timeoutMs: number;
  /** This node's nodename (DRCM_SELF). */
  readonly self: string;
  /** Config file path (DRCM_CONFIG). */
  readonly clusterFile: string;
  readonly log: (level: "info" | "warn" | "error", msg: string) => void;
  /** Injectable for tests; the real runner otherwise. */
  readonly run?: RunShell;
  /** Per-script queue bound (tests use a small one). */
  readonly queueLimit?: number;
}

interface Pending {
  readonly ev: ClusterEvent;
  readonly wallMs: number;
}

/** The DRCM_* environment of one alert. Pure: exported for the documentation test. */
export function alertEnv(ev: ClusterEvent, wallMs: number, self: string, clusterFile: string, droppedBefore = 0): Record<string, string> {
  const kind = ALERT_KINDS[ev.type];
  return {
    DRCM_EVENT: ev.type,
    DRCM_NODE: ev.node ?? "",
    DRCM_RESOURCE: ev.resource ?? "",
    DRCM_SLOT: ev.slot ?? "",
    DRCM_FROM: ev.from ?? "",
    DRCM_TO: ev.to ?? "",
    DRCM_MESSAGE: ev.message,
    // Why, for events placement decided (takeover, failback): the kind as a stable word, and its text.
    DRCM_CAUSE: ev.cause === undefined ? "" : causeCode(ev.cause),
    DRCM_CAUSE_TEXT: ev.cause === undefined ? "" : describeCause(ev.cause),
    DRCM_SELF: self,
    DRCM_TIME: new Date(wallMs).toISOString(),
    DRCM_EPOCH: String(Math.floor(wallMs / 1000)),
    DRCM_CONFIG: clusterFile,
    DRCM_SEVERITY: kind?.severity ?? "INFO",
    DRCM_RECOVERY: kind?.recovery === true ? "1" : "0",
    DRCM_DROPPED: String(droppedBefore),
  };
}

/** One script's ordered queue and its single delivery loop. */
class ScriptQueue {
  private readonly items: Pending[] = [];
  private running = false;
  /** Dropped since the last delivery (DRCM_DROPPED of the next alert). */
  private droppedSinceDelivery = 0;
  /** Dropped since the queue was last empty (one log line per overload, not one per event). */
  private droppedInEpisode = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly script: string,
    private readonly opts: AlertDispatcherOptions,
    private readonly run: RunShell,
    private readonly limit: number,
  ) {}

  get pending(): number {
    return this.items.length + (this.running ? 1 : 0);
  }

  push(ev: ClusterEvent, wallMs: number): void {
    if (this.items.length >= this.limit) {
      this.items.shift();
      if (this.droppedInEpisode === 0) {
        this.opts.log("warn", `Alert queue of ${this.script} is full (${this.limit} events): dropping the oldest until it catches up`);
      }
      this.droppedInEpisode++;
      this.droppedSinceDelivery++;
    }
    this.items.push({ ev, wallMs });
    if (!this.running) void this.loop();
  }

  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async loop(): Promise<void> {
    this.running = true;
    for (let next = this.items.shift(); next !== undefined; next = this.items.shift()) {
      const droppedBefore = this.droppedSinceDelivery;
      this.droppedSinceDelivery = 0;
      await this.deliver(next, droppedBefore);
    }
    this.running = false;
    if (this.droppedInEpisode > 0) {
      this.opts.log("warn", `Dropped ${this.droppedInEpisode} alerts for ${this.script}: queue full`);
      this.droppedInEpisode = 0;
    }
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private async deliver(p: Pending, droppedBefore: number): Promise<void> {
    const { script, opts } = this;
    const env = alertEnv(p.ev, p.wallMs, opts.self, opts.clusterFile, droppedBefore);
    try {
      // The path is one literal word: a space or a metacharacter in alert_script is not shell syntax.
      const r = await this.run(`'${script.replaceAll("'", `'\\''`)}'`, { timeoutMs: opts.timeoutMs, env });
      const ms = Math.round(r.durationMs);
      const what = `Alert script ${script} for ${p.ev.type}`;
      if (r.timedOut) opts.log("warn", `${what} timed out after ${opts.timeoutMs} ms and was killed`);
      else if (r.signal !== null) opts.log("warn", `${what} was killed by ${r.signal} after ${ms} ms`);
      else if (r.exitCode === 0) opts.log("info", `${what} exited 0 in ${ms} ms`);
      else {
        const last = lastLine(r.output);
        opts.log("warn", `${what} exited ${r.exitCode} in ${ms} ms${last === "" ? "" : `: ${last}`}`);
      }
    } catch (e) {
      opts.log("error", `Cannot run alert script ${script} for ${p.ev.type}: ${errorMessage(e)}`);
    }
  }
}

export class AlertDispatcher {
  private readonly queues: ScriptQueue[];

  constructor(private readonly opts: AlertDispatcherOptions) {
    const run = opts.run ?? runShell;
    const limit = opts.queueLimit ?? ALERT_QUEUE_LIMIT;
    this.queues = opts.scripts.filter((s) => s.trim() !== "").map((s) => new ScriptQueue(s, opts, run, limit));
  }

  /** Queues the event for every script if its type alerts; returns at once. */
  emit(ev: ClusterEvent, wallMs: number): void {
    if (ALERT_KINDS[ev.type] === null) return;
    for (const q of this.queues) q.push(ev, wallMs);
  }

  /** Waits (at most timeoutMs) for queued alerts to go out; at shutdown. Says what it left behind. */
  async drain(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((r) => {
      timer = setTimeout(() => r("timeout"), timeoutMs);
    });
    const done = await Promise.race([Promise.all(this.queues.map((q) => q.whenIdle())), timeout]);
    clearTimeout(timer);
    if (done === "timeout") {
      const left = this.queues.reduce((n, q) => n + q.pending, 0);
      if (left > 0) this.opts.log("warn", `${left} alerts not delivered at shutdown: still running after ${timeoutMs} ms`);
    }
  }
}
