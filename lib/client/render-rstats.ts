// `rstats`: each node's own holds in the 1.x stats-buffer framing, so the manual's
// `rstats | sed -n "/$CMNODE/,/$CMNODE/p"` recipe keeps working:
//   rstats <nodename>@<ip> successful
//   <kind>:<nickname>,<Mon DD HH:MM:SS>      (backup_<kind> for holds on behalf of a peer)
//   rstats <nodename>@<ip> end
// or `rstats ack <nodename>@<ip> failed with recv error` when the node did not answer.

import { KIND_INFO, RESOURCE_KINDS } from "../config/model.ts";
import type { ClusterStatus } from "../core/types.ts";
import { localStamp, type Stamp } from "./stamp.ts";

export interface StatsLine {
  readonly text: string;
  readonly heldMs: number;
  readonly kindOrder: number;
}

/** The stats buffer lines of `node` from its own status (holds where holder == node). */
export function statsLines(status: ClusterStatus, node: string, now: number, stamp: Stamp = localStamp): string[] {
  const lines: StatsLine[] = [];
  for (const s of status.slots) {
    for (const h of s.holders) {
      if (h.node !== node) continue;
      const kind = `${h.role === "backup" ? "backup_" : ""}${KIND_INFO[s.kind].statsKind}`;
      lines.push({ text: `${kind}:${s.nickname},${stamp(now - h.heldMs)}`, heldMs: h.heldMs, kindOrder: RESOURCE_KINDS.indexOf(s.kind) });
    }
  }
  // 1.x listed resources in the order they were started: oldest first, then by start order of kinds.
  lines.sort((a, b) => b.heldMs - a.heldMs || a.kindOrder - b.kindOrder);
  return lines.length === 0 ? ["No CM resources started"] : lines.map((l) => l.text);
}

export type RstatsResult = { readonly ok: true; readonly status: ClusterStatus } | { readonly ok: false; readonly error: string };

/** One node's framed block. */
export function renderRstatsNode(nodename: string, ip: string, r: RstatsResult, now: number, stamp: Stamp = localStamp): string {
  if (!r.ok) return `rstats ack ${nodename}@${ip} failed with recv error\n`;
  const body = statsLines(r.status, nodename, now, stamp);
  return [`rstats ${nodename}@${ip} successful`, ...body, `rstats ${nodename}@${ip} end`].join("\n") + "\n";
}
