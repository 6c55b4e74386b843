// `cm_stat`: the 1.x status monitor, byte for byte where scripts look (rulers, tabs, indents,
// `Up  `/`Down`, `OK-Normal`/`OK-Backup`, the Cluster Health phrases), with the 1.x typos fixed
// (`Resource:`, `resources loaded`), followed by two drcm 2 blocks that 1.x never had:
// Node Detail (state, heartbeat age, config, quorum) and Resource Detail (watch result, fail
// count, and why a resource is not running). Pure: status, config and "now" in, text out.

import { KIND_INFO, type Cluster, type ResourceKind } from "../config/model.ts";
import type { ClusterStatus, HolderStatus, NodeStatus } from "../core/types.ts";
import { findResource, resourceDetail } from "./details.ts";
import { PLAIN, type Paint } from "./paint.ts";
import { age, localStamp, type Stamp } from "./stamp.ts";
import { causeIsPending, causeText, loadedOfKind, summarize, type Summary } from "./view.ts";
import { evaluateHealth, OK, otherVersionProblem, WARNING, type OtherVersion } from "./health.ts";
import { REPORT_DEADLINE_MS } from "./deadline.ts";

/** Start-up handshake refusals (reason unverified) up to this many are normal and not shown in cm_stat. */
const UNVERIFIED_SHOWN = 200;

/** 1.x prints resources by type in this order (not the start order). */
const CMSTAT_KIND_ORDER: readonly ResourceKind[] = ["crontab", "ipaddr", "service", "application", "filesystem"];

/** Plural used in the 1.x "<n> resource <plural> loaded out of <m>" line. */
const LOADED_WORD: Record<ResourceKind, string> = {
  crontab: "crons",
  ipaddr: "ipaddrs",
  service: "services",
  application: "applications",
  filesystem: "filesystems",
};

const WIDTH = 79;
/** Health problems listed in Node Detail; the Resource Detail block has the rest. */
const HEALTH_LINES = 8;
const MEMBER_RULER = "========================= M e m b e r   S t a t u s ===========================";
const RESOURCE_RULER = "======================== R e s o u r c e   S t a t u s ========================";
const HEALTH_RULER = "======================== C l u s t e r   H e a l t h  =========================";

/** A 79-column ruler in the 1.x style for the blocks drcm 2 adds. */
export function ruler(title: string): string {
  const spaced = ` ${title.split(" ").map((w) => w.split("").join(" ")).join("   ")} `;
  const left = "=".repeat(24);
  return left + spaced + "=".repeat(Math.max(3, WIDTH - left.length - spaced.length));
}

export interface CmStatOptions {
  /** Wall clock ms of the report (header time, start times = now - heldMs). */
  readonly now: number;
  readonly stamp?: Stamp;
  readonly paint?: Paint;
  /** The answering node's rejection counters (status reply `info.rejected`). */
  readonly rejected?: Readonly<Record<string, number>>;
  /** Nodes asked that did not answer within the report deadline (REPORT_DEADLINE_MS). */
  readonly noAnswer?: readonly string[];
  /** Nodes the answering node hears with another protocol version (status reply `info.otherVersion`). */
  readonly otherVersion?: readonly OtherVersion[];
}

/**
 * `status` is the answering node's live view; null when no node answered (everything Down,
 * as 1.x showed it).
 */
