// Every key drcm knows, with its default as written in the file, a one-line explanation and whether a
// running daemon can take a change of it on reload. One table serves the unknown-key warning, the
// template, the reload rules and the docs, so they cannot disagree.
import type { ServerConfig } from "./model.ts";

export interface KeyDoc {
  readonly key: string;
  /** Default as it would be written in cm.cfg; "" when there is none. */
  readonly def: string;
  readonly doc: string;
  /** drcm 2 addition (not read by 1.x). */
  readonly added?: boolean;
  /** Accepted and checked, but without effect in drcm 2. */
  readonly ignored?: boolean;
  /**
   * live: a reload applies a change (sockets are rebound, timers re-armed, the core re-reads it);
   * restart: the value is fixed when the daemon starts (log file, directories, identity), so a
   * reload that changes it is refused whole, naming the key, and the running config stays.
   */
  readonly reload: "live" | "restart";
  /** restart keys of [CM_SERVER]: the parsed field a reload compares. */
  readonly field?: keyof ServerConfig;
}

export const SERVER_KEYS: readonly KeyDoc[] = [
  { key: "udpport", def: "53897", doc: "UDP port of all cluster traffic (authenticated heartbeats); 1-65535", reload: "live" },
  { key: "tcpport", def: "53897", doc: "TCP port of the control channel (client commands, HMAC-signed; 1.x opened none); 1-65535", reload: "live" },
  { key: "http_port", def: "", doc: "TCP port of the read-only HTTP side: Prometheus /metrics, /status.json and a live status page at /; 1-65535. Default: off", added: true, reload: "restart", field: "httpPort" },
  { key: "http_bind", def: "keep_alive_ip", doc: "Where http_port listens: keep_alive_ip (this node's first one), localhost (127.0.0.1) or all (every address; only when asked)", added: true, reload: "restart", field: "httpBind" },
  { key: "bind_to_keep_alive_ip", def: "1", doc: "1: listen on this node's keep_alive_ip only; 0: on all addresses", reload: "live" },
  { key: "dead_node_count", def: "", doc: "1.x key: when dead_time is not set, dead_time = max(4, dead_node_count) x keep_alive_interval", reload: "live" },
  { key: "keep_alive_interval", def: "50ms", doc: "Heartbeat period to every peer", added: true, reload: "live" },
  { key: "dead_time", def: "800ms", doc: "A peer is dead after this long without a valid heartbeat; at least 2 x keep_alive_interval (4 x advised)", added: true, reload: "live" },
  { key: "failback_delay", def: "5s", doc: "A returning node must be up this long before it takes its resources back", added: true, reload: "live" },
  { key: "auto_failback", def: "1", doc: "1: give resources back to their primary once it is back; 0: keep them where they are", added: true, reload: "live" },
  { key: "quorum", def: "", doc: "majority: only a partition holding more than half of the nodes runs exclusive resources; none: no quorum. Default: majority with 3+ nodes, none with 1-2", added: true, reload: "live" },
  { key: "ping_targets", def: "", doc: "Comma list of IPv4 addresses (e.g. the gateway): a node that reaches none of them neither takes over nor keeps floating IPs and crontabs. Default: none", added: true, reload: "live" },
  { key: "fence_script", def: "", doc: "Run as `fence_script <dead nodename>` before taking over its exclusive resources; takeover only on exit 0. Default: none", added: true, reload: "live" },
  { key: "alert_script", def: "", doc: "Comma list of programs run on every cluster event (node dead, failover, failback, resource failed). Default: none", added: true, reload: "live" },
  { key: "failure_timeout", def: "", doc: "Failed actions (cm_stat Failed actions, status failures) are forgotten this long after their last occurrence, e.g. 1h. Default: kept until cleanup", added: true, reload: "live" },
  { key: "max_failures", def: "3", doc: "Consecutive failed starts or watches before a resource is given up on a node and handed to the next", added: true, reload: "live" },
  { key: "crontab_timeout", def: "10s", doc: "Time limit of one crontab script run", added: true, reload: "live" },
  { key: "ipaddr_timeout", def: "10s", doc: "Time limit of one floating IP script run", added: true, reload: "live" },
  { key: "service_timeout", def: "60s", doc: "Time limit of one service script run", added: true, reload: "live" },
  { key: "application_timeout", def: "120s", doc: "Time limit of one application start/stop/ensure run", added: true, reload: "live" },
  { key: "filesystem_timeout", def: "60s", doc: "Time limit of one file system script run", added: true, reload: "live" },
  { key: "alert_on", def: "one", doc: "one: an event every node sees (a death, a node back, standby, maintenance, a move) alerts once, from the lowest live node (for a death: the lowest survivor); what a node does or suffers itself (takeover, failback, failed resource, quorum, links) alerts from that node. all: every node alerts everything it sees (a 3-node cluster mails a death twice)", added: true, reload: "live" },
  { key: "alert_timeout", def: "10s", doc: "Time limit of one alert_script run", added: true, reload: "live" },
  { key: "fence_timeout", def: "60s", doc: "Time limit of one fence_script run (takeover waits for it)", added: true, reload: "live" },
  { key: "run_dir", def: "/var/run/drcm", doc: "Run directory (created at start)", reload: "restart", field: "runDir" },
  { key: "log_dir", def: "/var/log/drcm", doc: "Log directory: drcm.log and the <kind>_resource.log files (created at start)", reload: "restart", field: "logDir" },
  { key: "spool_dir", def: "/var/spool/drcm", doc: "Spool directory (created at start)", reload: "restart", field: "spoolDir" },
  { key: "cluster_user", def: "root", doc: "User the server must run as", reload: "restart", field: "clusterUser" },
  { key: "cluster_group", def: "root", doc: "Group of cluster_user", reload: "restart", field: "clusterGroup" },
  { key: "sudo_command", def: "sudo su root -c", doc: "Prefix of resource commands when cluster_user is not root", reload: "live" },
  { key: "service_name", def: "drcm_server", doc: "Program tag of every log line (`Mon DD HH:MM:SS drcm_server: INFO - ...`, as 1.x)", reload: "restart", field: "serviceName" },
  { key: "logfile_name", def: "drcm.log", doc: "Log file name inside log_dir (`logfile` is accepted too)", reload: "restart", field: "logfileName" },
  { key: "logfile", def: "", doc: "Same as logfile_name (the 1.x template wrote this key, which 1.x never read)", reload: "restart", field: "logfileName" },
  { key: "num_logs_to_keep", def: "3", doc: "Rotated logs kept", reload: "restart", field: "numLogsToKeep" },
  { key: "max_log_size", def: "5000000", doc: "Bytes before the log rotates (at most 2000000000)", reload: "restart", field: "maxLogSize" },
  { key: "enable_logging", def: "1", doc: "0: do not write the log file", reload: "restart", field: "enableLogging" },
  { key: "clear_log", def: "0", doc: "1: truncate the log file at start", reload: "restart", field: "clearLog" },
  { key: "log_level", def: "1", doc: "0: the log keeps only ERROR and WARNING lines; 1 or more: INFO lines too (DEBUG lines follow debug and debug_level)", reload: "restart", field: "logLevel" },
  { key: "debug", def: "0", doc: "1: debug logging (debug_level no longer turns it on, unlike 1.x)", reload: "live" },
  { key: "debug_level", def: "1", doc: "Debug detail with debug = 1: 1 suspect peers and socket errors; 2 every watch and probe, and a placement trace (holder, wanted node and cause of every slot) after each decision; 3 refused packets; 4 every heartbeat state change received; 5 every resource command line", reload: "live" },
  { key: "verbose", def: "0", doc: "1: echo log lines to stdout (verbose_level no longer turns it on, unlike 1.x)", reload: "restart", field: "verbose" },
  { key: "verbose_level", def: "1", doc: "With verbose = 1: 1 echoes ERROR, WARNING and INFO lines; 2 or more echoes DEBUG lines too", reload: "restart", field: "verboseLevel" },
  { key: "log_queue_size", def: "2048", doc: "1.x log ring size; checked, no effect", ignored: true, reload: "live" },
  { key: "log_queue_debug_size", def: "4096", doc: "1.x log ring size; checked, no effect", ignored: true, reload: "live" },
  { key: "log_queue_proc_size", def: "255", doc: "1.x log ring size; checked, no effect", ignored: true, reload: "live" },
  { key: "cluser_mask", def: "", doc: "1.x key (sic); no effect", ignored: true, reload: "live" },
  { key: "bash_shell", def: "", doc: "1.x example key; no effect", ignored: true, reload: "live" },
  { key: "bash_rc_file", def: "", doc: "1.x example key; no effect", ignored: true, reload: "live" },
];

