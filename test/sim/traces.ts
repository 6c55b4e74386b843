// Runs a test/sim/testdata script through the sim World and renders what happened as stable text:
// the decision trace (events by type and fields, start/stop actions from the agents' journal) with
// sim-time stamps relative to the command, and placement on request. See testdata/README.md.
//
// Only World's public surface is used (start/startAll/kill/restart/leave/stall/cut/partition/heal/
// failWatch/command/run/holdersOf/powerOff, `now`, and the `events`/`journal` arrays), so the scripts
// keep working when World's internals change.
import { RESOURCE_KINDS, resourceId, type Cluster, type ResourceKind, type ServerConfig } from "../../lib/config/model.ts";
import { parseDurationMs } from "../../lib/config/values.ts";
import { slotsOf } from "../../lib/core/slots.ts";
import type { ClusterEvent, OperatorCommand, Step } from "../../lib/core/types.ts";
import type { Block } from "./datadriven.ts";
import { makeCluster } from "./topology.ts";
import { SimFailure, World } from "./world.ts";

/** Seed of every script unless its `cluster` line says `seed=`. */
export const DEFAULT_SEED = 1;
/**
 * Fixed script run time and network delay: a trace shows decisions, not jitter, and stays put when
 * World draws its random numbers in another order (only the heartbeat phases are still seeded).
 */
const SCRIPT_MS = [10, 10] as const;
const DELAY_MS = [1, 1] as const;

export class ScriptError extends Error {}

/** The simulation failed (an invariant, a timeout) part-way through a command: what was traced until then. */
class TracedFailure extends Error {
  constructor(
    readonly lines: readonly string[],
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** A script's World and the cluster it was built from (kept here rather than read back from World). */
interface Sim {
  readonly w: World;
  readonly cluster: Cluster;
}

/** Short name of a resource or slot in the trace: `ipaddr:vip1@cmnode1` -> `vip1`. */
const nick = (id: string): string => id.slice(id.indexOf(":") + 1).replace(/@.*$/, "");

/**
 * One event as a line: reporter, type, then the fields that are set (resource, from, to, node), never
 * the message text, so rewording a log message changes no trace. An event about a resource but not
 * one of the reporter's slots (an operator move: `acquire` with a node and no slot) always names
 * the node, so it does not read like the reporter acquiring it.
 */
export function renderEvent(reporter: string, e: ClusterEvent): string {
  const parts = [reporter, e.type];
  const res = e.resource ?? e.slot;
  if (res !== undefined) parts.push(nick(res));
  if (e.from !== undefined) parts.push("from", e.from);
  if (e.to !== undefined && e.to !== reporter) parts.push("to", e.to);
  const aboutOther = e.node !== undefined && e.node !== reporter && e.node !== e.from;
  if (e.node !== undefined && (aboutOther || (res !== undefined && e.slot === undefined))) {
    if (res !== undefined) parts.push("on");
    parts.push(e.node);
  }
  return parts.join(" ");
}

/** Milliseconds since the command started, right-aligned so that a block reads as a column. */
const stamp = (ms: number): string => `${`+${ms}`.padStart(7)}ms `;

/** cm.cfg [CM_SERVER] keys a `cluster` line may set. */
const SERVER_KEYS: Record<string, (v: string) => Partial<ServerConfig>> = {
  failback_delay: (v) => ({ failbackDelayMs: duration(v, true) }),
  auto_failback: (v) => ({ autoFailback: flag(v) }),
  dead_time: (v) => ({ deadTimeMs: duration(v) }),
  keep_alive_interval: (v) => ({ keepAliveIntervalMs: duration(v) }),
  max_failures: (v) => ({ maxFailures: count(v) }),
  quorum: (v) => {
    if (v !== "majority" && v !== "none") throw new ScriptError(`Bad quorum "${v}": expected "majority" or "none"`);
    return { quorum: v };
  },
};

function duration(v: string, zeroOk = false): number {
  const ms = parseDurationMs(v);
  if (ms === null || (ms === 0 && !zeroOk)) throw new ScriptError(`Bad duration "${v}": expected one like "500ms" or "2s"`);
  return ms;
}
function flag(v: string): boolean {
  if (v !== "0" && v !== "1") throw new ScriptError(`Bad flag "${v}": expected 0 or 1`);
  return v === "1";
}
function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ScriptError(`Bad count "${v}": expected a whole number of at least 1`);
  return n;
}

/** `cluster nodes=3 kinds=ipaddr,service failback_delay=2s ...` -> the World it describes. */
export function simOf(args: readonly string[]): Sim {
  let nodes = 0;
  let seed = DEFAULT_SEED;
  let kinds: ResourceKind[] | undefined;
  let backups: number | undefined;
  let inactive: string[] | undefined;
  let checkMs: number | undefined;
  let server: Partial<ServerConfig> = {};
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq < 1) throw new ScriptError(`Bad cluster setting "${a}": expected key=value`);
    const k = a.slice(0, eq);
    const v = a.slice(eq + 1);
    if (k === "nodes") nodes = count(v);
    else if (k === "seed") seed = Number(v);
    else if (k === "backups") backups = count(v);
    else if (k === "check") checkMs = duration(v);
    else if (k === "inactive") inactive = v.split(",");
    else if (k === "kinds") {
      kinds = v.split(",") as ResourceKind[];
      const bad = kinds.find((x) => !(RESOURCE_KINDS as readonly string[]).includes(x));
      if (bad) throw new ScriptError(`Unknown resource kind "${bad}": expected one of ${RESOURCE_KINDS.join(", ")}`);
    } else if (SERVER_KEYS[k]) server = { ...server, ...SERVER_KEYS[k](v) };
    else throw new ScriptError(`Unknown cluster setting "${k}": expected nodes, seed, kinds, backups, check, inactive or ${Object.keys(SERVER_KEYS).join(", ")}`);
  }
  if (nodes === 0) throw new ScriptError(`The cluster line needs nodes=N`);
  const cluster = makeCluster({ nodes, kinds, backups, inactive, checkMs, server });
  const w = new World({ seed, cluster, actionMs: SCRIPT_MS, delayMs: DELAY_MS, replayCmd: "bun test ./test/sim/testdata.test.ts" });
  return { w, cluster };
}

