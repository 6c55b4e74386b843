// ha.cf directives -> [CM_SERVER] lines, plus what the node and IP mapping need (node names,
// ucast peers, heartbeat interfaces). Every directive ends as a key, a comment or a finding.
import type { Directive } from "./hacf.ts";
import type { Findings, SourceRef } from "./finding.ts";
import { isIPv4 } from "../config/values.ts";

export interface Ucast {
  readonly iface: string;
  /** IPv4 address, or a host name when the ha.cf wrote one. */
  readonly addr: string;
  readonly at: SourceRef;
}

export interface HaCfFacts {
  /** `[CM_SERVER]` body: `key = value  # ha.cf:N ...` lines and explaining comments. */
  readonly serverLines: string[];
  /** Hostnames from `node` directives, in order. */
  readonly nodes: { hostname: string; at: SourceRef }[];
  readonly ucasts: Ucast[];
  /** First interface named by bcast, mcast or ucast: the default for floating IPs written without one. */
  readonly iface: { name: string; at: SourceRef } | null;
}

/** Heartbeat times: a number of seconds, or with an `ms`/`us`/`s` suffix. Null when unreadable. */
function heartbeatMs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|us|s)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? "s").toLowerCase();
  const ms = Number(m[1]) * (unit === "ms" ? 1 : unit === "us" ? 0.001 : 1000);
  return Math.max(1, Math.round(ms));
}

/** The shortest exact drcm duration text. */
const durationText = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

const ref = (d: Directive): string => `ha.cf:${d.at.line}`;

/** ha.cf directives drcm has no use for: reported as INFO with the reason. */
const NO_EQUIVALENT: Record<string, string> = {
  logfile: "drcm logs to log_dir/logfile_name (default /var/log/drcm/drcm.log)",
  debugfile: "drcm logs to log_dir/logfile_name; debug = 1 in [CM_SERVER] adds debug lines",
  logfacility: "drcm writes its own log file, not syslog",
  use_logd: "drcm writes its own log file",
  debug: "set debug = 1 in [CM_SERVER] if wanted",
  serial: "drcm heartbeats go over UDP only; a serial link is not used",
  baud: "drcm heartbeats go over UDP only; a serial link is not used",
  apiauth: "drcm has no client API groups: its console is authenticated with the .auth key",
  compression: "drcm heartbeats are small and never compressed",
  compression_threshold: "drcm heartbeats are small and never compressed",
  traditional_compression: "drcm heartbeats are small and never compressed",
  autojoin: "drcm nodes are the [CM_NODE] blocks of cm.cfg; none join on their own",
  hopfudge: "drcm does not relay heartbeats over serial rings",
  realtime: "not configurable in drcm",
  rtprio: "not configurable in drcm",
  coredumps: "not configurable in drcm",
  conn_logd_time: "drcm writes its own log file",
  deadping: "a ping target counts as down when it does not answer; no separate time",
  hbgenmethod: "drcm uses a per-start incarnation number instead of a generation file",
  msgfmt: "drcm has its own authenticated message format",
  uuidfrom: "drcm names nodes by nodename, not UUID",
  max_rexmit_delay: "drcm does not retransmit heartbeats",
  keepalive_warn: "drcm shows a peer as suspect after dead_time/2",
};

