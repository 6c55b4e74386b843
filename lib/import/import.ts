// A Linux-HA Heartbeat (R1) /etc/ha.d -> a cm.cfg draft plus a report of what was mapped and what
// was not, each naming the Heartbeat file and line. Pure: text in, text and findings out.
import { RESOURCE_KINDS } from "../config/model.ts";
import { Findings, type ImportFinding, type SourceRef } from "./finding.ts";
import { parseHaCf, parseHaresources, type ResourceGroup } from "./hacf.ts";
import { importNodes } from "./nodes.ts";
import { renderConfig, type PlacedResource } from "./render.ts";
import { mapResource } from "./resources.ts";
import { isIPv4 } from "../config/values.ts";
import { mapHaCf } from "./server-keys.ts";

export type { ImportFinding } from "./finding.ts";

export interface HeartbeatFile {
  /** Path as read; findings name it. */
  readonly path: string;
  readonly text: string;
}

export interface HeartbeatFiles {
  readonly haCf: HeartbeatFile | null;
  readonly haresources: HeartbeatFile | null;
  readonly authkeys: HeartbeatFile | null;
}

export interface ImportOptions {
  /** Directory the cm.cfg will live in: agents are `<etcDir>/resources/*.sh`. */
  readonly etcDir: string;
  /** The Heartbeat directory, for the header and site scripts in `<haDir>/resource.d`. Default /etc/ha.d. */
  readonly haDir?: string;
  /** Names of the scripts in `<haDir>/resource.d` (site agents become applications). */
  readonly haScripts?: readonly string[];
  /** DNS answers gathered beforehand: name -> IPv4 address or null. */
  readonly resolved?: Readonly<Record<string, string | null>>;
  /** `uname -n` and addresses of the machine the import runs on (tells which ucast line is the peer). */
  readonly localHostname?: string;
  readonly localIps?: readonly string[];
}

const short = (h: string): string => h.split(".")[0]!;

/** Every host name the import would like DNS for: nodes, ucast peers and ping nodes written as names. */
export function namesToResolve(files: HeartbeatFiles): string[] {
  const names = new Set<string>();
  for (const d of files.haCf ? parseHaCf(files.haCf.text, files.haCf.path) : []) {
    const candidates = d.name === "node" ? d.args : d.name === "ucast" ? d.args.slice(1, 2) : d.name === "ping" ? d.args : d.name === "ping_group" ? d.args.slice(1) : [];
    for (const c of candidates) if (!isIPv4(c)) names.add(c);
  }
  for (const g of files.haresources ? parseHaresources(files.haresources.text, files.haresources.path) : []) names.add(g.node.text);
  return [...names];
}

export function importHeartbeat(files: HeartbeatFiles, opts: ImportOptions): { config: string; findings: ImportFinding[] } {
  const f = new Findings();
  const haDir = opts.haDir ?? "/etc/ha.d";
  if (!files.haCf) f.error({ file: `${haDir}/ha.cf`, line: 0 }, "Cannot import: ha.cf is missing");
  if (!files.haresources) f.error({ file: `${haDir}/haresources`, line: 0 }, "Cannot import: haresources is missing");

  const facts = mapHaCf(files.haCf ? parseHaCf(files.haCf.text, files.haCf.path) : [], opts.resolved ?? {}, f);
  const groups = files.haresources ? parseHaresources(files.haresources.text, files.haresources.path) : [];

  // Nodes: ha.cf's node lines, plus any haresources names them not (Heartbeat needs both to agree).
  const hosts = [...facts.nodes];
  // haresources may name a node by its short name while ha.cf has the FQDN, or the other way round.
  const hostOf = (name: string): number => {
    const exact = hosts.findIndex((h) => h.hostname === name);
    return exact >= 0 ? exact : hosts.findIndex((h) => short(h.hostname) === short(name));
  };
  for (const g of groups)
    if (hostOf(g.node.text) < 0) {
      hosts.push({ hostname: g.node.text, at: g.node.at });
      if (files.haCf) f.warn(g.node.at, `Node "${g.node.text}" has no "node" line in ha.cf: added as a node`);
    }
  if (hosts.length === 0 && files.haCf && files.haresources)
    f.error({ file: files.haCf.path, line: 0 }, 'Cannot import: neither ha.cf "node" lines nor haresources name a node');
  const nodes = importNodes(hosts, facts.ucasts, { resolved: opts.resolved ?? {}, localHostname: opts.localHostname, localIps: opts.localIps }, f);

  const resources = placeResources(groups, hostOf, nodes.map((n) => n.nodename), opts, facts.iface, haDir, f);
  if (files.haresources && groups.length === 0) f.warn({ file: files.haresources.path, line: 0 }, "haresources defines no resource group: the cluster has no resources");
  if (files.authkeys) readAuthkeys(files.authkeys, f);

  const config = renderConfig({ haDir, etcDir: opts.etcDir, serverLines: facts.serverLines, nodes, resources });
  const order = (x: ImportFinding): number => ["ha.cf", "haresources", "authkeys"].indexOf(x.file.split("/").pop()!);
  const findings = f.list
    .map((x, i) => ({ x, i }))
    .sort((a, b) => order(a.x) - order(b.x) || a.x.line - b.x.line || a.i - b.i)
    .map(({ x }) => x);
  return { config, findings };
}

