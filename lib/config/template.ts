// The commented cm.cfg that --check-config writes when the file is missing, as 1.x did
// (packaging/doc/configuration.md, "What drcm --check-config checks"), also shipped as the example config. Generated from keys.ts so every key and default is explained.
import { NODE_KEYS, SERVER_KEYS } from "./keys.ts";
import { VERSION } from "../version.ts";

/** Example values of keys without a default; `<etc>` becomes the etc dir the template is written for. */
const EXAMPLES: Record<string, string> = {
  dead_node_count: "16",
  quorum: "majority",
  ping_targets: "192.168.122.1",
  fence_script: "/usr/local/sbin/fence_node.sh",
  // mail_alert.sh ships in utils/ (packaging/doc/operations.md).
  alert_script: "<etc>/utils/mail_alert.sh",
};

function serverLines(etc: string): string[] {
  const out: string[] = [];
  for (const k of SERVER_KEYS) {
    if (k.ignored || k.key === "logfile") continue;
    if (k.key === "ping_targets")
      out.push(
        "# TWO-NODE CLUSTERS: set ping_targets (or fence_script). Without a tie-breaker a cut heartbeat link",
        "# looks like a dead peer to both nodes, and both take over the floating IPs and crontabs.",
        "# With ping_targets the node that reaches none of them (the cut-off one) takes over nothing.",
        "# --check-config warns while a two-node config has neither.",
      );
    out.push(`# ${k.doc}${k.def !== "" ? ` (default ${k.def})` : ""}`);
    out.push(k.def !== "" ? `${k.key} = ${k.def}` : `# ${k.key} = ${(EXAMPLES[k.key] ?? "").replace("<etc>", etc)}`);
  }
  return out;
}

function nodeBlock(n: 1 | 2, explain: boolean): string[] {
  const other = n === 1 ? "cmnode2" : "cmnode1";
  const lists: Record<string, string> =
    n === 1
      ? {
          node_crontabs: "user,system,apps1",
          node_backup_crontabs: `${other}:apps2`,
          node_floating_ip_addrs: "web,ldm",
          node_backup_floating_ip_addrs: "",
          node_services: "web,ntp",
          node_backup_services: "",
          node_applications: "",
          node_backup_applications: "",
          node_filesystems: "data",
          node_backup_filesystems: `${other}:archive`,
        }
      : {
          node_crontabs: "apps2",
          node_backup_crontabs: `${other}:user,${other}:system,${other}:apps1`,
          node_floating_ip_addrs: "",
          node_backup_floating_ip_addrs: `${other}:web,${other}:ldm`,
          node_services: "ntp",
          node_backup_services: `${other}:web`,
          node_applications: "",
          node_backup_applications: "",
          node_filesystems: "archive",
          node_backup_filesystems: `${other}:data`,
        };
  const values: Record<string, string> = {
    nodename: `cmnode${n}`,
    hostname: `vm${n}.example.com`,
    keep_alive_ip: `192.168.122.11${n}`,
    ...lists,
  };
  const out = ["[CM_NODE]"];
  for (const k of NODE_KEYS) {
    if (k.key === "ipaddrs_check" || k.key === "ipapddrs_check") continue;
    if (explain) out.push(`# ${k.doc}${k.def !== "" ? ` (default ${k.def})` : ""}`);
    const v = values[k.key] ?? k.def;
    out.push(`${k.key} = ${v}`);
  }
  return out;
}

export function configTemplate(etcDir: string): string {
  const e = etcDir.replace(/\/+$/, "") || "/";
  const p = (rel: string): string => `${e === "/" ? "" : e}/${rel}`;
  return [
    `# drcm ${VERSION} cluster configuration (DataReel Cluster Manager 1.x format).`,
    "# Every node of the cluster must have an identical copy of this directory.",
    "# Check it with: drcm --check-config --config-file=THIS_FILE",
    "#",
    "# A # starts a comment, anywhere on a line. Write \\# for a literal # (for example in a shell command).",
    "# One trailing ; after a value is ignored. Durations: 50ms, 1s, 1.5s, 2m; a bare number means seconds.",
    "# Relative resource script and crontab template paths are relative to this file's directory.",
    "",
    "# Settings shared by all nodes",
    "[CM_SERVER]",
    ...serverLines(e === "/" ? "" : e),
    "",
    "[CM_CRONTABS]",
    "# CSV format: nickname, template_file, install_location, resource_script",
    `system, ${p("crontabs/system_crons")}, /etc/cron.d, ${p("resources/crontab.sh")}`,
    `user, ${p("crontabs/user_crons")}, /etc/cron.d, ${p("resources/crontab.sh")}`,
    `apps1, ${p("crontabs/apps_package1")}, /etc/cron.d, ${p("resources/crontab.sh")}`,
    `apps2, ${p("crontabs/apps_package2")}, /etc/cron.d, ${p("resources/crontab.sh")}`,
    "",
    "[CM_IPADDRS]",
    "# CSV format: nickname, floating IP, netmask (255.255.255.0 or 24), interface, resource_script",
    "# The interface may list alternatives in quotes: 'ens192|eno8303'",
    `web, 192.168.122.25, 255.255.255.0, eth0:1, ${p("resources/ipv4addr.sh")}`,
    `ldm, 192.168.122.35, 255.255.255.0, eth0:2, ${p("resources/ipv4addr.sh")}`,
    "",
    "[CM_SERVICES]",
    "# CSV format: nickname, service_name, resource_script",
    `web, httpd, ${p("resources/service.sh")}`,
    `ntp, chronyd, ${p("resources/service.sh")}`,
    "",
    "[CM_APPLICATIONS]",
    "# CSV format: nickname, user:group, start_program, stop_program[, ensure_script]",
    "# Programs are shell text run as that user with its login environment; separate commands with ;",
    "# and write \\, for a comma inside a field.",
    "# ldm, ldm:users, ldmadmin clean; ldmadmin mkqueue; ldmadmin start, ldmadmin stop, ~/util/ldm_ensure.sh",
    "",
    "[CM_FILESYSTEMS]",
    "# CSV format: nickname, source, target, resource_script",
    `data, 192.168.122.1:/data, /data, ${p("resources/nfs.sh")}`,
    `archive, 192.168.122.1:/archive, /archive, ${p("resources/nfs.sh")}`,
    `# webshare, //192.168.122.225/users/web, /home/users/web, ${p("resources/cifs.sh")}`,
    "",
    "# One [CM_NODE] block per node, in the order cm_stat lists them.",
    "# Backup lists name node:nickname: the resources this node takes over when that node is down.",
    ...nodeBlock(1, true),
    "",
    ...nodeBlock(2, false),
    "",
    "# End of configuration",
    "",
  ].join("\n");
}
