// `printcfg`: the 1.x global and node dump, one `<Mon DD HH:MM:SS> drcm_client: ...` line each,
// from the local config file (no network). drcm 2 keys follow the 1.x global block.

import { KIND_INFO, type Cluster, type ResourceKind } from "../config/model.ts";
import { localStamp, type Stamp } from "./stamp.ts";

const CHECK_NAME: Record<ResourceKind, string> = {
  crontab: "crontabs_check",
  service: "services_check",
  application: "applications_check",
  ipaddr: "ipaddrs_check",
  filesystem: "filesystems_check",
};
/** 1.x printed the checks and lists in this order. */
const DUMP_ORDER: readonly ResourceKind[] = ["crontab", "service", "application", "ipaddr", "filesystem"];
const LIST_ORDER: readonly ResourceKind[] = ["crontab", "ipaddr", "service", "application", "filesystem"];

function printcfgLines(c: Cluster, logFile: string): string[] {
  const s = c.server;
  const out = [
    "DR Cluster Manager Global Config",
    `UDP port = ${s.udpport}`,
    `TCP port = ${s.tcpport}`,
    ...(s.deadNodeCount !== null ? [`Dead node count = ${s.deadNodeCount}`] : []),
    `run dir = ${s.runDir}`,
    `log dir = ${s.logDir}`,
    `spool dir = ${s.spoolDir}`,
    `CM user = ${s.clusterUser}`,
    `CM group = ${s.clusterGroup}`,
    `SUDO command = ${s.sudoCommand}`,
    s.enableLogging ? "Logging is enabled" : "Logging is disabled",
    `Log file ${logFile}`,
    `Number of log files to keep ${s.numLogsToKeep}`,
    `Max log file size set to ${s.maxLogSize.toLocaleString("en-US")}`,
    `Logging level set to ${s.logLevel}`,
    s.debug ? "Debug is enabled" : "Debug is disabled",
    `Debug level set to ${s.debugLevel}`,
    `Verbose mode level set to ${s.verboseLevel}`,
    s.verbose ? "Verbose mode is enabled" : "Verbose mode is disabled",
    `keep_alive_interval = ${s.keepAliveIntervalMs} ms`,
    `dead_time = ${s.deadTimeMs} ms`,
    `failback_delay = ${s.failbackDelayMs} ms`,
    `auto_failback = ${s.autoFailback ? 1 : 0}`,
    `quorum = ${s.quorum}`,
    `ping_targets = ${s.pingTargets.join(", ")}`,
    `max_failures = ${s.maxFailures}`,
    ...LIST_ORDER.map((k) => `${KIND_INFO[k].section}: ${c.resources.filter((r) => r.kind === k).map((r) => r.nickname).join(",")}`),
    "CM node config",
  ];
  for (const n of c.nodes) {
    out.push(`nodename = ${n.nodename}`, `hostname = ${n.hostname}`, n.active ? "This node is active" : "This node is not active");
    out.push(n.keepServices ? "Node will keep node_services running if CM is offline" : "Will stop node_services if CM is offline");
    out.push(n.keepFilesystems ? "Node will keep node_filesystems mounted if CM is offline" : "Will unmount node_filesystems if CM is offline");
    out.push(n.keepApplications ? "Node will keep node_applications running if CM is offline" : "Will stop node_applications if CM is offline");
    out.push(`keep_alive_ip = ${n.keepAliveIp}`);
    for (const k of DUMP_ORDER) out.push(`${CHECK_NAME[k]} = ${n.checkMs[k] / 1000} seconds`);
    for (const k of LIST_ORDER) {
      out.push(`${KIND_INFO[k].primaryKey} = ${n.primaries[k].join(", ")}`);
      out.push(`${KIND_INFO[k].backupKey} = ${n.backups[k].map((b) => `${b.node}:${b.nickname}`).join(", ")}`);
    }
  }
  return out;
}

export function renderPrintcfg(c: Cluster, logFile: string, now: number, stamp: Stamp = localStamp): string {
  const t = stamp(now);
  return printcfgLines(c, logFile).map((l) => `${t} drcm_client: ${l}\n`).join("");
}

