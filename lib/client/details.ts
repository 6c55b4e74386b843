// The 1.x cm_stat "Resource:" detail of each resource, built from the local config (as 1.x did).

import type { Cluster, Resource, ResourceKind } from "../config/model.ts";

export function findResource(cluster: Cluster, kind: ResourceKind, nickname: string): Resource | undefined {
  return cluster.resources.find((r) => r.kind === kind && r.nickname === nickname);
}

const basename = (p: string): string => p.replace(/\/+$/, "").split("/").pop() ?? p;

export function resourceDetail(r: Resource): string {
  switch (r.kind) {
    case "crontab":
      return `${r.installDir.replace(/\/+$/, "")}/${basename(r.template)}`;
    case "ipaddr":
      return `${r.iface} ${r.ip}/${r.netmask}`;
    case "service":
      return r.serviceName;
    case "application":
      return r.ensure !== null && r.ensure !== ""
        ? `${r.user}:${r.group} watching> ${r.ensure}`
        : `${r.user}:${r.group} started> ${r.start}`;
    case "filesystem":
      return `${r.source} ${r.target}`;
  }
}
