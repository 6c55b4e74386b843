// `explain NICK`: where a resource is, the whole chain of why, and where it would go next. Pure:
// status in, text out. The why is the core's cause (lib/core/cause.ts) rendered by describeCause();
// the only facts added here are the answering node's view of the candidates and quorum.

import { describeCause } from "../core/cause.ts";
import type { ClusterStatus, NodeStatus, SlotStatus } from "../core/types.ts";
import { age, type Stamp } from "./stamp.ts";
import { causeText } from "./view.ts";

export interface ExplainOptions {
  /** Wall clock ms of the answer. */
  readonly now: number;
  readonly stamp: Stamp;
  /** dead_time of the config: a dead node died dead_time after its last heartbeat. */
  readonly deadTimeMs: number;
}

/** The slots `word` names: by nickname (every kind sharing it) or by `kind:nickname`. */
export function slotsNamed(status: ClusterStatus, word: string): SlotStatus[] {
  const exact = status.slots.filter((s) => s.nickname === word || s.resource === word);
  if (exact.length > 0) return exact;
  const w = word.toLowerCase();
  return status.slots.filter((s) => s.nickname.toLowerCase() === w || s.resource.toLowerCase() === w);
}

export function renderExplain(status: ClusterStatus, slots: readonly SlotStatus[], opts: ExplainOptions): string {
  const out: string[] = [];
  for (const s of slots) {
    if (out.length > 0) out.push("");
    out.push(`${s.slot} (${s.kind} ${s.nickname}, primary ${s.owner}, candidates ${s.candidates.join(", ")})`);
    out.push(`  where: ${where(status, s)}`);
    out.push(`  why:   ${causeText(s) ?? `${s.owner} is its primary`}`);
    out.push(`  nodes: ${s.candidates.map((c) => nodeFacts(status.nodes.find((n) => n.nodename === c), c, opts)).join("; ")}`);
    out.push(`  quorum: ${quorumFacts(status)}`);
    out.push(`  next:  ${next(s)}`);
  }
  out.push(`(as seen by ${status.self})`);
  return `${out.join("\n")}\n`;
}

function where(status: ClusterStatus, s: SlotStatus): string {
  const up = new Set(status.nodes.filter((n) => n.self || (n.state !== "dead" && n.state !== "leaving")).map((n) => n.nodename));
  const holders = s.holders.filter((h) => up.has(h.node));
  const want = s.desired === null ? "it may run nowhere now" : holders.some((h) => h.node === s.desired) ? null : `should be on ${s.desired}`;
  if (holders.length === 0) return `not running${want === null ? "" : `, ${want}`}`;
  const on = holders.map((h) => `${h.node} (${h.role}, claim ${h.claim}, for ${age(h.heldMs)})`).join(" and ");
  return `on ${on}${want === null ? "" : `; ${want}`}`;
}

function nodeFacts(n: NodeStatus | undefined, name: string, opts: ExplainOptions): string {
  if (n === undefined) return `${name} not in the answering node's config`;
  if (n.self) return `${name} ${n.state} (answering)`;
  if (n.heartbeatAgeMs === null) return `${name} ${n.state}, never heard`;
  const heard = `no heartbeat for ${age(n.heartbeatAgeMs)}`;
  if (n.state !== "dead") return `${name} ${n.state}, heartbeat ${age(n.heartbeatAgeMs)} ago`;
  return `${name} dead since ${opts.stamp(opts.now - n.heartbeatAgeMs + opts.deadTimeMs)}, ${heard}`;
}

function quorumFacts(status: ClusterStatus): string {
  const q = status.quorum;
  if (q.policy === "none") return `${q.alive} of ${q.total} nodes alive (quorum not used)`;
  return `${q.alive} of ${q.total} nodes alive (majority: ${q.has ? "has quorum" : "NO QUORUM"})`;
}

function next(s: SlotStatus): string {
  if (s.next === undefined) return "unknown (the answering node is older than explain)";
  if (s.next === null) return "nothing holds it or should: nothing to take over";
  const to = s.next.node === null ? "it would run nowhere" : `it would go to ${s.next.node}`;
  return `if ${s.next.ifDown} fails, ${to}: ${describeCause(s.next.cause)}`;
}
