// status(): the live view for cm_stat, `status --json` and health checks, built from the core's state.
import type { Cluster } from "../config/model.ts";
import { describeCause, type Cause } from "./cause.ts";
import { fencesNeeded } from "./fencing.ts";
import { isAlive, lastHeard, peerState } from "./membership.ts";
import { frozenBy, place, type NodeView, type View } from "./placement.ts";
import type { PeerRecord, SlotRecord } from "./records.ts";
import type { ClusterStatus, FailureStatus, FailureWire, HolderStatus, NodeStatus, PeerState, PinStatus, Slot, SlotStatus } from "./types.ts";

export interface StatusInput {
  readonly cluster: Cluster;
  readonly self: string;
  readonly now: number;
  readonly view: View;
  readonly peers: ReadonlyMap<string, PeerRecord>;
  readonly slots: readonly Slot[];
  readonly records: ReadonlyMap<string, SlotRecord>;
  readonly quorum: boolean;
  readonly pingOk: boolean | null;
  readonly selfState: PeerState;
  readonly uptimeMs: number;
  readonly deadTimeMs: number;
  readonly configActive: (node: string) => boolean;
  /** Cluster-wide maintenance, and this node's own. */
  readonly maintenance: { readonly cluster: boolean; readonly self: boolean };
  readonly pins: readonly PinStatus[];
  /** This node's own failed actions (peers' come from their heartbeats). */
  readonly failures: readonly FailureWire[];
}

export function buildStatus(s: StatusInput): ClusterStatus {
  const nodes: NodeStatus[] = s.cluster.nodes.map((n) => {
    const base = { nodename: n.nodename, hostname: n.hostname, ip: n.keepAliveIp };
    if (n.nodename === s.self)
      return {
        ...base,
        self: true,
        state: s.selfState,
        heartbeatAgeMs: null,
        configDiffers: false,
        quorum: s.quorum,
        pingOk: s.pingOk,
        uptimeMs: s.uptimeMs,
        maintenance: s.maintenance.self,
      };
    const p = s.peers.get(n.nodename)!;
    const h = lastHeard(p);
    return {
      ...base,
      self: false,
      state: peerState(p, s.now, s.deadTimeMs, s.configActive(n.nodename)),
      heartbeatAgeMs: h === null ? null : s.now - h,
      configDiffers: p.hb !== null && p.hb.config !== s.cluster.fingerprint,
      quorum: p.hb?.quorum ?? null,
      pingOk: p.hb?.pingOk ?? null,
      uptimeMs: p.hb ? p.hb.uptimeMs + (s.now - p.hbAt) : null,
      maintenance: p.hb?.maintenance ?? false,
    };
  });
  const alive = 1 + [...s.peers.values()].filter((p) => isAlive(p, s.now, s.deadTimeMs)).length;
  return {
    self: s.self,
    quorum: { policy: s.cluster.server.quorum, has: s.quorum, alive, total: s.cluster.nodes.length },
    nodes,
    slots: s.slots.map((slot) => slotStatus(s, slot)),
    maintenance: { cluster: s.maintenance.cluster, nodes: nodes.filter((n) => n.maintenance).map((n) => n.nodename) },
    pins: s.pins,
    failures: failureList(s),
  };
}

function slotStatus(s: StatusInput, slot: Slot): SlotStatus {
  const holders: HolderStatus[] = [];
  const rec = s.records.get(slot.id);
  const selfHold = rec?.held;
  if (selfHold) holders.push({ node: s.self, role: slot.owner === s.self ? "primary" : "backup", claim: selfHold.claim, heldMs: s.now - selfHold.since });
  for (const p of s.peers.values()) {
    if (!p.hb || !isAlive(p, s.now, s.deadTimeMs) && !p.hb.leaving) continue;
    const h = p.hb.holds.find((x) => x.slot === slot.id);
    if (h) holders.push({ node: p.name, role: h.role, claim: h.claim, heldMs: h.heldMs + (s.now - p.hbAt) });
  }
  const failedOn = slot.candidates.filter((c) => (c === s.self ? rec?.failedOrder !== undefined : s.peers.get(c)?.facts.failed.has(slot.id) ?? false));
  const pl = place(slot, s.view);
  const frozen = frozenBy(slot, s.view);
  const cause: Cause = s.maintenance.cluster
    ? { kind: "maintenance", node: null }
    : frozen !== null
      ? { kind: "maintenance", node: frozen }
      : (waitsForFence(s, slot, pl.desired, selfHold !== undefined) ?? pl.cause);
  const w = rec?.lastWatch;
  // On its primary and held there: nothing to explain in `reason`.
  const fine = cause.kind === "primary" && holders.some((h) => h.node === cause.node);
  return {
    slot: slot.id,
    resource: slot.resource,
    kind: slot.kind,
    nickname: slot.nickname,
    owner: slot.owner,
    candidates: slot.candidates,
    holders,
    desired: pl.desired,
    lastWatch: w ? { ok: w.ok, ageMs: s.now - w.at, detail: w.detail } : null,
    failCount: rec?.failCount ?? 0,
    failedOn,
    reason: fine ? null : describeCause(cause),
    cause,
    next: nextPlace(slot, s.view, pl.current ?? pl.desired),
  };
}

/** Failed actions of this node and of every peer as its last heartbeat said (aged since), newest first. */
function failureList(s: StatusInput): FailureStatus[] {
  const out: FailureStatus[] = s.failures.map((f) => ({ node: s.self, ...f }));
  for (const p of s.peers.values()) {
    if (!p.hb?.failures) continue;
    const since = s.now - p.hbAt;
    for (const f of p.hb.failures) out.push({ node: p.name, ...f, firstAgeMs: f.firstAgeMs + since, lastAgeMs: f.lastAgeMs + since });
  }
  return out.sort((a, b) => a.lastAgeMs - b.lastAgeMs);
}

/** This node should start the slot but first fences the dead peers in its way. */
function waitsForFence(s: StatusInput, slot: Slot, desired: string | null, held: boolean): Cause | null {
  if (desired !== s.self || held) return null;
  const needed = fencesNeeded(!!s.cluster.server.fenceScript, s.self, s.peers, slot, s.view);
  return needed.size === 0 ? null : { kind: "fenced-pending", node: s.self, fencing: [...needed.keys()] };
}

/** Where the slot would go if `down` died now: the same placement, with that node dead and holding nothing. */
function nextPlace(slot: Slot, view: View, down: string | null): SlotStatus["next"] {
  const n = down === null ? undefined : view.nodes.get(down);
  if (down === null || n === undefined) return null;
  const gone: NodeView = { ...n, alive: false, leaving: false, holds: new Map(), assumedDead: true };
  const nodes = new Map(view.nodes);
  nodes.set(down, gone);
  const pl = place(slot, { ...view, nodes });
  return { ifDown: down, node: pl.desired, cause: pl.cause };
}