/** Each resource with its candidates in order (owner first): the topology the trace is about. */
function topologyLines(cluster: Cluster): string[] {
  const slots = slotsOf(cluster);
  return cluster.resources.flatMap((r) => slots.filter((s) => s.nickname === r.nickname).map((s) => `${s.nickname}: ${s.candidates.join(" > ")}`));
}

/** Runs the blocks in order and returns the output of each; a script mistake throws ScriptError. */
export function runScript(blocks: readonly Block[]): string[][] {
  const outputs: string[][] = [];
  let sim: Sim | null = null;
  let failed = false;
  for (const b of blocks) {
    const [cmd, ...args] = b.command.trim().split(/\s+/);
    try {
      if (cmd === "cluster") {
        if (sim) throw new ScriptError(`Only one cluster line per script`);
        sim = simOf(args);
        outputs.push(topologyLines(sim.cluster));
        continue;
      }
      if (!sim) throw new ScriptError(`The script must start with a cluster line`);
      if (failed) {
        outputs.push(["skipped: the simulation failed above"]);
        continue;
      }
      outputs.push(runCommand(sim, cmd!, args));
    } catch (err) {
      if (err instanceof ScriptError) throw new ScriptError(`${err.message} (command "${b.command}" at line ${b.line})`);
      if (!(err instanceof TracedFailure)) throw err;
      failed = true;
      outputs.push([...err.lines, `FAILED: ${err.reason}`]);
    }
  }
  return outputs;
}

/** Everything the cores reported and asked the agents to start or stop while `f` ran. */
function traced(w: World, f: () => string[]): string[] {
  const t0 = w.now;
  const e0 = w.events.length;
  const j0 = w.journal.length;
  let extra: string[] = [];
  let failure: unknown = null;
  try {
    extra = f();
  } catch (err) {
    failure = err;
  }
  const lines: Array<{ at: number; text: string }> = [];
  for (const x of w.events.slice(e0)) lines.push({ at: x.at, text: renderEvent(x.node, x.e) });
  for (const x of w.journal.slice(j0)) lines.push({ at: x.at, text: `${x.node} ${x.type} ${nick(x.slot)}` });
  // Stable sort: at one instant, events (reported first by the step) before the actions it asked for.
  lines.sort((a, b) => a.at - b.at);
  const out = [...lines.map((l) => `${stamp(l.at - t0)}${l.text}`), ...extra];
  if (failure instanceof SimFailure) throw new TracedFailure(out, failure.message.split("\n")[0]!);
  if (failure) throw failure;
  return out;
}

/** A fault or a clock step: it prints only what the cores did meanwhile. */
function quiet(w: World, f: () => void): string[] {
  return traced(w, () => {
    f();
    return [];
  });
}

