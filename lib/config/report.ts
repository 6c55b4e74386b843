// Text and JSON forms of findings and of the cluster summary printed by --check-config.
// Summary lines avoid the words error/warn/fail/info so the manual's
// `drcm --check-config | grep -i -E 'error|warn|fail|info'` shows only findings.
import { KIND_INFO, linksOf, RESOURCE_KINDS, type Cluster, type Finding, type ResourceKind } from "./model.ts";
import { formatMs } from "./values.ts";

/** `cm.cfg:12` (the line part is left out when the finding is about the whole file). */
export const findingPlace = (f: Pick<Finding, "file" | "line">): string => `${f.file}${f.line > 0 ? `:${f.line}` : ""}`;

/** `cm.cfg:12: WARNING - message`, the 1.x finding line; import findings (ha.cf:3: ...) read the same. */
export const formatFinding = (f: Finding): string => `${findingPlace(f)}: ${f.severity} - ${f.message}`;

export interface Summary {
  readonly fingerprint: string;
  readonly nodes: readonly { nodename: string; hostname: string; keepAliveIp: string; active: boolean }[];
  readonly resources: Readonly<Record<string, readonly string[]>>;
  /** backer -> owner -> ["kind:nickname"] */
  readonly backups: readonly { node: string; of: string; resources: readonly string[] }[];
  readonly timings: {
    readonly keepAliveIntervalMs: number;
    readonly deadTimeMs: number;
    readonly failbackDelayMs: number;
    readonly autoFailback: boolean;
    readonly quorum: string;
    readonly pingTargets: readonly string[];
    readonly maxFailures: number;
    readonly actionTimeoutMs: Readonly<Record<string, number>>;
  };
}

/** Section order of the file (crontabs, IPs, services, applications, file systems). */
const SECTION_ORDER = Object.keys(KIND_INFO) as ResourceKind[];

export function summarize(c: Cluster): Summary {
  const backups: { node: string; of: string; resources: string[] }[] = [];
  for (const n of c.nodes)
    for (const k of SECTION_ORDER)
      for (const b of n.backups[k]) {
        let row = backups.find((x) => x.node === n.nodename && x.of === b.node);
        if (!row) backups.push((row = { node: n.nodename, of: b.node, resources: [] }));
        row.resources.push(`${k}:${b.nickname}`);
      }
  const s = c.server;
  return {
    fingerprint: c.fingerprint,
    nodes: c.nodes.map((n) => ({ nodename: n.nodename, hostname: n.hostname, keepAliveIp: linksOf(n).join(", "), active: n.active })),
    resources: Object.fromEntries(RESOURCE_KINDS.map((k) => [k, c.resources.filter((r) => r.kind === k).map((r) => r.nickname)])),
    backups,
    timings: {
      keepAliveIntervalMs: s.keepAliveIntervalMs,
      deadTimeMs: s.deadTimeMs,
      failbackDelayMs: s.failbackDelayMs,
      autoFailback: s.autoFailback,
      quorum: s.quorum,
      pingTargets: s.pingTargets,
      maxFailures: s.maxFailures,
      actionTimeoutMs: s.actionTimeoutMs,
    },
  };
}

export function summaryLines(c: Cluster): string[] {
  const s = summarize(c);
  const t = s.timings;
  const out = [`Cluster summary (config fingerprint ${s.fingerprint.slice(0, 16)})`, `  Nodes (${s.nodes.length}):`];
  for (const n of s.nodes) out.push(`    ${n.nodename}  hostname ${n.hostname}  keep_alive_ip ${n.keepAliveIp}  ${n.active ? "active" : "NOT active"}`);
  out.push("  Resources:");
  for (const k of SECTION_ORDER) {
    const list = s.resources[k] ?? [];
    if (list.length === 0) continue;
    const owners = list.map((nick) => {
      const on = c.nodes.filter((n) => n.primaries[k].includes(nick)).map((n) => n.nodename);
      return `${nick} (${on.length ? `on ${on.join(", ")}` : "on no node"})`;
    });
    out.push(`    ${KIND_INFO[k].label}: ${owners.join(", ")}`);
  }
  if (c.resources.length === 0) out.push("    none");
  out.push("  Backups:");
  for (const b of s.backups) out.push(`    ${b.node} backs up ${b.of}: ${b.resources.join(", ")}`);
  if (s.backups.length === 0) out.push("    none: resources stop when their node goes down");
  out.push(
    `  Timings: heartbeat every ${formatMs(t.keepAliveIntervalMs)}, peer dead after ${formatMs(t.deadTimeMs)}, ` +
      `resources return after ${formatMs(t.failbackDelayMs)} (${t.autoFailback ? "automatic" : "manual"}), ` +
      `quorum ${t.quorum}, ping targets ${t.pingTargets.length ? t.pingTargets.join(",") : "none"}, ${t.maxFailures} tries per resource`,
  );
  out.push(`  Script time limits: ${SECTION_ORDER.map((k) => `${k} ${formatMs(t.actionTimeoutMs[k]!)}`).join(", ")}`);
  return out;
}

/** 0 clean, 1 errors, 2 warnings only (1.x contract). */
export const exitCodeFor = (findings: readonly Finding[]): number =>
  findings.some((f) => f.severity === "ERROR") ? 1 : findings.some((f) => f.severity === "WARNING") ? 2 : 0;
