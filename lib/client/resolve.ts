// Naming a node or a resource on the command line.

import { RESOURCE_KINDS, resourceId, type Cluster, type NodeConfig, type ResourceId, type ResourceKind } from "../config/model.ts";

const LOCAL_ALIASES = new Set(["127.0.0.1", "localhost", "loopback"]);

/**
 * 1.x rules, minus its case bug: the word is trimmed and cut at the first blank, then matched
 * case-insensitively against keep_alive_ip, nodename and hostname. `localhost`, `loopback` and
 * `127.0.0.1` name the local node unless a node really has that address or name.
 */
export function resolveNode(cluster: Cluster, word: string, self: NodeConfig | null): NodeConfig | null {
  const w = word.trim().split(/\s+/)[0]!.toLowerCase();
  if (w === "") return null;
  const hit = cluster.nodes.find(
    (n) => n.keepAliveIp.toLowerCase() === w || n.nodename.toLowerCase() === w || n.hostname.toLowerCase() === w,
  );
  if (hit) return hit;
  return LOCAL_ALIASES.has(w) ? self : null;
}

/** `kind:nickname`, or a nickname that only one kind uses. */
export function resolveResource(cluster: Cluster, word: string): { id: ResourceId; kind: ResourceKind } | string {
  const w = word.trim();
  const colon = w.indexOf(":");
  if (colon > 0) {
    const kind = w.slice(0, colon) as ResourceKind;
    const nick = w.slice(colon + 1);
    if (!RESOURCE_KINDS.includes(kind)) return `Unknown resource kind "${w.slice(0, colon)}": use one of ${RESOURCE_KINDS.join(", ")}`;
    if (!cluster.resources.some((r) => r.kind === kind && r.nickname === nick)) return `No ${kind} resource has nickname "${nick}"`;
    return { id: resourceId(kind, nick), kind };
  }
  const hits = cluster.resources.filter((r) => r.nickname === w);
  if (hits.length === 1) return { id: resourceId(hits[0]!.kind, w), kind: hits[0]!.kind };
  if (hits.length > 1) return `Nickname "${w}" is used by several kinds: write one of ${hits.map((r) => resourceId(r.kind, w)).join(", ")}`;
  const all = [...new Set(cluster.resources.map((r) => r.nickname))];
  return `No resource has nickname "${w}"${all.length > 0 ? `: known nicknames are ${all.join(", ")}` : ""}`;
}