export function renderCmStat(status: ClusterStatus | null, cluster: Cluster, opts: CmStatOptions): string {
  const stamp = opts.stamp ?? localStamp;
  const p = opts.paint ?? PLAIN;
  const view = status ?? downStatus(cluster);
  const noAnswer = opts.noAnswer ?? [];
  const sum = summarize(view);
  const out: string[] = [];
  const line = (s = ""): void => {
    out.push(s);
  };

  line();
  line(`Cluster Manager Status Monitor${" ".repeat(34)}${stamp(opts.now)}`);
  line();
  if (sum.maintenance !== null) {
    line(p.bad(`  *** MAINTENANCE MODE ${sum.maintenance}: drcm starts, stops and moves nothing; watches only report ***`));
    line();
  }
  line(MEMBER_RULER);
  line();
  line("  CM Node     Hostname     Status     IP address");
  line("  -------     --------     -------    ----------");
  for (const n of view.nodes) {
    const isUp = sum.up.has(n.nodename);
    // With no view at all, a node that did not answer in time is not known to be Down.
    const state = isUp ? p.good("Up  ") : status === null && noAnswer.includes(n.nodename) ? p.warn("No answer") : p.bad("Down");
    line(`  ${n.nodename}\t${n.hostname}\t${state}\t${n.ip}`);
  }
  line();
  line(RESOURCE_RULER);
  line();
  line("  Resource     Nickname     Owner     Status     Start Time");
  line("  --------     --------     -----     -----      ----------");

  const counts = kindCounts(view, cluster, sum);
  if (sum.nodesUp === 0) {
    for (const k of CMSTAT_KIND_ORDER) line(`  ${KIND_INFO[k].label}: All nodes are down`);
    line();
  } else if (counts.some((c) => c.loaded !== c.total) || sum.duplicates.length > 0) {
    // 1.x compared only the grand totals, so a duplicate cron and a missing IP hid each other.
    for (const c of counts) {
      if (c.loaded !== c.total) line(p.warn(`  ${KIND_INFO[c.kind].label}: ${c.loaded} resource ${LOADED_WORD[c.kind]} loaded out of ${c.total}`));
    }
    if (sum.duplicates.some((d) => d.slot.kind === "crontab")) line(p.bad("  Crontab: WARNING - duplicate crontab resource detected"));
    if (sum.duplicates.some((d) => d.slot.kind === "ipaddr")) line(p.bad("  IPaddr: WARNING - duplicate IP address resource detected"));
    for (const k of ["service", "application", "filesystem"] as const) {
      if (sum.duplicates.some((d) => d.slot.kind === k)) line(p.bad(`  ${KIND_INFO[k].label}: WARNING - duplicate ${k} resource detected`));
    }
    line();
  }

  const blocks = view.nodes
    .filter((n) => sum.up.has(n.nodename))
    .map((n) => nodeBlock(n, sum, cluster, opts.now, stamp, p))
    .filter((b) => b.length > 0);
  blocks.forEach((b, i) => {
    if (i > 0) line();
    out.push(...b);
  });
  if (out[out.length - 1] !== "") line();
  line(HEALTH_RULER);
  line();
  out.push(...healthLines(view, sum, counts, p));
  line();
  if (status === null && noAnswer.length > 0) {
    out.push(p.warn(noAnswerLine(noAnswer)), "");
  }
  if (status !== null) {
    out.push(...nodeDetail(status, opts.rejected ?? {}, noAnswer, opts.otherVersion ?? [], p));
    out.push(...resourceDetailBlock(status, sum, p, opts.now, stamp));
    if (status.failures.length > 0) {
      // One blank line between sections, whatever the block above ended with.
      while (out[out.length - 1] === "") out.pop();
      out.push(...failedActions(status, p, opts.now, stamp));
    }
  }
  return `${out.join("\n")}\n`;
}

/** crm_mon's "Failed Resource Actions": every node's failed starts, stops and watches until cleanup. */
function failedActions(status: ClusterStatus, p: Paint, now: number, stamp: Stamp): string[] {
  const out = ["", ruler("Failed Actions"), ""];
  for (const f of status.failures) {
    const times = f.count === 1 ? "failed" : `failed ${f.count} times`;
    const first = f.count === 1 ? "" : ` (first ${stamp(now - f.firstAgeMs)})`;
    out.push(p.bad(`  ${f.slot} on ${f.node}: ${f.action} ${times}, last ${f.detail} at ${stamp(now - f.lastAgeMs)}${first}`));
    for (const l of f.output) out.push(`      ${l}`);
  }
  out.push("", "  drcm --client --command=\"cleanup NICK\" clears them (failure_timeout forgets them after a while)", "");
  return out;
}

interface KindCount {
  readonly kind: ResourceKind;
  readonly loaded: number;
  readonly total: number;
}

function kindCounts(view: ClusterStatus, cluster: Cluster, sum: Summary): KindCount[] {
  return CMSTAT_KIND_ORDER.map((kind) => {
    // Total = resources defined in the config (1.x), or seen in status when the config is older.
    const defined = new Set(cluster.resources.filter((r) => r.kind === kind).map((r) => r.nickname));
    for (const s of view.slots) if (s.kind === kind) defined.add(s.nickname);
    return { kind, loaded: loadedOfKind(sum, kind), total: defined.size };
  });
}

function nodeBlock(n: NodeStatus, sum: Summary, cluster: Cluster, now: number, stamp: Stamp, p: Paint): string[] {
  const rows: { kind: ResourceKind; order: number; h: HolderStatus; nickname: string }[] = [];
  for (const s of sum.slots) {
    for (const h of s.holders) {
      if (h.node !== n.nodename) continue;
      const idx = cluster.resources.findIndex((r) => r.kind === s.slot.kind && r.nickname === s.slot.nickname);
      rows.push({ kind: s.slot.kind, order: idx < 0 ? Number.MAX_SAFE_INTEGER : idx, h, nickname: s.slot.nickname });
    }
  }
  rows.sort(
    (a, b) =>
      CMSTAT_KIND_ORDER.indexOf(a.kind) - CMSTAT_KIND_ORDER.indexOf(b.kind) ||
      (a.h.role === b.h.role ? 0 : a.h.role === "primary" ? -1 : 1) ||
      a.order - b.order,
  );
  const lines: string[] = [];
  for (const r of rows) {
    const state = r.h.role === "primary" ? p.good("OK-Normal") : p.warn("OK-Backup");
    lines.push(`   ${KIND_INFO[r.kind].label}:\t${r.nickname}\t${n.hostname}\t${state}\t${stamp(now - r.h.heldMs)}`);
    const res = findResource(cluster, r.kind, r.nickname);
    lines.push(`     Resource: ${res ? resourceDetail(res) : "(not in the local config)"}`);
  }
  return lines;
}

