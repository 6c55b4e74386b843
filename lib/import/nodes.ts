// Heartbeat node names -> [CM_NODE] identities. Heartbeat's `node` is `uname -n`, which is exactly
// drcm's hostname; its short form becomes the nodename. The keep_alive_ip is what Heartbeat never
// needed per node, so it is pieced together from ucast lines, this machine's own name and
// addresses, and DNS, in that order; what stays unknown becomes a placeholder and a WARNING.
import type { Findings, SourceRef } from "./finding.ts";
import { isIPv4 } from "../config/values.ts";
import type { Ucast } from "./server-keys.ts";

export interface ImportedNode {
  readonly nodename: string;
  readonly hostname: string;
  /** IPv4 address, or `CHANGE_ME_<nodename>` when it could not be found (check-config rejects it). */
  readonly keepAliveIp: string;
  /** Why this keep_alive_ip, written as a comment beside it. */
  readonly ipNote: string;
  readonly at: SourceRef;
}

export interface NodeContext {
  /** Name -> IPv4 address from DNS (null: did not resolve). Missing names count as unresolved. */
  readonly resolved: Readonly<Record<string, string | null>>;
  /** `uname -n` of the machine the import runs on, when known. */
  readonly localHostname?: string;
  /** IPv4 addresses of this machine, when known. */
  readonly localIps?: readonly string[];
}

const short = (h: string): string => h.split(".")[0]!;

/** Short hostnames, made unique (and valid in node:nickname references) when two nodes share one. */
function nodenames(hostnames: readonly string[]): string[] {
  const out: string[] = [];
  for (const h of hostnames) {
    const base = short(h).replace(/[^A-Za-z0-9_.-]/g, "_") || "node";
    let name = base;
    for (let i = 2; out.includes(name); i++) name = `${base}${i}`;
    out.push(name);
  }
  return out;
}

export function importNodes(
  hosts: readonly { hostname: string; at: SourceRef }[],
  ucasts: readonly Ucast[],
  ctx: NodeContext,
  f: Findings,
): ImportedNode[] {
  const names = nodenames(hosts.map((h) => h.hostname));
  const ip: (string | null)[] = hosts.map(() => null);
  const note: string[] = hosts.map(() => "");
  const dns = (h: string): string | null => ctx.resolved[h] ?? null;
  const ucastIp = (u: Ucast): string | null => (isIPv4(u.addr) ? u.addr : dns(u.addr));
  const unused = ucasts.filter((u) => ucastIp(u) !== null);
  const take = (i: number, u: Ucast, why: string): void => {
    ip[i] = ucastIp(u);
    note[i] = `ha.cf:${u.at.line} ucast ${u.iface} ${u.addr}, ${why}`;
    unused.splice(unused.indexOf(u), 1);
    f.info(u.at, `ucast ${u.iface} ${u.addr} -> keep_alive_ip = ${ip[i]} of node ${names[i]} (${why})`);
  };
  const local = hosts.findIndex((h) => ctx.localHostname !== undefined && (h.hostname === ctx.localHostname || short(h.hostname) === short(ctx.localHostname)));

  // 1. A ucast address that DNS gives for a node's name, or that this machine owns, is that node's.
  hosts.forEach((h, i) => {
    const byDns = unused.find((u) => ucastIp(u) === dns(h.hostname));
    if (byDns) return take(i, byDns, `${h.hostname} resolves to it`);
    const own = i === local ? unused.find((u) => ctx.localIps?.includes(ucastIp(u)!)) : undefined;
    if (own) take(i, own, "an address of this machine");
  });
  // 2. Heartbeat's ucast lines name the peer: in a two-node cluster, seen from one of the two nodes,
  //    the one address left belongs to the other node.
  const openPeers = hosts.map((_, i) => i).filter((i) => ip[i] === null && i !== local);
  if (hosts.length === 2 && local >= 0 && openPeers.length === 1 && unused.length === 1)
    take(openPeers[0]!, unused[0]!, `the peer's address in ${hosts[local]!.hostname}'s ha.cf`);
  // 3. DNS, then a placeholder.
  hosts.forEach((h, i) => {
    if (ip[i] !== null) return;
    const a = dns(h.hostname);
    if (a !== null) {
      ip[i] = a;
      note[i] = `DNS address of ${h.hostname}`;
      f.info(h.at, `keep_alive_ip of node ${names[i]} = ${a}, from DNS for ${h.hostname}: check it is the address the nodes should heartbeat on`);
      return;
    }
    note[i] = "CHANGE_ME: set the IPv4 address the other nodes send heartbeats to";
    f.warn(
      h.at,
      `keep_alive_ip of node ${names[i]} (${h.hostname}) is unknown: no ucast line names it and the name did not resolve; cm.cfg says CHANGE_ME_${names[i]} until you set it (--check-config reports it)`,
    );
  });
  for (const u of unused) f.warn(u.at, `ucast ${u.iface} ${u.addr}: cannot tell which node has this address (no node name resolves to it and it is not an address of this machine); set keep_alive_ip by hand`);
  for (const u of ucasts) if (ucastIp(u) === null) f.warn(u.at, `ucast address "${u.addr}" is not an IPv4 address and did not resolve: not mapped`);

  hosts.forEach((h, i) => f.info(h.at, `node ${h.hostname} -> [CM_NODE] nodename = ${names[i]}, hostname = ${h.hostname}, keep_alive_ip = ${ip[i] ?? `CHANGE_ME_${names[i]}`}`));
  return hosts.map((h, i) => ({
    nodename: names[i]!,
    hostname: h.hostname,
    keepAliveIp: ip[i] ?? `CHANGE_ME_${names[i]}`,
    ipNote: note[i]!,
    at: h.at,
  }));
}
