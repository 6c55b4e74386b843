// `health`: one monitoring-plugin line and exit code (Nagios/Icinga/Zabbix agents):
//   0 OK        every node alive, every slot held where placement wants it
//   1 WARNING   the cluster serves everything but is degraded (a node down or suspect, standby,
//               config differs, resources failed over, a resource failing its watch, packets
//               rejected for a bad key or an unknown sender: a peer with a wrong key looks dead,
//               a node that missed the report deadline)
//   2 CRITICAL  a resource is held nowhere, a floating IP or crontab is held twice, no quorum,
//               the local node fails outright, or no node answers within the deadline
//   3 UNKNOWN   the check itself could not run (no config, no key)

import { PROTOCOL_VERSION } from "../wire/codec.ts";
import type { ClusterStatus } from "../core/types.ts";
import { age } from "./stamp.ts";
import { causeText, summarize } from "./view.ts";
import { noAnswerProblem } from "./deadline.ts";

export const OK = 0;
export const WARNING = 1;
export const CRITICAL = 2;
export const UNKNOWN = 3;
const NAMES = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;

export interface HealthResult {
  readonly code: 0 | 1 | 2 | 3;
  readonly state: (typeof NAMES)[number];
  /** `DRCM <STATE> - <summary> | <perfdata>` */
  readonly line: string;
  readonly problems: readonly string[];
}

/** A node heard with another protocol version (status reply `info.otherVersion`). */
export interface OtherVersion {
  readonly node: string;
  readonly version: number;
}
export const otherVersionProblem = (o: OtherVersion): string =>
  `${o.node} speaks protocol version ${o.version}, not ${PROTOCOL_VERSION} (bad_version): run the same drcm release on every node`;

/** Rejection counters that mean a misconfigured peer, not the guard doing its job (replay, stale). */
const SUSPECT_REJECTIONS = ["bad_mac", "unknown_sender", "bad_source"] as const;

/**
 * `rejected`: the answering node's counters (status reply `info.rejected`), totals since it started.
 * `noAnswer`: nodes the client asked that did not answer within the report deadline (WARNING each:
 * the answering node's view still says whether they are alive).
 */
export function evaluateHealth(
  status: ClusterStatus,
  rejected: Readonly<Record<string, number>> = {},
  noAnswer: readonly string[] = [],
  otherVersion: readonly OtherVersion[] = [],
): HealthResult {
  const sum = summarize(status);
  const critical: string[] = [];
  const warning: string[] = [];

  for (const r of sum.resourcesDown) {
    const down = sum.slots.find((s) => s.slot.resource === r)?.slot;
    const reason = down === undefined ? null : causeText(down);
    critical.push(`${r} not running${reason ? ` (${reason})` : ""}`);
  }
  for (const d of sum.duplicates) critical.push(`${d.slot.slot} held by ${d.holders.map((h) => h.node).join(" and ")}`);
  if (!status.quorum.has) critical.push(`no quorum (${status.quorum.alive}/${status.quorum.total} alive)`);

  for (const n of noAnswer) warning.push(noAnswerProblem(n));
  if (sum.maintenance !== null) warning.push(`maintenance mode ${sum.maintenance}: drcm starts, stops and moves nothing there`);
  for (const n of status.nodes) {
    if (n.self) {
      if (n.state === "standby") warning.push(`${n.nodename} standby`);
    } else if (n.state !== "alive") warning.push(`${n.nodename} ${n.state}`);
    if (n.configDiffers) warning.push(`${n.nodename} config differs`);
  }
  const downResources = new Set(sum.resourcesDown);
  for (const v of sum.slots) {
    const s = v.slot;
    const why = causeText(s);
    if (v.holders.length === 0 && !downResources.has(s.resource)) warning.push(`${s.slot} not running${why ? ` (${why})` : ""}`);
    // Where the operator put it is no failover.
    if (!sum.moved.includes(v) && v.holders.some((h) => h.role === "backup")) warning.push(`${s.slot} failed over to ${v.holders.map((h) => h.node).join(",")}`);
    if (s.failedOn.length > 0) warning.push(`${s.slot} failed on ${s.failedOn.join(",")}`);
    else if (s.lastWatch !== null && !s.lastWatch.ok) warning.push(`${s.slot} watch failed`);
  }

  const f = status.failures[0];
  if (f !== undefined)
    warning.push(`failed action: ${f.action} ${f.slot} on ${f.node} ${f.detail}${status.failures.length > 1 ? ` (and ${status.failures.length - 1} more)` : ""}`);

  const suspect = SUSPECT_REJECTIONS.filter((r) => (rejected[r] ?? 0) > 0).map((r) => `${r} ${rejected[r]}`);
  if (suspect.length > 0) warning.push(`rejected packets: ${suspect.join(" ")} (is .auth/authkey the same on every node?)`);
  for (const o of otherVersion) warning.push(otherVersionProblem(o));
  const up = new Set(status.nodes.filter((n) => n.state !== "dead").map((n) => n.nodename));
  for (const l of status.links ?? []) if (!l.up && up.has(l.node)) warning.push(`heartbeat link ${l.link + 1} to ${l.node} (${l.address}) down`);

  const code = critical.length > 0 ? CRITICAL : warning.length > 0 ? WARNING : OK;
  const problems = [...critical, ...warning];
  const n = sum.nodesTotal;
  const m = sum.slots.length;
  // Operator moves are no problem, but a check that hides them would surprise: name them after the counts.
  const moves = status.pins.map((p) => `${p.resource} moved by operator to ${p.node}${p.leftMs === null ? "" : ` for ${age(p.leftMs)} more`}`);
  const summary = `${sum.nodesUp}/${n} nodes up, ${sum.slotsHeld}/${m} resources held${moves.length > 0 ? `; ${moves.join(", ")}` : ""}`;
  const perf = [
    `nodes_up=${sum.nodesUp};;;0;${n}`,
    `resources_held=${sum.slotsHeld};;;0;${m}`,
    `failed_over=${sum.failedOver};;;0`,
    `duplicates=${sum.duplicates.length};;;0`,
    `quorum=${status.quorum.has ? 1 : 0};;;0;1`,
  ].join(" ");
  const detail = problems.length > 0 ? `: ${problems.join(", ")}` : "";
  return { code, state: NAMES[code], problems, line: `DRCM ${NAMES[code]} - ${summary}${detail} | ${perf}` };
}

/** When the check cannot reach the node it asks, or cannot run at all. */
export function healthFailure(code: typeof CRITICAL | typeof UNKNOWN, reason: string): HealthResult {
  return { code, state: NAMES[code], problems: [reason], line: `DRCM ${NAMES[code]} - ${reason}` };
}
