// Slots: one per (resource, primary owner). The unit placement and reconcile work on.
import { EXCLUSIVE_KINDS, RESOURCE_KINDS, resourceId, type Cluster } from "../config/model.ts";
import { slotId, type Slot } from "./types.ts";

/**
 * Every slot of the cluster in start order (RESOURCE_KINDS, then config order of resources, then node order).
 * candidates = [owner, ...nodes whose node_backup_<kind> lists `owner:nickname`, in config node order].
 */
export function slotsOf(cluster: Cluster): Slot[] {
  const out: Slot[] = [];
  for (const kind of RESOURCE_KINDS) {
    for (const res of cluster.resources) {
      if (res.kind !== kind) continue;
      for (const owner of cluster.nodes) {
        if (!owner.primaries[kind].includes(res.nickname)) continue;
        const backups = cluster.nodes
          .filter((n) => n.nodename !== owner.nodename && n.backups[kind].some((b) => b.node === owner.nodename && b.nickname === res.nickname))
          .map((n) => n.nodename);
        const rid = resourceId(kind, res.nickname);
        out.push({
          id: slotId(rid, owner.nodename),
          resource: rid,
          kind,
          nickname: res.nickname,
          owner: owner.nodename,
          candidates: [owner.nodename, ...backups],
          exclusive: EXCLUSIVE_KINDS.has(kind),
        });
      }
    }
  }
  return out;
}
