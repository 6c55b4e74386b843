// Which [CM_NODE] is this machine: --node=NAME when given, else the node whose hostname is uname -n.
import { hostname } from "node:os";
import type { Cluster, NodeConfig } from "./model.ts";
import { didYouMean } from "./suggest.ts";

export function findSelf(cluster: Cluster, node: string | null, localHostname: string = hostname()): NodeConfig | string {
  const names = cluster.nodes.map((n) => n.nodename);
  if (node !== null) {
    const byName = cluster.nodes.find((n) => n.nodename === node);
    if (byName) return byName;
    return `No [CM_NODE] has nodename "${node}" (from --node): known nodes are ${names.join(", ")}${didYouMean(node, names)}`;
  }
  const byHost = cluster.nodes.find((n) => n.hostname === localHostname);
  if (byHost) return byHost;
  return `The hostname of this server does not match any node hostname in config file: "${localHostname}" is not one of ${cluster.nodes
    .map((n) => n.hostname)
    .join(", ")} (set hostname to match uname -n, or run with --node=NAME)`;
}
