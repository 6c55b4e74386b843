// The what-if events of `drcm --simulate`: text -> checked values. Pure. Every event is checked against
// the config before anything is simulated, so a typo in the fifth event costs no half-run transcript.
import type { Cluster, ResourceId } from "../config/model.ts";
import { parseDurationMs } from "../config/values.ts";
import { resolveNode, resolveResource } from "../client/resolve.ts";

export type SimEvent =
  /** The host dies: its daemon and everything running on it vanish. */
  | { readonly kind: "kill"; readonly text: string; readonly node: string }
  /** Graceful daemon stop (SIGTERM): releases, peers act at once. */
  | { readonly kind: "stop"; readonly text: string; readonly node: string }
  | { readonly kind: "start"; readonly text: string; readonly node: string }
  | { readonly kind: "standby"; readonly text: string; readonly node: string }
  | { readonly kind: "unstandby"; readonly text: string; readonly node: string }
  /** Links between nodes of different groups are cut; a node in no group keeps its links. */
  | { readonly kind: "partition"; readonly text: string; readonly groups: readonly (readonly string[])[] }
  | { readonly kind: "heal"; readonly text: string }
  /** The resource's watch and start fail on `node` (null: where it runs when the event happens) until it moves. */
  | { readonly kind: "fail"; readonly text: string; readonly resource: ResourceId; readonly node: string | null }
  | { readonly kind: "move"; readonly text: string; readonly resource: ResourceId; readonly node: string }
  | { readonly kind: "cleanup"; readonly text: string; readonly resource: ResourceId }
  | { readonly kind: "wait"; readonly text: string; readonly ms: number };

export const EVENT_VERBS = ["kill", "stop", "start", "standby", "unstandby", "partition", "heal", "fail", "move", "cleanup", "wait"] as const;

export const EVENT_SYNTAX = [
  "kill NODE",
  "stop NODE",
  "start NODE",
  "standby NODE",
  "unstandby NODE",
  "partition A,B | C",
  "heal",
  "fail NICK [on NODE]",
  "move NICK NODE",
  "cleanup NICK",
  "wait DURATION",
];

/** Longest simulated wait: the clock is virtual, but a typo like "wait 10h" should not spin for minutes. */
const MAX_WAIT_MS = 3_600_000;

class EventError extends Error {}

/**
 * The words after --simulate as events. A new event starts at each word that begins with an event verb;
 * other words continue the event before, so `"kill n1" "wait 10s"`, `kill n1 wait 10s` and
 * `partition "n1 | n2,n3"` all work. A quoted word that names no verb after a whole event is an event
 * of its own (and then an unknown one).
 */
export function groupEventWords(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const t = w.trim();
    if (t === "") continue;
    const first = t.split(/\s+/)[0]!.toLowerCase();
    const open = out[out.length - 1];
    const continues = open !== undefined && !(EVENT_VERBS as readonly string[]).includes(first) && (!/\s/.test(t) || !/\s/.test(open));
    if (continues) out[out.length - 1] = `${open} ${t}`;
    else out.push(t);
  }
  return out;
}

/** Every event, checked; or the message naming the first one that is wrong. */
export function parseEvents(cluster: Cluster, texts: readonly string[], file: string): { ok: true; events: SimEvent[] } | { ok: false; message: string } {
  const events: SimEvent[] = [];
  for (const text of texts) {
    try {
      events.push(parseEvent(cluster, text.trim().replace(/\s+/g, " "), file));
    } catch (e) {
      if (!(e instanceof EventError)) throw e;
      return { ok: false, message: `Cannot simulate "${text.trim()}": ${e.message}` };
    }
  }
  return { ok: true, events };
}

function parseEvent(cluster: Cluster, text: string, file: string): SimEvent {
  const words = text.split(" ").filter((w) => w !== "");
  const verb = (words[0] ?? "").toLowerCase();
  const args = words.slice(1);
  const arity = (n: number, form: string) => {
    if (args.length !== n) throw new EventError(`expected "${form}"`);
  };
  const node = (w: string): string => {
    const n = resolveNode(cluster, w, null);
    if (n === null) throw new EventError(`no node "${w}" in ${file} (nodes: ${cluster.nodes.map((x) => x.nodename).join(", ")})`);
    return n.nodename;
  };
  const resource = (w: string): ResourceId => {
    const nick = w.slice(w.indexOf(":") + 1);
    if (!cluster.resources.some((r) => r.nickname === nick))
      throw new EventError(`no resource "${w}" in ${file} (nicknames: ${[...new Set(cluster.resources.map((r) => r.nickname))].join(", ")})`);
    const r = resolveResource(cluster, w);
    if (typeof r === "string") throw new EventError(`${r.charAt(0).toLowerCase()}${r.slice(1)} in ${file}`);
    return r.id;
  };
  switch (verb) {
    case "kill":
    case "stop":
    case "start":
    case "standby":
    case "unstandby":
      arity(1, `${verb} NODE`);
      return { kind: verb, text, node: node(args[0]!) };
    case "heal":
      arity(0, "heal");
      return { kind: "heal", text };
    case "partition":
      return { kind: "partition", text, groups: partitionGroups(args.join(" "), node) };
    case "fail": {
      if (args.length !== 1 && !(args.length === 3 && args[1]!.toLowerCase() === "on")) throw new EventError('expected "fail NICK" or "fail NICK on NODE"');
      return { kind: "fail", text, resource: resource(args[0]!), node: args.length === 3 ? node(args[2]!) : null };
    }
    case "move":
      arity(2, "move NICK NODE");
      return { kind: "move", text, resource: resource(args[0]!), node: node(args[1]!) };
    case "cleanup":
      arity(1, "cleanup NICK");
      return { kind: "cleanup", text, resource: resource(args[0]!) };
    case "wait": {
      arity(1, "wait DURATION");
      const ms = parseDurationMs(args[0]!);
      if (ms === null || ms <= 0 || ms > MAX_WAIT_MS) throw new EventError(`expected a duration like "500ms", "10s" or "2m" (at most 1h), got "${args[0]}"`);
      return { kind: "wait", text, ms };
    }
    default:
      throw new EventError(`unknown event "${words[0] ?? ""}": write one of ${EVENT_SYNTAX.map((s) => `"${s}"`).join(", ")}`);
  }
}

function partitionGroups(spec: string, node: (w: string) => string): string[][] {
  const groups = spec.split("|").map((g) => g.split(/[\s,]+/).filter((w) => w !== "").map(node));
  if (groups.length < 2 || groups.some((g) => g.length === 0)) throw new EventError('expected "partition A,B | C": two or more groups of nodes separated by "|"');
  const seen = new Set<string>();
  for (const n of groups.flat()) {
    if (seen.has(n)) throw new EventError(`node "${n}" is in two groups`);
    seen.add(n);
  }
  return groups;
}