export const NODE_KEYS: readonly KeyDoc[] = [
  { key: "nodename", def: "", doc: "Required. Logical name used in node:nickname backups, logs and cm_stat", reload: "live" },
  { key: "hostname", def: "", doc: "Required. Must equal `uname -n` of that machine (or use drcm --node=NAME)", reload: "live" },
  { key: "keep_alive_ip", def: "", doc: "Required. Address peers send heartbeats to: IPv4, IPv6 or a resolvable name; a list (`10.0.0.11, 10.1.0.11`) gives one heartbeat link per address, the same count on every node (protocol.md, Heartbeat links)", reload: "live" },
  { key: "node_is_active", def: "1", doc: "0: the node holds nothing and its resources go to their backups", reload: "live" },
  { key: "keep_services", def: "0", doc: "1: leave this node's services running when drcm stops", reload: "live" },
  { key: "keep_filesystems", def: "1", doc: "1: leave file systems mounted when drcm stops", reload: "live" },
  { key: "keep_applications", def: "0", doc: "1: leave applications running when drcm stops", reload: "live" },
  { key: "crontabs_check", def: "10", doc: "Seconds between watches of crontabs (1.x default 60; durations like 500ms work)", reload: "live" },
  { key: "ipaddr_check", def: "10", doc: "Seconds between watches of floating IPs (ipaddrs_check and ipapddrs_check are the same key)", reload: "live" },
  { key: "ipaddrs_check", def: "", doc: "Same as ipaddr_check", reload: "live" },
  { key: "ipapddrs_check", def: "", doc: "Same as ipaddr_check (spelling of the 1.x template)", reload: "live" },
  { key: "services_check", def: "10", doc: "Seconds between watches of services", reload: "live" },
  { key: "applications_check", def: "10", doc: "Seconds between watches of applications", reload: "live" },
  { key: "filesystems_check", def: "10", doc: "Seconds between watches of file systems", reload: "live" },
  { key: "node_crontabs", def: "", doc: "Crontab nicknames this node runs as primary", reload: "live" },
  { key: "node_floating_ip_addrs", def: "", doc: "Floating IP nicknames this node holds as primary", reload: "live" },
  { key: "node_services", def: "", doc: "Service nicknames this node runs as primary", reload: "live" },
  { key: "node_applications", def: "", doc: "Application nicknames this node runs as primary", reload: "live" },
  { key: "node_filesystems", def: "", doc: "File system nicknames this node mounts as primary", reload: "live" },
  { key: "node_backup_crontabs", def: "", doc: "node:nickname crontabs this node takes over when that node is dead or inactive", reload: "live" },
  { key: "node_backup_floating_ip_addrs", def: "", doc: "node:nickname floating IPs this node takes over", reload: "live" },
  { key: "node_backup_services", def: "", doc: "node:nickname services this node takes over", reload: "live" },
  { key: "node_backup_applications", def: "", doc: "node:nickname applications this node takes over", reload: "live" },
  { key: "node_backup_filesystems", def: "", doc: "node:nickname file systems this node takes over", reload: "live" },
];

export const IP_CHECK_KEYS = ["ipaddr_check", "ipaddrs_check", "ipapddrs_check"] as const;