function healthLines(view: ClusterStatus, sum: Summary, counts: readonly KindCount[], p: Paint): string[] {
  const down = sum.nodesTotal - sum.nodesUp;
  const nodeStatus =
    down === 0 ? "All cluster nodes are UP" : down === 1 ? "Cluster has 1 node DOWN" : `Cluster has ${down} nodes DOWN`;
  const loaded = counts.reduce((n, c) => n + c.loaded, 0);
  const total = counts.reduce((n, c) => n + c.total, 0);
  const countsDiffer = counts.some((c) => c.loaded !== c.total);
  let resourceStatus: string;
  if (sum.nodesUp === 0) resourceStatus = "All cluster resources in FAILED state";
  else if (sum.failedOver > 0)
    resourceStatus = sum.failedOver === 1 ? "Cluster has 1 failed over resource" : `Cluster has ${sum.failedOver} failed over resources`;
  else if (countsDiffer) resourceStatus = `${loaded} resources loaded out of ${total}`;
  else resourceStatus = "All cluster resources in NORMAL state";

  // A node's own service cannot run while that node is down: that is "DOWN nodes", not missing.
  // Missing = fewer loaded than defined of some kind, or a resource held nowhere.
  const missing = counts.some((c) => c.loaded < c.total) || sum.resourcesDown.length > 0;
  const parts: string[] = [];
  if (down > 0) parts.push("DOWN nodes");
  if (sum.failedOver > 0) parts.push("FAILEDOVER resources");
  if (missing) parts.push("MISSING resources");
  if (sum.duplicates.length > 0) parts.push("DUPLICATE resources");
  if (!view.quorum.has) parts.push("NO QUORUM");
  if (sum.maintenance !== null) parts.push("MAINTENANCE");
  let clusterStatus: string;
  if (sum.nodesUp === 0) clusterStatus = p.bad("All nodes DOWN and all resources FAILED");
  else if (parts.length === 0) clusterStatus = p.good("HEALTHY");
  else clusterStatus = p.warn(parts.join(" "));
  return [`  Node status: ${nodeStatus}`, `  Resource status: ${resourceStatus}`, `  Cluster status: ${clusterStatus}`];
}

