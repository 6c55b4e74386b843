// The transcript of a simulation as text: each step's changes, one line per event, then a placement
// table. One function renders one event line (`eventLine`): when events carry a structured cause, that
// is the one place to show it.
import type { Cluster } from "../config/model.ts";
import { slotsOf } from "../core/slots.ts";
import type { Change, PlacementRow, SimResult } from "./simulate.ts";

/** Short names for the transcript: the nickname, `kind:nickname` when two kinds share it, `@owner` when a resource has several slots. */
export interface Labels {
  resource(id: string): string;
  slot(id: string): string;
}

export function labelsOf(cluster: Cluster): Labels {
  const slots = slotsOf(cluster);
  const kindsOf = new Map<string, Set<string>>();
  const slotCount = new Map<string, number>();
  for (const s of slots) {
    kindsOf.set(s.nickname, (kindsOf.get(s.nickname) ?? new Set()).add(s.kind));
    slotCount.set(s.resource, (slotCount.get(s.resource) ?? 0) + 1);
  }
  const resource = (id: string): string => {
    const nick = id.slice(id.indexOf(":") + 1);
    return (kindsOf.get(nick)?.size ?? 0) > 1 ? id : nick;
  };
  return {
    resource,
    slot(id) {
      const at = id.lastIndexOf("@");
      const rid = at < 0 ? id : id.slice(0, at);
      return (slotCount.get(rid) ?? 0) > 1 ? `${resource(rid)}@${id.slice(at + 1)}` : resource(rid);
    },
  };
}

const secs = (ms: number): string => `+${(ms / 1000).toFixed(3)}s`;

/** Why it happened. The core's own words for now; a structured cause goes here when events carry one. */
const reasonOf = (c: Change): string => c.message;

const NODE_WORDS: Record<string, string> = {
  node_dead: "dead",
  node_alive: "alive",
  node_ready: "ready",
  node_leaving: "leaving",
  node_inactive: "inactive",
  node_standby: "in standby",
  node_unstandby: "out of standby",
};

/** One change, without its time: `vip: n1 -> n2 (takeover: ...)`, `n2: node n1 dead (...)`. */
export function eventLine(c: Change, labels: Labels): string {
  const what = c.slot !== undefined ? labels.slot(c.slot) : c.resource !== undefined ? labels.resource(c.resource) : null;
  const why = reasonOf(c);
  switch (c.type) {
    case "takeover":
    case "failback":
      return `${what}: ${c.from} -> ${c.to} (${c.type}: ${why})`;
    case "acquire":
      return c.slot === undefined ? `${what}: move to ${c.node} asked (${why})` : `${what}: running on ${c.node} (${why})`;
    case "release":
      return `${what}: released on ${c.node} (${why})`;
    case "resource_failed":
      return `${what}: failed on ${c.node} (${why})`;
    case "resource_recovered":
      return `${what}: healthy on ${c.node} (${why})`;
    case "duplicate_holder":
      return `${what}: held twice (${why})`;
  }
  const word = NODE_WORDS[c.type];
  if (word !== undefined) return `${c.reporter}: node ${c.node} ${word} (${why})`;
  return `${c.reporter}: ${c.type.replace(/_/g, " ")} (${why})`;
}

export function placementTable(rows: readonly PlacementRow[], labels: Labels): string[] {
  const cells = rows.map((r) => {
    const onPrimary = r.heldBy.length === 1 && r.heldBy[0] === r.owner;
    return [labels.slot(r.slot), r.heldBy.length > 0 ? r.heldBy.join(", ") : "-- not running", onPrimary ? "" : (r.reason ?? "")];
  });
  const all = [["RESOURCE", "HELD BY", "REASON"], ...cells];
  const w0 = Math.max(...all.map((c) => c[0]!.length));
  const w1 = Math.max(...all.map((c) => c[1]!.length));
  return all.map(([a, b, c]) => `  ${a!.padEnd(w0)}  ${c === "" ? b : `${b!.padEnd(w1)}  ${c}`}`.trimEnd());
}

export function renderTranscript(r: SimResult, cluster: Cluster): string {
  const labels = labelsOf(cluster);
  const out: string[] = [r.source];
  for (const n of r.notes) out.push(`  note: ${n}`);
  out.push("", `Initial placement${r.initialSettled ? "" : " (not quiet yet: the bound ran out)"}`, ...placementTable(r.initial, labels));
  for (const s of r.steps) {
    out.push("", `== ${s.event} (t=${secs(s.atMs)})`);
    for (const n of s.notes) out.push(`  note: ${n}`);
    for (const c of s.changes) out.push(`  ${secs(c.atMs)} ${eventLine(c, labels)}`);
    if (s.changes.length === 0 && s.notes.length === 0) out.push("  no change");
    if (!s.settled) out.push("  (not quiet yet: the bound ran out; later events start from here)");
  }
  out.push("", "Final placement", ...placementTable(r.final, labels));
  return `${out.join("\n")}\n`;
}