export function mapHaCf(directives: readonly Directive[], resolved: Readonly<Record<string, string | null>>, f: Findings): HaCfFacts {
  const serverLines: string[] = [];
  const nodes: HaCfFacts["nodes"] = [];
  const ucasts: Ucast[] = [];
  let iface: HaCfFacts["iface"] = null;
  // A function, so TypeScript does not narrow `iface` to null (useIface assigns it in a closure).
  const ifaceSetAt = (at: unknown): boolean => iface !== null && iface.at === at;
  const pingTargets: { ip: string; at: SourceRef }[] = [];
  let keepalive: { ms: number; d: Directive } | null = null;
  let deadtime: { ms: number; d: Directive } | null = null;
  let failback: { value: string } | null = null;
  const comments: string[] = [];
  const useIface = (name: string | undefined, d: Directive): void => {
    if (name && iface === null) iface = { name, at: d.at };
  };
  const time = (d: Directive): number | null => {
    const ms = d.args.length === 1 ? heartbeatMs(d.args[0]!) : null;
    if (ms === null) f.warn(d.at, `Cannot read "${d.written}" value "${d.args.join(" ")}": expected a time like 2, 500ms or 1.5s; not mapped`);
    return ms;
  };

  for (const d of directives) {
    switch (d.name) {
      case "node":
        for (const h of d.args) if (!nodes.some((n) => n.hostname === h)) nodes.push({ hostname: h, at: d.at });
        if (d.args.length === 0) f.warn(d.at, `"node" names no host; ignored`);
        break;
      case "ucast":
        if (d.args.length < 2) {
          f.warn(d.at, `Cannot read "ucast ${d.args.join(" ")}": expected "ucast IFACE PEER-ADDRESS"; not mapped`);
          break;
        }
        useIface(d.args[0], d);
        ucasts.push({ iface: d.args[0]!, addr: d.args[1]!, at: d.at });
        break;
      case "bcast":
      case "mcast":
        useIface(d.args[0], d);
        f.info(d.at, `${d.written} ${d.args.join(" ")}: drcm sends heartbeats by unicast UDP to each node's keep_alive_ip${ifaceSetAt(d.at) ? `; interface ${d.args[0]} is used for floating IPs written without one` : ""}`);
        break;
      case "keepalive": {
        const ms = time(d);
        if (ms !== null) keepalive = { ms, d };
        break;
      }
      case "deadtime": {
        const ms = time(d);
        if (ms !== null) deadtime = { ms, d };
        break;
      }
      case "warntime": {
        const ms = time(d);
        if (ms === null) break;
        comments.push(`# warntime ${d.args[0]} (${ref(d)}): drcm has no warntime; it shows a silent peer as "suspect" after dead_time/2`);
        f.info(d.at, `warntime ${d.args[0]} is not a drcm key: drcm reports a peer as "suspect" after dead_time/2 (comment written)`);
        break;
      }
      case "initdead": {
        const ms = time(d);
        if (ms === null) break;
        comments.push(`# initdead ${d.args[0]} (${ref(d)}): drcm has no initdead; at start-up it waits at most dead_time for its peers`);
        f.info(d.at, `initdead ${d.args[0]} is not a drcm key: drcm's start-up wait for peers is bounded by dead_time (comment written)`);
        break;
      }
      case "udpport": {
        const p = d.args[0] ?? "";
        if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) {
          f.warn(d.at, `Cannot read udpport "${d.args.join(" ")}": expected a port 1-65535; drcm's default 53897 is used`);
          break;
        }
        serverLines.push(`udpport = ${p}  # ${ref(d)} udpport`, `tcpport = ${p}  # unused, kept equal to udpport as in 1.x`);
        f.info(d.at, `udpport ${p} -> udpport = ${p} and tcpport = ${p} (open UDP ${p} between the nodes)`);
        break;
      }
      case "auto_failback": {
        const v = (d.args[0] ?? "").toLowerCase();
        if (["on", "yes", "true", "1"].includes(v)) failback = { value: `1  # ${ref(d)} auto_failback ${d.args[0]}` };
        else if (["off", "no", "false", "0"].includes(v)) failback = { value: `0  # ${ref(d)} auto_failback ${d.args[0]}` };
        else if (v === "legacy") {
          failback = { value: `1  # ${ref(d)} auto_failback legacy` };
          f.warn(d.at, `auto_failback legacy has no drcm equivalent: mapped to auto_failback = 1 (resources go back to their primary once it has been up for failback_delay)`);
          break;
        } else {
          f.warn(d.at, `Cannot read auto_failback "${d.args.join(" ")}": expected on, off or legacy; drcm's default auto_failback = 1 is used`);
          break;
        }
        f.info(d.at, `auto_failback ${d.args[0]} -> auto_failback = ${failback.value.slice(0, 1)}`);
        break;
      }
      case "nice_failback": {
        const on = ["on", "yes", "true", "1"].includes((d.args[0] ?? "").toLowerCase());
        failback = { value: `${on ? 0 : 1}  # ${ref(d)} nice_failback ${d.args[0] ?? ""}` };
        f.info(d.at, `nice_failback ${d.args[0] ?? ""} (old name of auto_failback ${on ? "off" : "on"}) -> auto_failback = ${on ? 0 : 1}`);
        break;
      }
      case "ping":
      case "ping_group": {
        const hosts = d.name === "ping_group" ? d.args.slice(1) : d.args;
        for (const h of hosts) {
          const ip = isIPv4(h) ? h : (resolved[h] ?? null);
          if (ip === null) f.warn(d.at, `Ping node "${h}" is not an IPv4 address and did not resolve: not mapped; add its address to ping_targets`);
          else if (!pingTargets.some((t) => t.ip === ip)) pingTargets.push({ ip, at: d.at });
        }
        f.info(d.at, `${d.written} ${d.args.join(" ")} -> ping_targets (a node that reaches none of them neither takes over nor keeps floating IPs)`);
        break;
      }
      case "respawn": {
        const prog = d.args[1] ?? d.args[0] ?? "";
        if (/(^|\/)ipfail$/.test(prog)) f.info(d.at, `respawn ${prog}: not needed, drcm's ping_targets do what ipfail did`);
        else f.warn(d.at, `respawn ${d.args.join(" ")} is not mapped: run that program as a systemd service or an [CM_APPLICATIONS] entry`);
        break;
      }
      case "stonith":
      case "stonith_host":
        f.warn(d.at, `${d.written} is not mapped: write a fence_script in [CM_SERVER] (run with the dead node's name before a takeover; takeover only on exit 0)`);
        comments.push(`# ${d.written} (${ref(d)}) not mapped: set fence_script = /path/to/your/fence-program`);
        break;
      case "watchdog":
        f.warn(d.at, `watchdog ${d.args.join(" ")} is not mapped: drcm does not drive a watchdog device; use systemd's WatchdogSec or a fence_script`);
        break;
      case "crm":
      case "pacemaker": {
        const on = !["off", "no", "false", "0"].includes((d.args[0] ?? "").toLowerCase());
        if (on) f.warn(d.at, `${d.written} ${d.args.join(" ")}: Heartbeat ignored haresources with the CRM on; the CRM's CIB (cib.xml) is not imported, only haresources is`);
        else f.info(d.at, `${d.written} ${d.args.join(" ")}: Heartbeat used haresources, which is what is imported`);
        break;
      }
      default: {
        const why = NO_EQUIVALENT[d.name];
        if (why) f.info(d.at, `${d.written} is not mapped: ${why}`);
        else f.warn(d.at, `Unknown ha.cf directive "${d.written}" is not mapped`);
      }
    }
  }

  // drcm requires dead_time >= 2 x keep_alive_interval; its defaults are 50ms and 800ms.
  const kaMs = keepalive?.ms ?? 50;
  let deadMs = deadtime?.ms ?? 800;
  if (keepalive) {
    serverLines.push(`keep_alive_interval = ${durationText(kaMs)}  # ${ref(keepalive.d)} keepalive ${keepalive.d.args[0]}`);
    f.info(keepalive.d.at, `keepalive ${keepalive.d.args[0]} -> keep_alive_interval = ${durationText(kaMs)} (drcm's default is 50ms)`);
  }
  if (deadMs < 2 * kaMs) {
    const was = deadMs;
    deadMs = 4 * kaMs;
    const at = deadtime?.d.at ?? keepalive!.d.at;
    const msg = `dead_time must be at least 2 x keep_alive_interval: ${deadtime ? `deadtime ${durationText(was)}` : `drcm's default dead_time ${durationText(was)}`} raised to ${durationText(deadMs)} (4 x keepalive)`;
    if (deadtime) f.warn(at, msg);
    else f.info(at, msg);
    serverLines.push(`dead_time = ${durationText(deadMs)}  # ${ref(deadtime?.d ?? keepalive!.d)}: 4 x keepalive`);
  } else if (deadtime) {
    serverLines.push(`dead_time = ${durationText(deadMs)}  # ${ref(deadtime.d)} deadtime ${deadtime.d.args[0]}`);
    f.info(deadtime.d.at, `deadtime ${deadtime.d.args[0]} -> dead_time = ${durationText(deadMs)} (drcm's default is 800ms)`);
  }
  serverLines.push(...comments);
  if (failback) serverLines.push(`auto_failback = ${failback.value}`);
  if (pingTargets.length > 0)
    serverLines.push(`ping_targets = ${pingTargets.map((t) => t.ip).join(", ")}  # ha.cf:${[...new Set(pingTargets.map((t) => t.at.line))].join(",")} ping`);
  return { serverLines, nodes, ucasts, iface };
}
