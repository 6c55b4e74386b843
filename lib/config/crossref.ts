// Checks across sections: what 1.x checked (same phrases) and what it missed, the two ERROR lists of
// packaging/doc/configuration.md, "What drcm --check-config checks".
import { error, warn } from "./lexer.ts";
import { EXCLUSIVE_KINDS, KIND_INFO, RESOURCE_KINDS, linksOf, type Finding, type NodeConfig, type Resource, type ResourceKind } from "./model.ts";
import { KIND_WORDS } from "./node-section.ts";
import { didYouMean } from "./suggest.ts";

export function crossCheck(nodes: readonly NodeConfig[], resources: readonly Resource[], file: string): Finding[] {
  const findings: Finding[] = [];
  const byKind = (k: ResourceKind): string[] => resources.filter((r) => r.kind === k).map((r) => r.nickname);

  // Every address of every link is one node's: a shared one would make two nodes one.
  const addrOwner = new Map<string, { node: NodeConfig; link: number }>();
  for (const n of nodes)
    linksOf(n).forEach((ip, link) => {
      const first = addrOwner.get(ip);
      if (!first) return void addrOwner.set(ip, { node: n, link });
      // Two first links are reported below with the other identity fields.
      if (first.node !== n && (link > 0 || first.link > 0))
        findings.push(error(file, n.lines["keep_alive_ip"] ?? n.line, `Duplicate keep_alive_ip "${ip}": nodes ${first.node.nodename} (line ${first.node.lines["keep_alive_ip"] ?? first.node.line}) and ${n.nodename}`));
    });
  const linkCount = nodes[0] ? linksOf(nodes[0]).length : 1;
  for (const n of nodes.slice(1))
    if (linksOf(n).length !== linkCount)
      findings.push(
        error(
          file,
          n.lines["keep_alive_ip"] ?? n.line,
          `${n.nodename} has ${linksOf(n).length} keep_alive_ip address${linksOf(n).length === 1 ? "" : "es"} but ${nodes[0]!.nodename} has ${linkCount}: every node needs one address per heartbeat link, in the same order`,
        ),
      );
  for (const field of ["nodename", "hostname", "keepAliveIp"] as const) {
    const key = field === "keepAliveIp" ? "keep_alive_ip" : field;
    const seen = new Map<string, NodeConfig>();
    for (const n of nodes) {
      const v = n[field];
      const first = seen.get(v);
      if (first) findings.push(error(file, n.lines[key] ?? n.line, `Duplicate ${key} "${v}": nodes ${first.nodename} (line ${first.lines[key] ?? first.line}) and ${n.nodename}`));
      else seen.set(v, n);
    }
  }

  const names = nodes.map((n) => n.nodename);
  for (const n of nodes) {
    for (const k of RESOURCE_KINDS) {
      const defined = byKind(k);
      const pKey = KIND_INFO[k].primaryKey;
      for (const nick of n.primaries[k])
        if (!defined.includes(nick))
          findings.push(
            error(file, n.lines[pKey] ?? n.line, `${n.nodename} node has ${KIND_WORDS[k]} not listed in global resource: "${nick}" in ${pKey}${didYouMean(nick, defined)}`),
          );
      for (const b of n.backups[k]) {
        const entry = `${b.node}:${b.nickname}`;
        if (!defined.includes(b.nickname)) {
          findings.push(
            error(file, b.line, `${n.nodename} node has backup ${KIND_WORDS[k]} not listed in global resource: "${entry}"${didYouMean(b.nickname, defined)}`),
          );
          continue;
        }
        if (b.node === n.nodename) {
          findings.push(error(file, b.line, `${n.nodename} backs up itself in ${KIND_INFO[k].backupKey}: "${entry}"`));
          continue;
        }
        const owner = nodes.find((x) => x.nodename === b.node);
        if (!owner) {
          findings.push(error(file, b.line, `${n.nodename} backup ${KIND_WORDS[k]} names an unknown node: "${entry}"${didYouMean(b.node, names)}`));
          continue;
        }
        if (!owner.primaries[k].includes(b.nickname))
          findings.push(
            error(file, b.line, `${n.nodename} backs up ${KIND_WORDS[k]} "${b.nickname}" of ${b.node}, but ${b.node} is not primary for it (${KIND_INFO[k].primaryKey})`),
          );
      }
    }
  }

  for (const k of EXCLUSIVE_KINDS) {
    for (const nick of byKind(k)) {
      const holders = nodes.filter((n) => n.primaries[k].includes(nick));
      if (holders.length > 1)
        findings.push(
          error(
            file,
            holders[1]!.lines[KIND_INFO[k].primaryKey] ?? holders[1]!.line,
            `${KIND_WORDS[k]} "${nick}" is primary on ${holders.length} nodes (${holders.map((h) => h.nodename).join(", ")}); it can run on one node only`,
          ),
        );
    }
  }

  for (const r of resources) {
    const used = nodes.some((n) => n.primaries[r.kind].includes(r.nickname));
    if (!used) findings.push(warn(file, r.line, `${KIND_WORDS[r.kind]} "${r.nickname}" is not primary on any node and will never run`));
  }
  return findings;
}
