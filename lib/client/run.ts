// Runs one parsed client command against the cluster and writes its output. Shared by
// `--command=` and the console; everything it needs (config, channel, clock) comes in a
// ClientContext so tests can drive it with a fake channel.

import { join } from "node:path";
import { parseDurationMs } from "../config/values.ts";
import { linksOf, type Cluster, type NodeConfig, type ResourceId } from "../config/model.ts";
import type { ClusterStatus, OperatorCommand } from "../core/types.ts";
import { parseCommand, nonInteractiveHelp, consoleHelp, type CommandSpec } from "./commands.ts";
import { renderExplain, slotsNamed } from "./explain.ts";
import { evaluateHealth, healthFailure, CRITICAL, UNKNOWN } from "./health.ts";
import type { Paint } from "./paint.ts";
import { renderPrintcfg } from "./printcfg.ts";
import { commandReplySchema, encodeCommandArgs, pingReplySchema, statusReplySchema, type NodeInfo } from "../wire/control-protocol.ts";
import { renderCmStat } from "./render-cmstat.ts";
import { renderStatusJson } from "./render-json.ts";
import { renderRstatsNode } from "./render-rstats.ts";
import { resolveNode, resolveResource } from "./resolve.ts";
import type { Stamp } from "./stamp.ts";
import type { Caller, Endpoint } from "../io/control-client.ts";
import { errorMessage } from "../error.ts";
import { NO_ANSWER_GRACE_MS, noAnswerProblem, REPORT_DEADLINE_MS } from "./deadline.ts";
import { parseWatchArgs, watch, type LiveIo } from "./watch.ts";

export interface ClientContext {
  readonly cluster: Cluster;
  /** The node this client speaks for (--node or uname -n); null when neither matched. */
  readonly self: NodeConfig | null;
  readonly caller: Caller;
  readonly now: () => number;
  readonly stamp: Stamp;
  readonly paint: Paint;
  /** Global --json (also `status --json`). */
  readonly json: boolean;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly console: boolean;
  /** Called before a reload is sent: null when the local config is fine, else the errors. */
  readonly precheckReload?: () => Promise<string | null>;
  /** Why this node's auth key cannot be used (a local problem), or null/absent when it can. */
  readonly keyError?: string | null;
  /** Report deadline for cm_stat, status and health; REPORT_DEADLINE_MS unless a test sets it. */
  readonly deadlineMs?: number;
  /** How much longer to wait for a first answer when none came by the deadline; NO_ANSWER_GRACE_MS unless a test sets it. */
  readonly graceMs?: number;
  /** Terminal, stop signal and sleep for `watch`; absent where no live view can run. */
  readonly live?: LiveIo;
}

/** 1.x: unknown command, and unknown node for ping/rstats. */
const EXIT_USAGE = 255;
/** A command drcm 2 understood but cannot run: bad arguments, refused, nobody reachable, no key. */
const EXIT_FAILED = 1;
/** Commands that never touch the network, so they work without a key. */
const LOCAL_COMMANDS: ReadonlySet<string> = new Set(["help", "printcfg"]);
const KEY_HINT = "is .auth/authkey the same on every node?";

/** One node's failure to answer, worded so a wrong key is not mistaken for a dead node. */
function failureText(nodename: string, r: { error: string; authFailed?: true }): string {
  return r.authFailed ? `${nodename} refused the request: ${r.error} (${KEY_HINT})` : `${nodename} did not answer (${r.error})`;
}

function endpointOf(ctx: Pick<ClientContext, "cluster" | "self">, n: NodeConfig): Endpoint {
  const local = ctx.self !== null && ctx.self.nodename === n.nodename;
  return {
    nodename: n.nodename,
    host: n.keepAliveIp,
    ...(linksOf(n).length > 1 ? { alternates: linksOf(n).slice(1) } : {}),
    port: ctx.cluster.server.tcpport,
    unixPath: local ? join(ctx.cluster.server.runDir, `drcm-${n.nodename}.sock`) : null,
  };
}