function node(sim: Sim, name: string | undefined): string {
  if (!name || !sim.cluster.nodes.some((n) => n.nodename === name))
    throw new ScriptError(`Unknown node "${name ?? ""}": expected one of ${sim.cluster.nodes.map((n) => n.nodename).join(", ")}`);
  return name;
}

function resource(sim: Sim, name: string | undefined): string {
  const r = sim.cluster.resources.find((x) => x.nickname === name);
  if (!r) throw new ScriptError(`Unknown resource "${name ?? ""}": expected one of ${sim.cluster.resources.map((x) => x.nickname).join(", ")}`);
  return resourceId(r.kind, r.nickname);
}

/** `... on cmnode3` at the end of an operator command: where it is typed (default: `dflt`). */
function typedOn(sim: Sim, args: readonly string[], n: number, dflt: string): string {
  if (args.length === n) return dflt;
  if (args.length === n + 2 && args[n] === "on") return node(sim, args[n + 1]);
  throw new ScriptError(`Expected ${n} argument(s), optionally followed by "on NODE"`);
}

function operator(w: World, on: string, cmd: OperatorCommand): string[] {
  return traced(w, () => {
    const step: Step | null = w.command(on, cmd);
    if (step === null) return [`not sent: no daemon runs on ${on}`];
    return step.rejected === undefined ? [] : [`rejected: ${step.rejected}`];
  });
}

function runCommand(sim: Sim, cmd: string, args: readonly string[]): string[] {
  const w = sim.w;
  const want = (n: number) => {
    if (args.length !== n) throw new ScriptError(`Expected ${n} argument(s), got ${args.length}`);
  };
  switch (cmd) {
    case "run": {
      want(1);
      const ms = duration(args[0]!);
      return quiet(w, () => w.run(w.now + ms));
    }
    case "start":
      want(1);
      return quiet(w, () => (args[0] === "all" ? w.startAll() : w.start(node(sim, args[0]))));
    case "kill":
      want(1);
      return quiet(w, () => w.kill(node(sim, args[0])));
    case "power-off":
      want(1);
      return quiet(w, () => w.powerOff(node(sim, args[0])));
    case "restart":
      want(1);
      return quiet(w, () => w.restart(node(sim, args[0])));
    case "stop":
      want(1);
      return quiet(w, () => w.leave(node(sim, args[0])));
    case "stall":
      want(2);
      return quiet(w, () => w.stall(node(sim, args[0]), duration(args[1]!)));
    case "cut":
      want(2);
      return quiet(w, () => w.cut(node(sim, args[0]), node(sim, args[1])));
    case "isolate": {
      want(1);
      const n = node(sim, args[0]);
      return quiet(w, () => w.partition([[n], sim.cluster.nodes.map((x) => x.nodename).filter((x) => x !== n)]));
    }
    case "partition": {
      const groups = args.join(" ").split("|").map((g) => g.split(/[\s,]+/).filter((x) => x !== "").map((x) => node(sim, x)));
      if (groups.length < 2 || groups.some((g) => g.length === 0)) throw new ScriptError(`Expected groups of nodes like "cmnode1 | cmnode2,cmnode3"`);
      return quiet(w, () => w.partition(groups));
    }
    case "heal":
      want(0);
      return quiet(w, () => w.heal());
    case "fail-watch":
    case "fix-watch":
      want(2);
      return quiet(w, () => w.failWatch(node(sim, args[0]), resource(sim, args[1]), cmd === "fail-watch"));
    case "standby":
    case "unstandby": {
      const n = node(sim, args[0]);
      return operator(w, typedOn(sim, args, 1, n), { op: cmd, node: n });
    }
    case "move": {
      const r = resource(sim, args[0]);
      const n = node(sim, args[1]);
      return operator(w, typedOn(sim, args, 2, n), { op: "move", resource: r, node: n });
    }
    case "cleanup": {
      const r = resource(sim, args[0]);
      const owner = slotsOf(sim.cluster).find((s) => s.resource === r)!.owner;
      return operator(w, typedOn(sim, args, 1, owner), { op: "cleanup", resource: r });
    }
    case "placement":
      want(0);
      return sim.cluster.resources.map((r) => {
        const on = w.holdersOf(resourceId(r.kind, r.nickname));
        return `${r.nickname}: ${on.length > 0 ? on.join(" ") : "-"}`;
      });
    default:
      throw new ScriptError(`Unknown command "${cmd}"`);
  }
}
