// [CM_SERVER] -> ServerConfig: 1.x keys (packaging/doc/configuration.md, "[CM_SERVER]") plus the drcm 2 timing, quorum and alert keys.
import { isAbsolute, resolve } from "node:path";
import { Block } from "./fields.ts";
import { SERVER_KEYS } from "./keys.ts";
import { error, info, warn, type KeyValue } from "./lexer.ts";
import type { Finding, ResourceKind, ServerConfig } from "./model.ts";
import { formatMs, isIPv4, schemas, splitList } from "./values.ts";

const KNOWN = SERVER_KEYS.map((k) => k.key);
const TIMEOUT_DEFAULT_MS: Record<ResourceKind, number> = {
  crontab: 10_000,
  ipaddr: 10_000,
  service: 60_000,
  application: 120_000,
  filesystem: 60_000,
};

/** `etcDir` anchors relative alert_script/fence_script paths, as it does for resource scripts. */
export function parseServer(entries: readonly KeyValue[], nodeCount: number, file: string, findings: Finding[], etcDir: string): ServerConfig {
  const b = new Block(file, "[CM_SERVER]", entries, KNOWN, findings);
  for (const k of SERVER_KEYS)
    if (k.ignored && b.has(k.key)) findings.push(info(file, b.line(k.key), `Key "${k.key}" is accepted but has no effect in drcm 2`));

  const keepAliveIntervalMs = b.typed("keep_alive_interval", schemas.duration, 50);
  const deadNodeCount = b.has("dead_node_count") ? b.typed<number | null>("dead_node_count", schemas.positiveInt, null) : null;
  let deadTimeMs = b.typed("dead_time", schemas.duration, 800);
  if (!b.has("dead_time") && deadNodeCount !== null) {
    deadTimeMs = Math.max(4, deadNodeCount) * keepAliveIntervalMs;
    if (deadNodeCount < 4)
      findings.push(
        warn(file, b.line("dead_node_count"), `"dead_node_count" = ${deadNodeCount} is below the minimum of 4 missed heartbeats; 4 is used (dead_time ${formatMs(deadTimeMs)})`),
      );
  }
  if (b.has("dead_time") && deadNodeCount !== null)
    findings.push(info(file, b.line("dead_node_count"), `"dead_node_count" is ignored because "dead_time" is set (line ${b.line("dead_time")})`));
  const deadLine = b.line("dead_time") || b.line("dead_node_count") || b.line("keep_alive_interval");
  if (deadTimeMs < 2 * keepAliveIntervalMs)
    findings.push(
      error(file, deadLine, `"dead_time" ${formatMs(deadTimeMs)} must be at least 2 x keep_alive_interval (${formatMs(2 * keepAliveIntervalMs)})`),
    );
  else if (deadTimeMs < 4 * keepAliveIntervalMs)
    findings.push(
      warn(file, deadLine, `"dead_time" ${formatMs(deadTimeMs)} is under 4 x keep_alive_interval (${formatMs(4 * keepAliveIntervalMs)}): one or two lost heartbeats will fail a node over`),
    );

  const quorum = b.typed("quorum", schemas.quorum, nodeCount >= 3 ? "majority" : "none");
  const pingTargets = splitList(b.str("ping_targets", ""));
  for (const t of pingTargets)
    if (!isIPv4(t)) findings.push(error(file, b.line("ping_targets"), `Cannot parse "ping_targets" in [CM_SERVER]: expected IPv4 addresses, got "${t}"`));

  if (b.has("http_port") && b.str("http_port", "").trim() !== "" && b.str("http_port", "").trim() === b.str("tcpport", "53897").trim())
    findings.push(error(file, b.line("http_port"), `"http_port" ${b.str("http_port", "").trim()} is the tcpport of the control channel: choose another port`));

  const path = (p: string): string => (isAbsolute(p) ? p : resolve(etcDir, p));
  const alertScripts = b
    .str("alert_script", "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(path);
  const fence = b.str("fence_script", "");
  const logfileName = b.has("logfile_name") ? b.str("logfile_name", "drcm.log") : b.str("logfile", "drcm.log");

  const positive = (key: string, def: number) => b.typed(key, schemas.positiveInt, def);
  positive("log_queue_size", 2048);
  positive("log_queue_debug_size", 4096);
  positive("log_queue_proc_size", 255);

  return {
    udpport: b.typed("udpport", schemas.port, 53897),
    tcpport: b.typed("tcpport", schemas.port, 53897),
    httpPort: b.has("http_port") && b.str("http_port", "").trim() !== "" ? b.typed<number | null>("http_port", schemas.port, null) : null,
    httpBind: b.typed("http_bind", schemas.httpBind, "keep_alive_ip"),
    alertOn: b.typed("alert_on", schemas.alertOn, "one"),
    bindToKeepAliveIp: b.bool("bind_to_keep_alive_ip", true),
    runDir: b.str("run_dir", "/var/run/drcm"),
    logDir: b.str("log_dir", "/var/log/drcm"),
    spoolDir: b.str("spool_dir", "/var/spool/drcm"),
    clusterUser: b.str("cluster_user", "root"),
    clusterGroup: b.str("cluster_group", "root"),
    sudoCommand: b.str("sudo_command", "sudo su root -c"),
    serviceName: b.str("service_name", "drcm_server"),
    logfileName: logfileName.split("/").pop() || "drcm.log",
    numLogsToKeep: positive("num_logs_to_keep", 3),
    maxLogSize: b.typed("max_log_size", schemas.maxLogSize, 5_000_000),
    enableLogging: b.bool("enable_logging", true),
    clearLog: b.bool("clear_log", false),
    logLevel: b.typed("log_level", schemas.nonNegativeInt, 1),
    debug: b.bool("debug", false),
    debugLevel: positive("debug_level", 1),
    verbose: b.bool("verbose", false),
    verboseLevel: positive("verbose_level", 1),
    deadNodeCount,
    keepAliveIntervalMs,
    deadTimeMs,
    failbackDelayMs: b.typed("failback_delay", schemas.durationOrZero, 5000),
    failureTimeoutMs: b.has("failure_timeout") ? b.typed<number | null>("failure_timeout", schemas.duration, null) : null,
    autoFailback: b.bool("auto_failback", true),
    quorum,
    pingTargets,
    fenceScript: fence === "" ? null : path(fence),
    alertScripts,
    maxFailures: positive("max_failures", 3),
    actionTimeoutMs: {
      crontab: b.typed("crontab_timeout", schemas.duration, TIMEOUT_DEFAULT_MS.crontab),
      ipaddr: b.typed("ipaddr_timeout", schemas.duration, TIMEOUT_DEFAULT_MS.ipaddr),
      service: b.typed("service_timeout", schemas.duration, TIMEOUT_DEFAULT_MS.service),
      application: b.typed("application_timeout", schemas.duration, TIMEOUT_DEFAULT_MS.application),
      filesystem: b.typed("filesystem_timeout", schemas.duration, TIMEOUT_DEFAULT_MS.filesystem),
    },
    alertTimeoutMs: b.typed("alert_timeout", schemas.duration, 10_000),
    fenceTimeoutMs: b.typed("fence_timeout", schemas.duration, 60_000),
    lines: b.lines(),
  };
}
