// `--command=watch`: the live view. On a terminal, cm_stat redrawn in place every interval (like
// crm_mon), lines that changed in the last few seconds highlighted, the answering node's recent
// events below it, until Ctrl-C. Without a terminal (a pipe, a log, a script), one line per cluster
// event as it happens, each printed once however many nodes reported it.

import { parseDurationMs } from "../config/values.ts";
import type { NodeConfig } from "../config/model.ts";
import { renderCmStat, ruler } from "./render-cmstat.ts";
import { age } from "./stamp.ts";
import { PLAIN } from "./paint.ts";
import {
  ChangeTracker,
  drawFrame,
  ENTER_SCREEN,
  EventDeduper,
  eventJson,
  eventLine,
  eventsReplySchema,
  LEAVE_SCREEN,
  type SeenEvent,
} from "./watch-view.ts";
import type { Asked, ClientContext } from "./run.ts";
import type { Endpoint } from "../io/control-client.ts";

/** What watch uses from run.ts (passed in, so the two modules do not import each other at run time). */
export interface WatchDeps {
  readonly askStatus: (ctx: ClientContext) => Promise<Asked>;
  readonly endpointOf: (n: NodeConfig) => Endpoint;
}

/** What the live view needs beyond a one-shot command: the terminal (or none), a stop signal, a sleep. */
export interface LiveIo {
  /** null: not a terminal, print events. */
  readonly tty: { readonly columns: () => number; readonly rows: () => number; readonly onResize: (cb: () => void) => () => void } | null;
  /** Aborted by Ctrl-C (SIGINT), SIGTERM, or a closed output. */
  readonly signal: AbortSignal;
  /** Resolves after `ms`, or at once when `signal` aborts or `wake` is called. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const SCREEN_INTERVAL_MS = 1000;
export const EVENT_POLL_MS = 250;
const MIN_INTERVAL_MS = 100;
/** Recent events shown under the report on the terminal. */
const SCREEN_EVENTS = 8;
const EVENTS_TIMEOUT = { connectMs: 300, totalMs: 1000 };

export interface WatchOptions {
  readonly json: boolean;
  /** `--interval=DURATION`, or null for the default of the mode. */
  readonly intervalMs: number | null;
}

/** `watch [--json] [--interval=DURATION]` arguments: null and a message when they are wrong. */
export function parseWatchArgs(args: readonly string[], json: boolean): WatchOptions | string {
  let intervalMs: number | null = null;
  for (const a of args) {
    const ms = a.startsWith("--interval=") ? parseDurationMs(a.slice("--interval=".length)) : null;
    if (ms === null || ms < MIN_INTERVAL_MS || ms > 3_600_000) {
      return `Cannot parse "${a}": expected --interval=DURATION between ${MIN_INTERVAL_MS}ms and 1h, like --interval=2s`;
    }
    intervalMs = ms;
  }
  return { json, intervalMs };
}

export const realSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });

export async function watch(
  ctx: ClientContext,
  o: WatchOptions,
  deps: WatchDeps,
): Promise<number> {
  const live = ctx.live;
  if (live === undefined) {
    ctx.err("drcm: ERROR - watch needs a live client (run drcm --client --command=watch)\n");
    return 1;
  }
  if (live.tty !== null && !o.json) return screen(ctx, live, o.intervalMs ?? SCREEN_INTERVAL_MS, deps);
  return eventStream(ctx, live, o, deps.endpointOf);
}

