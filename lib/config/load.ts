// cm.cfg -> Cluster: lex, per-section parse (zod value schemas), cross-section checks, fingerprint.
// Only checks about the file itself; checks.ts looks at the machine.
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { crossCheck } from "./crossref.ts";
import { fingerprint } from "./fingerprint.ts";
import { error, keyValues, lexConfig, warn, type Section } from "./lexer.ts";
import { RESOURCE_KINDS, type Cluster, type Finding, type NodeConfig, type Resource } from "./model.ts";
import { parseNode } from "./node-section.ts";
import { parseResourceSection, SECTION_KIND } from "./resources.ts";
import { parseServer } from "./server-section.ts";
import { unreadableReason } from "../error.ts";

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** Parses cm.cfg text. Pure: `file` only names the file in findings and locates the etc dir. */
export function parseClusterText(text: string, file: string): { cluster: Cluster | null; findings: Finding[] } {
  const abs = resolve(file);
  const etcDir = dirname(abs);
  const { sections, findings } = lexConfig(text, file);

  const servers = sections.filter((s) => s.name === "CM_SERVER");
  if (servers.length === 0) findings.push(error(file, 0, "Config file missing [CM_SERVER] section"));
  if (servers.length > 1)
    findings.push({ severity: "WARNING", file, line: servers[1]!.line, message: `[CM_SERVER] appears again (first at line ${servers[0]!.line}); later values win` });

  const nodeSections = sections.filter((s) => s.name === "CM_NODE");
  if (nodeSections.length === 0) findings.push(error(file, 0, "Config file missing [CM_NODE] section(s)"));
  const parsedNodes = nodeSections.map((s) => parseNode(keyValues(s, file, findings), s.line, file, findings));
  const nodes = parsedNodes.filter((n): n is NodeConfig => n !== null);

  const resources: Resource[] = [];
  for (const kind of RESOURCE_KINDS) {
    const same = sections.filter((s) => SECTION_KIND[s.name] === kind);
    if (same.length === 0) continue;
    const merged: Section = { name: same[0]!.name, line: same[0]!.line, lines: same.flatMap((s) => s.lines) };
    resources.push(...parseResourceSection(merged, etcDir, file, findings));
  }
  // "Section order, then line order": the order sections appear in the file.
  resources.sort((a, b) => a.line - b.line);

  const server = parseServer(
    servers.flatMap((s) => keyValues(s, file, findings)),
    nodeSections.length,
    file,
    findings,
    etcDir,
  );
  findings.push(...crossCheck(nodes, resources, file));
  // Two nodes and nothing to break a tie: a cut heartbeat link looks like a dead peer to both sides.
  if (nodes.length === 2 && server.pingTargets.length === 0 && server.fenceScript === null && server.quorum === "none")
    findings.push(
      warn(
        file,
        nodes[1]!.line,
        "Two nodes with neither ping_targets nor fence_script: if the heartbeat link between them is cut, both take over the floating IPs and crontabs. Set ping_targets (e.g. the gateway) or fence_script in [CM_SERVER], or add a second heartbeat link (keep_alive_ip = a, b)",
      ),
    );

  const names = new Set(nodes.map((n) => n.nodename));
  const impossible = nodes.length === 0 || nodes.length !== parsedNodes.length || names.size !== nodes.length;
  if (impossible) return { cluster: null, findings: sortFindings(findings) };
  const cluster: Cluster = { file: abs, etcDir, server, nodes, resources, fingerprint: fingerprint(server, nodes, resources) };
  return { cluster: deepFreeze(cluster), findings: sortFindings(findings) };
}

/** File order, so the output reads top to bottom like the config. */
function sortFindings(f: Finding[]): Finding[] {
  return f.map((x, i) => [x, i] as const).sort((a, b) => a[0].line - b[0].line || a[1] - b[1]).map(([x]) => x);
}

export async function loadCluster(file: string): Promise<{ cluster: Cluster | null; findings: Finding[] }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    return { cluster: null, findings: [error(file, 0, `Cannot read config file "${file}": ${unreadableReason(e)}`)] };
  }
  return parseClusterText(text, file);
}