const table = (rows: readonly (readonly string[])[]): string[] => {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join("")}`.trimEnd());
};

const noAnswerLine = (nodes: readonly string[]): string => `  No answer within ${REPORT_DEADLINE_MS} ms: ${nodes.join(", ")}`;

function nodeDetail(status: ClusterStatus, rejected: Readonly<Record<string, number>>, noAnswer: readonly string[], otherVersion: readonly OtherVersion[], p: Paint): string[] {
  const rows: string[][] = [["CM Node", "State", "Heartbeat", "Config", "Quorum", "Uptime"]];
  const sum = summarize(status);
  for (const n of status.nodes) {
    // What a Down node last said about quorum and uptime is history; do not show it as current.
    const current = sum.up.has(n.nodename);
    rows.push([
      n.nodename,
      n.self ? `${n.state} (this node)` : n.state,
      n.self ? "-" : n.heartbeatAgeMs === null ? "never" : `${age(n.heartbeatAgeMs)} ago`,
      n.configDiffers ? "DIFFERS" : "same",
      n.quorum === null || !current ? "-" : n.quorum ? "yes" : "no",
      n.uptimeMs === null || !current ? "-" : age(n.uptimeMs),
    ]);
  }
  const q = status.quorum;
  const quorum =
    q.policy === "none"
      ? "Quorum: not used (policy none)"
      : `Quorum: ${q.has ? p.good("HAS QUORUM") : p.bad("NO QUORUM")} (majority, ${q.alive} of ${q.total} nodes alive)`;
  const out = [ruler("Node Detail"), "", ...table(rows), "", `  ${quorum}`, `  Answered by: ${status.self}`];
  if (noAnswer.length > 0) out.push(p.warn(noAnswerLine(noAnswer)));
  // "unverified" is the restart handshake (protocol.md): a few per peer and link at every start are normal,
  // so they are not shown as rejections; many more mean copies of packets recorded before a start.
  const counted = Object.entries(rejected).filter(([r, n]) => n > 0 && (r !== "unverified" || n > UNVERIFIED_SHOWN));
  if (counted.length > 0) out.push(p.warn(`  Rejected packets: ${counted.map(([r, n]) => `${r} ${n}`).join(", ")}`));
  for (const o of otherVersion) out.push(p.bad(`  Protocol version: ${otherVersionProblem(o)}`));
  const links = status.links ?? [];
  if (links.length > 0) {
    // One line per link of every peer: a link can be down while the node is Up (heard on another one).
    out.push("", `  Heartbeat links (as ${status.self} hears them):`);
    const rows: string[][] = [];
    for (const l of links)
      rows.push([
        `  ${l.node}`,
        `link ${l.link + 1}`,
        l.address,
        l.up ? "up" : "DOWN",
        l.heardAgeMs === null ? "never heard" : `heard ${age(l.heardAgeMs)} ago`,
      ]);
    for (const line of table(rows)) out.push(line.includes("DOWN") ? p.warn(line) : line);
  }
  // Cluster status keeps the 1.x meaning (nodes Up, resources held); health is stricter
  // (inactive or standby nodes, config differs, failed over, rejected packets): show its verdict.
  const h = evaluateHealth(status, rejected, noAnswer, otherVersion);
  if (h.code !== OK) {
    const paint = h.code === WARNING ? p.warn : p.bad;
    out.push(paint(`  Health: ${h.state} (as drcm --client --command=health reports it)`));
    for (const problem of h.problems.slice(0, HEALTH_LINES)) out.push(paint(`    ${problem}`));
    if (h.problems.length > HEALTH_LINES) out.push(paint(`    and ${h.problems.length - HEALTH_LINES} more`));
  }
  out.push("");
  return out;
}

function resourceDetailBlock(status: ClusterStatus, sum: Summary, p: Paint, now: number, stamp: Stamp): string[] {
  const rows: string[][] = [["Resource", "Held by", "Last watch", "Failures"]];
  const notes = new Map<number, string[]>();
  sum.slots.forEach((v, i) => {
    const s = v.slot;
    const held = v.holders.length === 0 ? "-" : v.holders.map((h) => `${h.node}${h.role === "backup" ? " (backup)" : ""}`).join(", ");
    const watch = s.lastWatch === null ? "-" : `${s.lastWatch.ok ? "OK" : "FAILED"} ${age(s.lastWatch.ageMs)} ago${s.lastWatch.ok || s.lastWatch.detail === "" ? "" : ` (${s.lastWatch.detail})`}`;
    const fails = `${s.failCount}${s.failedOn.length > 0 ? ` (gave up on ${s.failedOn.join(", ")})` : ""}`;
    rows.push([s.slot, held, watch, fails]);
    const n: string[] = [];
    const pin = status.pins.find((x) => x.resource === s.resource);
    const why = causeText(s);
    if (v.holders.length === 0) n.push(p.bad(`     not running: ${why ?? "no holder"}`));
    else if (pin !== undefined && sum.moved.includes(v))
      n.push(`     moved by operator to ${pin.node} (since ${stamp(now - pin.ageMs)}, ${pin.leftMs === null ? "until cleared" : `until ${stamp(now + pin.leftMs)}`})`);
    else if (why !== null) {
      // An older node's reason only ever said what is pending; a cause may also say why it runs where it does.
      const pending = s.cause === undefined || causeIsPending(s) || !v.holders.some((h) => h.node === s.desired);
      n.push(pending ? p.warn(`     pending: ${why}`) : `     why: ${why}`);
    }
    if (v.holders.length > 1 && sum.duplicates.includes(v)) n.push(p.bad(`     DUPLICATE: held by ${v.holders.map((h) => h.node).join(" and ")}`));
    if (n.length > 0) notes.set(i, n);
  });
  const lines = table(rows);
  const out = [ruler("Resource Detail"), "", lines[0]!];
  lines.slice(1).forEach((l, i) => {
    out.push(l);
    out.push(...(notes.get(i) ?? []));
  });
  out.push("");
  return out;
}

/** What cm_stat shows when no node answered: every configured node Down, nothing held. */
function downStatus(cluster: Cluster): ClusterStatus {
  return {
    self: "",
    quorum: { policy: cluster.server.quorum, has: false, alive: 0, total: cluster.nodes.length },
    nodes: cluster.nodes.map((n) => ({
      nodename: n.nodename,
      hostname: n.hostname,
      ip: n.keepAliveIp,
      self: false,
      state: "dead",
      heartbeatAgeMs: null,
      configDiffers: false,
      quorum: null,
      pingOk: null,
      uptimeMs: null,
      maintenance: false,
    })),
    slots: [],
    maintenance: { cluster: false, nodes: [] },
    pins: [],
    failures: [],
  };
}
