// The imported cluster -> cm.cfg text in the 1.x layout, every value commented with its source.
import { KIND_INFO, RESOURCE_KINDS, type ResourceKind } from "../config/model.ts";
import type { ImportedNode } from "./nodes.ts";

export interface PlacedResource {
  readonly kind: ResourceKind;
  readonly nickname: string;
  readonly fields: readonly string[];
  /** `haresources:N Agent::args`, written as a comment. */
  readonly source: string;
  readonly primary: string;
  readonly backups: readonly string[];
}

/** cm.cfg CSV: `\,` is a literal comma and `\#` a literal `#` (packaging/doc/configuration.md, "File format" and "Resource sections (CSV)"). */
const csv = (s: string): string => s.replace(/,/g, "\\,").replace(/#/g, "\\#");

const FORMAT: Record<ResourceKind, string> = {
  crontab: "nickname, template_file, install_location, resource_script",
  ipaddr: "nickname, ip_address, netmask, interface, resource_script",
  service: "nickname, service_name, resource_script",
  application: "nickname, user:group, start_program, stop_program, ensure_script",
  filesystem: "nickname, source, target, resource_script",
};

export function renderConfig(p: {
  haDir: string;
  etcDir: string;
  serverLines: readonly string[];
  nodes: readonly ImportedNode[];
  resources: readonly PlacedResource[];
}): string {
  const out: string[] = [
    `# cm.cfg written by "drcm --import-heartbeat" from ${p.haDir}`,
    "# Each value names the Heartbeat line it came from. Before starting drcm:",
    "#   1. replace every CHANGE_ME and review the WARNING lines the import printed",
    `#   2. on every node: drcm --install (or the drcm RPM) for the agents in ${p.etcDir}/resources, and this file as ${p.etcDir}/cm.cfg`,
    `#   3. run drcm --keygen and copy ${p.etcDir}/.auth to every node (Heartbeat's authkeys is not reused)`,
    "#   4. run drcm --check-config on every node",
    "",
    "[CM_SERVER]",
    ...p.serverLines,
    "",
  ];
  for (const kind of RESOURCE_KINDS) {
    const list = p.resources.filter((r) => r.kind === kind);
    if (list.length === 0) continue;
    out.push(`[${KIND_INFO[kind].section}]`, `# CSV format: ${FORMAT[kind]}`);
    for (const r of list) out.push(`${[r.nickname, ...r.fields].map(csv).join(", ")}  # ${r.source}`);
    out.push("");
  }
  for (const n of p.nodes) {
    out.push(
      "[CM_NODE]",
      `nodename = ${n.nodename}`,
      `hostname = ${n.hostname}  # must equal uname -n on that node (${n.at.file.split("/").pop()}:${n.at.line})`,
      `keep_alive_ip = ${n.keepAliveIp}  # ${n.ipNote}`,
    );
    for (const kind of RESOURCE_KINDS) {
      const mine = p.resources.filter((r) => r.kind === kind && r.primary === n.nodename).map((r) => r.nickname);
      if (mine.length > 0) out.push(`${KIND_INFO[kind].primaryKey} = ${mine.join(", ")}`);
    }
    for (const kind of RESOURCE_KINDS) {
      const backs = p.resources.filter((r) => r.kind === kind && r.backups.includes(n.nodename)).map((r) => `${r.primary}:${r.nickname}`);
      if (backs.length > 0) out.push(`${KIND_INFO[kind].backupKey} = ${backs.join(", ")}`);
    }
    out.push("");
  }
  return out.join("\n");
}