function placeResources(
  groups: readonly ResourceGroup[],
  hostOf: (name: string) => number,
  nodenames: readonly string[],
  opts: ImportOptions,
  iface: { name: string; at: SourceRef } | null,
  haDir: string,
  f: Findings,
): PlacedResource[] {
  const etcDir = opts.etcDir.replace(/\/+$/, "");
  const ctx = { etcDir, scriptDir: `${etcDir}/resources`, iface: iface && { name: iface.name, line: iface.at.line }, haScripts: opts.haScripts ?? [], haDir };
  const taken = new Map<string, Set<string>>();
  const unique = (kind: string, base: string): string => {
    const used = taken.get(kind) ?? new Set<string>();
    taken.set(kind, used);
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}${i}`;
    used.add(name);
    return name;
  };
  const out: PlacedResource[] = [];
  for (const g of groups) {
    const primary = nodenames[hostOf(g.node.text)]!;
    const backups = nodenames.filter((n) => n !== primary);
    if (backups.length === 0) f.warn(g.node.at, `The resources of ${g.node.text} have no other node to fail over to`);
    else if (backups.length > 1) f.info(g.node.at, `The resources of ${primary} are backed up by ${backups.join(", ")} (in node order)`);
    if (g.resources.length === 0) f.warn(g.node.at, `haresources line for ${g.node.text} lists no resources`);
    const kinds: number[] = [];
    for (const t of g.resources) {
      const r = mapResource(t, ctx, f);
      if (!r) continue;
      kinds.push(RESOURCE_KINDS.indexOf(r.kind));
      out.push({ kind: r.kind, nickname: unique(r.kind, r.nickname), fields: r.fields, source: `${t.at.file.split("/").pop()}:${t.at.line} ${t.text}`, primary, backups });
    }
    if (kinds.some((k, i) => i > 0 && k < kinds[i - 1]!))
      f.info(
        g.node.at,
        `Start order changes: Heartbeat started this group left to right; drcm starts file systems, then services, applications and floating IPs (and stops in reverse)`,
      );
  }
  return out;
}

/** authkeys is read only to name its method: drcm keys are generated fresh, never derived from it. */
function readAuthkeys(file: HeartbeatFile, f: Findings): void {
  let active: { id: string; line: number } | null = null;
  const methods = new Map<string, string>();
  file.text.split("\n").forEach((raw, i) => {
    const body = raw.replace(/#.*/, "").trim();
    const auth = /^auth\s+(\S+)/.exec(body);
    if (auth) active = { id: auth[1]!, line: i + 1 };
    const key = /^(\S+)\s+(crc|md5|sha1)\b/i.exec(body);
    if (key) methods.set(key[1]!, key[2]!.toLowerCase());
  });
  const a = active as { id: string; line: number } | null;
  const method = a ? methods.get(a.id) : undefined;
  const weak = method === "crc" ? "crc authenticates nothing" : method ? `${method} is a weak keyed hash` : "its keys are weak";
  f.info({ file: file.path, line: a?.line ?? 0 }, `authkeys is not copied (${weak}): run "drcm --keygen" and copy the .auth directory to every node`);
}
