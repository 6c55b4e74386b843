// One [CM_NODE] block -> NodeConfig (packaging/doc/configuration.md, "[CM_NODE]"). Cross-node checks live in crossref.ts.
import { Block } from "./fields.ts";
import { IP_CHECK_KEYS, NODE_KEYS } from "./keys.ts";
import { error, type KeyValue } from "./lexer.ts";
import { KIND_INFO, perKind, type BackupEntry, type Finding, type NodeConfig, type ResourceKind } from "./model.ts";
import { isHostOrIP, schemas, splitList } from "./values.ts";

/** Heartbeat links per node (corosync knet allows 8). */
export const MAX_LINKS = 8;

const KNOWN = NODE_KEYS.map((k) => k.key);
const CHECK_DEFAULT_MS = 10_000;

/** Words 1.x used for each kind in its checker messages. */
export const KIND_WORDS: Record<ResourceKind, string> = {
  crontab: "crontab",
  ipaddr: "floating IP address",
  service: "service",
  application: "application",
  filesystem: "file system",
};

/** Null when the block lacks what identifies a node (nodename, hostname, keep_alive_ip). */
export function parseNode(entries: readonly KeyValue[], headerLine: number, file: string, findings: Finding[]): NodeConfig | null {
  const block = new Block(file, `[CM_NODE] at line ${headerLine}`, entries, KNOWN, findings);
  const nodename = block.str("nodename", "");
  const label = nodename === "" ? `[CM_NODE] at line ${headerLine}` : `node ${nodename}`;
  block.label = label;
  let complete = true;
  for (const key of ["nodename", "hostname", "keep_alive_ip"]) {
    if (block.str(key, "") === "") {
      findings.push(error(file, block.line(key) || headerLine, `Missing "${key}" in ${label}`));
      complete = false;
    }
  }
  // One address per heartbeat link: `keep_alive_ip = 10.0.0.11, 10.1.0.11` (link k pairs with link k of every node).
  const keepAliveIps = splitList(block.str("keep_alive_ip", ""));
  const keepAliveIp = keepAliveIps[0] ?? "";
  for (const ip of keepAliveIps)
    if (!isHostOrIP(ip))
      findings.push(error(file, block.line("keep_alive_ip"), `Cannot parse "keep_alive_ip" of ${label}: expected IPv4 or IPv6 addresses or host names, got "${ip}"`));
  if (keepAliveIps.length > MAX_LINKS)
    findings.push(error(file, block.line("keep_alive_ip"), `${label} lists ${keepAliveIps.length} keep_alive_ip addresses; at most ${MAX_LINKS} heartbeat links are supported`));
  if (new Set(keepAliveIps).size !== keepAliveIps.length) findings.push(error(file, block.line("keep_alive_ip"), `${label} lists the same keep_alive_ip twice`));

  const ipKeys = IP_CHECK_KEYS.filter((k) => block.has(k));
  if (ipKeys.length > 1)
    findings.push(
      error(file, block.line(ipKeys[1]!), `${label} sets the IP check interval twice: "${ipKeys[0]}" (line ${block.line(ipKeys[0]!)}) and "${ipKeys[1]}"`),
    );
  const checkMs = perKind((k) => {
    const key = k === "ipaddr" ? (ipKeys[0] ?? "ipaddr_check") : KIND_INFO[k].checkKey;
    return block.typed(key, schemas.duration, CHECK_DEFAULT_MS);
  });

  const primaries = perKind((k) => {
    const list = splitList(block.str(KIND_INFO[k].primaryKey, ""));
    const seen = new Set<string>();
    for (const n of list) {
      if (seen.has(n)) findings.push(error(file, block.line(KIND_INFO[k].primaryKey), `${label} lists ${KIND_WORDS[k]} "${n}" twice in ${KIND_INFO[k].primaryKey}`));
      seen.add(n);
    }
    return [...seen];
  });

  const backups = perKind((k) => {
    const key = KIND_INFO[k].backupKey;
    const line = block.line(key);
    const out: BackupEntry[] = [];
    for (const item of splitList(block.str(key, ""))) {
      const first = item.indexOf(":");
      if (first < 0) {
        findings.push(
          error(file, line, `${nodename || label} backup ${KIND_WORDS[k]} with no backup nodename, bad nodename:nickname format: "${item}" (write node:${item})`),
        );
        continue;
      }
      const node = item.slice(0, first);
      const nickname = item.slice(item.lastIndexOf(":") + 1);
      if (node === "" || nickname === "") {
        findings.push(error(file, line, `${nodename || label} backup ${KIND_WORDS[k]} "${item}" needs both parts of nodename:nickname`));
        continue;
      }
      if (out.some((e) => e.node === node && e.nickname === nickname))
        findings.push(error(file, line, `${label} lists backup ${KIND_WORDS[k]} "${item}" twice in ${key}`));
      else out.push({ node, nickname, line });
    }
    return out;
  });

  const node: NodeConfig = {
    nodename,
    hostname: block.str("hostname", ""),
    keepAliveIp,
    keepAliveIps,
    active: block.bool("node_is_active", true),
    keepServices: block.bool("keep_services", false),
    keepFilesystems: block.bool("keep_filesystems", true),
    keepApplications: block.bool("keep_applications", false),
    checkMs,
    primaries,
    backups,
    line: headerLine,
    lines: block.lines(),
  };
  return complete ? node : null;
}