/** Options that may appear among the words: -nNODE and -cN (1.x passes them as argv words). */
export function takeOptions(words: readonly string[]): { words: string[]; node: string | null; count: number | null } {
  let node: string | null = null;
  let count: number | null = null;
  const rest: string[] = [];
  for (const w of words) {
    if (/^-n.+/.test(w)) node = w.slice(2).replace(/^["']|["']$/g, "");
    else if (/^-c\d+$/.test(w)) count = Math.max(1, Number.parseInt(w.slice(2), 10));
    else rest.push(w);
  }
  return { words: rest, node, count };
}

export async function runCommand(ctx: ClientContext, words: readonly string[], opts: { node: string | null; count: number }): Promise<number> {
  const taken = takeOptions(words);
  const node = taken.node ?? opts.node;
  const count = taken.count ?? opts.count;
  const p = parseCommand(taken.words);
  if (!p.ok) {
    if (ctx.console) ctx.out(p.unknown ? "Invalid command\nEnter exit to quit or help for valid command\n" : `${p.message}\n`);
    else ctx.err(`drcm: ERROR - ${p.message}${p.unknown ? ' (drcm --client --command=help lists the commands)' : ""}\n`);
    return p.unknown ? EXIT_USAGE : EXIT_FAILED;
  }
  if (ctx.keyError && !LOCAL_COMMANDS.has(p.spec.name)) {
    if (p.spec.name === "health") {
      ctx.out(`${healthFailure(UNKNOWN, ctx.keyError).line}\n`);
      return UNKNOWN;
    }
    ctx.err(`drcm: ERROR - ${ctx.keyError}\n`);
    return EXIT_FAILED;
  }
  const arg0 = p.args[0] ?? null;
  switch (p.spec.name) {
    case "help":
      ctx.out(ctx.console ? consoleHelp() : nonInteractiveHelp());
      return 0;
    case "printcfg":
      ctx.out(renderPrintcfg(ctx.cluster, join(ctx.cluster.server.logDir, "drcm_client.log"), ctx.now(), ctx.stamp));
      return 0;
    case "cm_stat":
      return cmStat(ctx);
    case "status":
      return p.json || ctx.json ? statusJson(ctx) : cmStat(ctx);
    case "health":
      return health(ctx);
    case "rstats":
      return rstats(ctx, arg0 ?? node);
    case "ping":
      return ping(ctx, arg0 ?? node, count);
    case "explain":
      return explain(ctx, arg0!);
    case "watch": {
      const w = parseWatchArgs(p.args, p.json || ctx.json);
      if (typeof w === "string") {
        ctx.err(`drcm: ERROR - ${w}\n`);
        return EXIT_FAILED;
      }
      return watch(ctx, w, { askStatus, endpointOf: (n) => endpointOf(ctx, n) });
    }
    default:
      return operator(ctx, p.spec, p.args);
  }
}

export interface Answer {
  readonly node: NodeConfig;
  readonly status: ClusterStatus;
  readonly info: NodeInfo;
}

export interface Asked {
  readonly answer: Answer | null;
  /** Why the nodes asked before the one that answered (config order, local first) failed. */
  readonly failures: string[];
  /** Nodes that answered with "authentication failed". */
  readonly authRefused: number;
  /** Nodes that had not answered when the report deadline passed. */
  readonly noAnswer: string[];
  /** What the local node said when it failed outright (refused, error), not merely late. */
  readonly localFailure: string | null;
}

type Failed = { error: string; authFailed?: true };

/**
 * Ask the local node and every peer at once, and wait until all have settled or the report
 * deadline (REPORT_DEADLINE_MS from now) has passed, whichever comes first. The answer is the
 * local node's live view; if it did not answer (in time), the first other node in config order
 * that did. A frozen node costs the deadline, never the request timeout.
 */
export async function askStatus(ctx: ClientContext): Promise<Asked> {
  const deadlineMs = ctx.deadlineMs ?? REPORT_DEADLINE_MS;
  const order = ctx.self !== null ? [ctx.self, ...ctx.cluster.nodes.filter((n) => n.nodename !== ctx.self!.nodename)] : [...ctx.cluster.nodes];
  const tryNode = async (n: NodeConfig): Promise<Answer | Failed> => {
    const r = await ctx.caller.call(endpointOf(ctx, n), "status", []);
    if (!r.ok) return r;
    const v = statusReplySchema.safeParse(r.reply);
    if (!v.success) return { error: "unexpected reply" };
    return { node: n, status: v.data.status, info: v.data.info };
  };
  const results: (Answer | Failed | undefined)[] = order.map(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceMs = ctx.graceMs ?? NO_ANSWER_GRACE_MS;
  await new Promise<void>((resolve) => {
    let pending = order.length;
    if (pending === 0) return resolve();
    // At the deadline the report goes out with what arrived. When nothing usable has (every node
    // frozen, or this machine so loaded that no reply was read yet), a report of nothing but
    // "no answer" helps nobody: wait up to the grace for the first answer, then report.
    let graceful = false;
    const answered = () => results.some((r) => r !== undefined && "node" in r);
    timer = setTimeout(() => {
      if (answered()) return resolve();
      graceful = true;
      timer = setTimeout(resolve, graceMs);
    }, deadlineMs);
    order.forEach((n, i) => {
      void tryNode(n)
        .catch((e: unknown): Failed => ({ error: errorMessage(e) }))
        .then((r) => {
          results[i] = r;
          if (--pending === 0 || (graceful && "node" in r)) resolve();
        });
    });
  });
  clearTimeout(timer);
  // Snapshot: a reply arriving after the deadline changes nothing.
  const got = [...results];
  const failures: string[] = [];
  const noAnswer: string[] = [];
  let authRefused = 0;
  let answer: Answer | null = null;
  got.forEach((r, i) => {
    const n = order[i]!;
    if (r === undefined) noAnswer.push(n.nodename);
    else if (!("node" in r) && r.authFailed) authRefused++;
  });
  for (let i = 0; i < order.length && answer === null; i++) {
    const r = got[i];
    const n = order[i]!;
    if (r !== undefined && "node" in r) answer = r;
    else failures.push(r === undefined ? noAnswerProblem(n.nodename, deadlineMs) : failureText(n.nodename, r));
  }
  const local = ctx.self !== null ? got[0] : undefined;
  const localFailure = local !== undefined && !("node" in local) ? failureText(ctx.self!.nodename, local) : null;
  return { answer, failures, authRefused, noAnswer, localFailure };
}

function noteFallback(ctx: ClientContext, answer: Answer | null, failures: string[]): void {
  if (failures.length === 0) return;
  for (const f of failures) ctx.err(`drcm: ${f}\n`);
  if (answer !== null) ctx.err(`drcm: status from ${answer.node.nodename}\n`);
}

async function cmStat(ctx: ClientContext): Promise<number> {
  const { answer, failures, authRefused, noAnswer } = await askStatus(ctx);
  noteFallback(ctx, answer, failures);
  ctx.out(renderCmStat(answer?.status ?? null, ctx.cluster, { now: ctx.now(), stamp: ctx.stamp, paint: ctx.paint, rejected: answer?.info.rejected, noAnswer, otherVersion: answer?.info.otherVersion }));
  // 1.x: always 0 when nodes are down, scripts grep the text. But "all Down" because our key is
  // refused is a local fault, not an outage: fail so a script does not page for the cluster.
  return answer === null && authRefused > 0 ? EXIT_FAILED : 0;
}

async function statusJson(ctx: ClientContext): Promise<number> {
  const { answer, failures, noAnswer } = await askStatus(ctx);
  noteFallback(ctx, answer, failures);
  if (answer === null) {
    ctx.err("drcm: ERROR - No cluster node answered: cannot report status\n");
    return 1;
  }
  ctx.out(renderStatusJson(answer.status, answer.info, ctx.now(), noAnswer));
  return 0;
}

async function health(ctx: ClientContext): Promise<number> {
  // A check runs on a node about that node's cluster: if the local node refuses or fails outright,
  // that is the critical news, whatever the others would say. A local node that is merely late
  // (frozen, overloaded) is a WARNING when a peer answered in time; CRITICAL when nobody did.
  const { answer, failures, localFailure, noAnswer } = await askStatus(ctx);
  const h =
    localFailure !== null
      ? healthFailure(CRITICAL, localFailure)
      : answer !== null
        ? evaluateHealth(answer.status, answer.info.rejected, noAnswer, answer.info.otherVersion)
        : healthFailure(CRITICAL, failures.length > 0 ? failures.join("; ") : "no cluster node answered");
  ctx.out(`${h.line}\n`);
  return h.code;
}

async function explain(ctx: ClientContext, word: string): Promise<number> {
  const { answer, failures } = await askStatus(ctx);
  noteFallback(ctx, answer, failures);
  if (answer === null) {
    ctx.err("drcm: ERROR - No cluster node answered: cannot explain\n");
    return EXIT_FAILED;
  }
  const slots = slotsNamed(answer.status, word);
  if (slots.length === 0) {
    const known = [...new Set(answer.status.slots.map((s) => s.nickname))].join(", ");
    ctx.err(`drcm: ERROR - No resource with nickname "${word}": known nicknames are ${known}\n`);
    return EXIT_FAILED;
  }
  ctx.out(renderExplain(answer.status, slots, { now: ctx.now(), stamp: ctx.stamp, deadTimeMs: ctx.cluster.server.deadTimeMs }));
  return 0;
}

async function rstats(ctx: ClientContext, selector: string | null): Promise<number> {
  let nodes = ctx.cluster.nodes;
  if (selector !== null) {
    const n = resolveNode(ctx.cluster, selector, ctx.self);
    if (n === null) {
      ctx.out(`rstats ERROR no cluster node found for ${selector}\n`);
      return EXIT_USAGE;
    }
    nodes = [n];
  }
  // Every node at once: a down node costs one timeout, not one per node.
  const results = await Promise.all(
    nodes.map(async (n) => {
      const r = await ctx.caller.call(endpointOf(ctx, n), "status", [], { connectMs: 300, totalMs: 500 });
      if (!r.ok) {
        if (r.authFailed) ctx.err(`drcm: ${failureText(n.nodename, r)}\n`);
        return { ok: false as const, error: r.error };
      }
      const v = statusReplySchema.safeParse(r.reply);
      return v.success ? { ok: true as const, status: v.data.status } : { ok: false as const, error: "unexpected reply" };
    }),
  );
  const now = ctx.now();
  let failed = 0;
  nodes.forEach((n, i) => {
    const r = results[i]!;
    if (!r.ok) failed++;
    ctx.out(renderRstatsNode(n.nodename, n.keepAliveIp, r, now, ctx.stamp));
  });
  return failed > 0 ? 1 : 0;
}

async function ping(ctx: ClientContext, selector: string | null, count: number): Promise<number> {
  const once = async (n: NodeConfig): Promise<string> => {
    const r = await ctx.caller.call(endpointOf(ctx, n), "ping", []);
    if (!r.ok && r.authFailed) ctx.err(`drcm: ${failureText(n.nodename, r)}\n`);
    const ok = r.ok && pingReplySchema.safeParse(r.reply).success;
    return `ping ${n.nodename}@${n.keepAliveIp} ${ok ? "successful" : "failed with recv error"}`;
  };
  if (selector === null) {
    ctx.out("ping DRCM cluster\n");
    const lines = await Promise.all(ctx.cluster.nodes.map(once));
    for (const l of lines) ctx.out(`${l}\n`);
    // 1.x looked at the last node only; any failure fails the cluster ping.
    const bad = lines.some((l) => !l.endsWith("successful"));
    ctx.out(`ping DRCM cluster ${bad ? "failed" : "successful"}\n`);
    return bad ? 1 : 0;
  }
  const n = resolveNode(ctx.cluster, selector, ctx.self);
  if (n === null) {
    ctx.out(`ping ERROR no cluster node found for ${selector}\n`);
    return EXIT_USAGE;
  }
  const label = selector.trim().split(/\s+/)[0]!;
  ctx.out(`ping ${label}\n`);
  let bad = false;
  for (let i = 0; i < count; i++) {
    const l = await once(n);
    if (!l.endsWith("successful")) bad = true;
    ctx.out(`${l}\n`);
  }
  ctx.out(`ping ${label} ${bad ? "failed" : "successful"}\n`);
  return bad ? 1 : 0;
}

async function operator(ctx: ClientContext, spec: CommandSpec, args: readonly string[]): Promise<number> {
  let cmd: OperatorCommand;
  const needNode = (word: string): string | null => {
    const n = resolveNode(ctx.cluster, word, ctx.self);
    if (n === null) ctx.err(`drcm: ERROR - No cluster node found for "${word}": known nodes are ${ctx.cluster.nodes.map((x) => x.nodename).join(", ")}\n`);
    return n?.nodename ?? null;
  };
  const needResource = (word: string): ResourceId | null => {
    const r = resolveResource(ctx.cluster, word);
    if (typeof r === "string") {
      ctx.err(`drcm: ERROR - ${r}\n`);
      return null;
    }
    return r.id;
  };
  switch (spec.name) {
    case "standby":
    case "unstandby": {
      const node = needNode(args[0]!);
      if (node === null) return EXIT_FAILED;
      cmd = { op: spec.name, node };
      break;
    }
    case "move": {
      const resource = needResource(args[0]!);
      const node = resource === null ? null : needNode(args[1]!);
      if (resource === null || node === null) return EXIT_FAILED;
      const opt = args[2];
      if (opt === undefined) {
        cmd = { op: "move", resource, node };
        break;
      }
      const ms = opt.startsWith("--lifetime=") ? parseDurationMs(opt.slice("--lifetime=".length)) : null;
      if (ms === null || ms <= 0) {
        ctx.err(`drcm: ERROR - Cannot parse "${opt}": expected --lifetime=DURATION like --lifetime=30m\n`);
        return EXIT_FAILED;
      }
      cmd = { op: "move", resource, node, lifetimeMs: ms };
      break;
    }
    case "clear": {
      const all = args[0] === "--all";
      const resource = all ? null : needResource(args[0]!);
      if (!all && resource === null) return EXIT_FAILED;
      cmd = { op: "clear", resource };
      break;
    }
    case "maintenance": {
      const word = args[0]!.toLowerCase();
      if (word !== "on" && word !== "off") {
        ctx.err(`drcm: ERROR - Cannot parse "${args[0]}": usage ${spec.usage}\n`);
        return EXIT_FAILED;
      }
      const node = args[1] === undefined ? null : needNode(args[1]);
      if (args[1] !== undefined && node === null) return EXIT_FAILED;
      cmd = { op: "maintenance", on: word === "on", node };
      break;
    }
    case "cleanup": {
      const resource = needResource(args[0]!);
      if (resource === null) return EXIT_FAILED;
      cmd = { op: "cleanup", resource };
      break;
    }
    case "reload": {
      const problem = ctx.precheckReload ? await ctx.precheckReload() : null;
      if (problem !== null) {
        ctx.err(`${problem}\ndrcm: ERROR - Reload not sent: fix the config errors above first\n`);
        return 1;
      }
      cmd = { op: "reload" };
      break;
    }
    default:
      ctx.err(`drcm: ERROR - Command "${spec.name}" is not implemented\n`);
      return EXIT_FAILED;
  }
  // Sent to the local node (or the first that answers), which forwards it to the node it concerns.
  const targets = ctx.self !== null ? [ctx.self, ...ctx.cluster.nodes.filter((n) => n !== ctx.self)] : [...ctx.cluster.nodes];
  const tried: string[] = [];
  for (const n of targets) {
    const r = await ctx.caller.call(endpointOf(ctx, n), "command", encodeCommandArgs(cmd), { connectMs: 300, totalMs: 5000 });
    if (!r.ok) {
      tried.push(failureText(n.nodename, r));
      continue;
    }
    const v = commandReplySchema.safeParse(r.reply);
    if (!v.success) {
      ctx.err(`drcm: ERROR - ${n.nodename} refused the command (no valid answer; is the key the same on every node?)\n`);
      return 1;
    }
    (v.data.ok ? ctx.out : ctx.err)(`${v.data.message}\n`);
    return v.data.ok ? 0 : 1;
  }
  for (const t of tried) ctx.err(`drcm: ${t}\n`);
  ctx.err("drcm: ERROR - No cluster node accepted the command\n");
  return 1;
}