async function screen(
  ctx: ClientContext,
  live: LiveIo,
  intervalMs: number,
  deps: WatchDeps,
): Promise<number> {
  const tty = live.tty!;
  const tracker = new ChangeTracker();
  // A resize redraws at once instead of waiting for the next refresh.
  let wake = new AbortController();
  const stopResize = tty.onResize(() => wake.abort());
  const color = ctx.paint !== PLAIN;
  ctx.out(ENTER_SCREEN);
  try {
    while (!live.signal.aborted) {
      const asked = await deps.askStatus(ctx);
      if (live.signal.aborted) break;
      const now = ctx.now();
      const from = asked.answer?.node ?? null;
      const recent = from !== null ? await recentEvents(ctx, deps.endpointOf(from)) : null;
      const report = renderCmStat(asked.answer?.status ?? null, ctx.cluster, {
        now,
        stamp: ctx.stamp,
        paint: ctx.paint,
        rejected: asked.answer?.info.rejected,
        noAnswer: asked.noAnswer,
      });
      const lines = report.replace(/\n+$/, "").split("\n");
      lines.push("", ruler("Recent Events"), "");
      if (recent === null) lines.push("  (no node answered)");
      else if (recent.length === 0) lines.push("  none since the daemon started");
      else for (const e of recent) lines.push(`  ${eventLine(e, from!.nodename, ctx.stamp)}`);
      const changed = tracker.update(lines, now);
      const who = from === null ? "no node answered" : `from ${from.nodename}`;
      const title = `drcm watch: ${who}, every ${age(intervalMs)}; highlighted: changed in the last 5 s; Ctrl-C to quit`;
      ctx.out(drawFrame(lines, changed, { columns: tty.columns(), rows: tty.rows(), color, title }));
      if (wake.signal.aborted) wake = new AbortController();
      const both = AbortSignal.any([live.signal, wake.signal]);
      await live.sleep(intervalMs, both);
    }
  } finally {
    stopResize();
    ctx.out(LEAVE_SCREEN);
  }
  return 0;
}

async function recentEvents(ctx: ClientContext, ep: Endpoint): Promise<SeenEvent[] | null> {
  const r = await ctx.caller.call(ep, "events", ["0"], EVENTS_TIMEOUT);
  if (!r.ok) return null;
  const v = eventsReplySchema.safeParse(r.reply);
  return v.success ? v.data.events.slice(-SCREEN_EVENTS).reverse() : null;
}

interface Followed {
  since: number;
  /** null: not asked yet; false: the last request failed (reported once until it answers again). */
  reachable: boolean | null;
}

/**
 * Every node is asked for the events after the last one it gave us, every interval. What happened
 * before the watch started is not printed (the log has it); a node that restarted (its numbering
 * starts again) is read from its start. Problems go to stderr, once per change, so stdout stays
 * one event per line.
 */
async function eventStream(ctx: ClientContext, live: LiveIo, o: WatchOptions, endpointOf: WatchDeps["endpointOf"]): Promise<number> {
  const startedAt = ctx.now();
  const intervalMs = o.intervalMs ?? EVENT_POLL_MS;
  const nodes = ctx.cluster.nodes;
  const state = new Map<string, Followed>(nodes.map((n) => [n.nodename, { since: 0, reachable: null }]));
  const dedup = new EventDeduper();
  while (!live.signal.aborted) {
    const replies = await Promise.all(nodes.map((n) => ctx.caller.call(endpointOf(n), "events", [String(state.get(n.nodename)!.since)], EVENTS_TIMEOUT)));
    if (live.signal.aborted) break;
    const batch: { e: SeenEvent; from: string }[] = [];
    nodes.forEach((n, i) => {
      const r = replies[i]!;
      const s = state.get(n.nodename)!;
      const v = r.ok ? eventsReplySchema.safeParse(r.reply) : null;
      if (v === null || !v.success) {
        if (s.reachable !== false) {
          const why = !r.ok ? (r.authFailed ? `refused the request: ${r.error}` : `did not answer (${r.error})`) : "gave an unexpected reply";
          ctx.err(`drcm: watch: ${n.nodename} ${why}\n`);
        }
        s.reachable = false;
        return;
      }
      if (s.reachable === false) ctx.err(`drcm: watch: ${n.nodename} answers again\n`);
      s.reachable = true;
      if (v.data.last < s.since) {
        // The daemon restarted: its events are numbered from 1 again. Read them from the start.
        s.since = 0;
        return;
      }
      if (v.data.missed) ctx.err(`drcm: watch: ${n.nodename}: some events were dropped before they could be read (see its log)\n`);
      s.since = v.data.last;
      for (const e of v.data.events) if (e.at >= startedAt) batch.push({ e, from: n.nodename });
    });
    batch.sort((a, b) => a.e.at - b.e.at);
    for (const { e, from } of batch) {
      if (!dedup.fresh(e)) continue;
      ctx.out(`${o.json ? eventJson(e, from) : eventLine(e, from, ctx.stamp)}\n`);
    }
    await live.sleep(intervalMs, live.signal);
  }
  return 0;
}
