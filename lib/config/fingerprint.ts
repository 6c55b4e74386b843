// The config fingerprint carried in heartbeats: equal on nodes whose configs mean the same for the
// cluster. Node-local settings (directories, logging, alert scripts, line numbers) are left out so a
// node may log elsewhere without being reported as a config mismatch.
import { createHash } from "node:crypto";
import type { NodeConfig, Resource, ServerConfig } from "./model.ts";

/** JSON with object keys sorted at every level, so equal values give equal text. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

export function fingerprint(server: ServerConfig, nodes: readonly NodeConfig[], resources: readonly Resource[]): string {
  const shared = {
    nodes: nodes.map((n) => ({
      nodename: n.nodename,
      hostname: n.hostname,
      keepAliveIp: n.keepAliveIp,
      // Only with several links, so a 1.x config keeps its fingerprint.
      ...(n.keepAliveIps && n.keepAliveIps.length > 1 ? { links: n.keepAliveIps } : {}),
      active: n.active,
      keepServices: n.keepServices,
      keepFilesystems: n.keepFilesystems,
      keepApplications: n.keepApplications,
      checkMs: n.checkMs,
      primaries: n.primaries,
      backups: Object.fromEntries(Object.entries(n.backups).map(([k, list]) => [k, list.map((b) => `${b.node}:${b.nickname}`)])),
    })),
    resources: resources.map(({ line: _line, ...rest }) => rest),
    server: {
      udpport: server.udpport,
      bindToKeepAliveIp: server.bindToKeepAliveIp,
      keepAliveIntervalMs: server.keepAliveIntervalMs,
      deadTimeMs: server.deadTimeMs,
      failbackDelayMs: server.failbackDelayMs,
      autoFailback: server.autoFailback,
      quorum: server.quorum,
      pingTargets: server.pingTargets,
      fenceScript: server.fenceScript,
      maxFailures: server.maxFailures,
      actionTimeoutMs: server.actionTimeoutMs,
    },
  };
  return createHash("sha256").update(canonicalJson(shared)).digest("hex");
}
