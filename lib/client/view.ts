// How the client reads a ClusterStatus: which nodes count as "Up" in the 1.x sense, which holds
// are real, and the counts cm_stat, health and JSON all report. One place, so the three never
// disagree about what "failed over" or "missing" means.

import type { ClusterStatus, HolderStatus, NodeStatus, SlotStatus } from "../core/types.ts";
import { EXCLUSIVE_KINDS, type ResourceKind } from "../config/model.ts";
import { describeCause } from "../core/cause.ts";

/**
 * 1.x called a node Up when it answered. A peer we still hear from (even suspect, standby or with
 * node_is_active = 0) is Up; one declared dead, one that said it is leaving, and one never heard
 * since we started are Down. The serving node is Up by definition: it answered.
 */
export function nodeIsUp(n: NodeStatus): boolean {
  if (n.self) return true;
  if (n.state === "dead" || n.state === "leaving") return false;
  if (n.state === "starting" && n.heartbeatAgeMs === null) return false;
  return true;
}

export interface SlotView {
  readonly slot: SlotStatus;
  /** Holders on Up nodes only: a dead node's last claim is history, not a hold. */
  readonly holders: readonly HolderStatus[];
}

export interface Summary {
  readonly up: ReadonlySet<string>;
  readonly nodesUp: number;
  readonly nodesTotal: number;
  readonly slots: readonly SlotView[];
  readonly slotsHeld: number;
  /** Holds with role backup (on Up nodes), except on the node an operator moved the resource to. */
  readonly failedOver: number;
  /** Slots held where an operator pinned them (move). */
  readonly moved: readonly SlotView[];
  /** Maintenance mode, in words ("cluster-wide", "on n1, n2"), or null when off. */
  readonly maintenance: string | null;
  /** Exclusive slots held by more than one node. */
  readonly duplicates: readonly SlotView[];
  /** Slots with no holder. */
  readonly unheld: readonly SlotView[];
  /** Resources (kind:nickname) with no holder in any of their slots. */
  readonly resourcesDown: readonly string[];
}

export function summarize(status: ClusterStatus): Summary {
  const up = new Set(status.nodes.filter(nodeIsUp).map((n) => n.nodename));
  const slots = status.slots.map((slot) => ({ slot, holders: slot.holders.filter((h) => up.has(h.node)) }));
  const heldResources = new Set(slots.filter((s) => s.holders.length > 0).map((s) => s.slot.resource));
  const allResources = [...new Set(status.slots.map((s) => s.resource))];
  const pinOf = new Map(status.pins.map((p) => [p.resource, p.node]));
  const pinned = (s: SlotView, node: string) => pinOf.get(s.slot.resource) === node;
  const m = status.maintenance;
  return {
    up,
    nodesUp: up.size,
    nodesTotal: status.nodes.length,
    slots,
    slotsHeld: slots.filter((s) => s.holders.length > 0).length,
    failedOver: slots.reduce((n, s) => n + s.holders.filter((h) => h.role === "backup" && !pinned(s, h.node)).length, 0),
    moved: slots.filter((s) => s.holders.some((h) => pinned(s, h.node))),
    maintenance: m.cluster ? "cluster-wide" : m.nodes.length > 0 ? `on ${m.nodes.join(", ")}` : null,
    duplicates: slots.filter((s) => EXCLUSIVE_KINDS.has(s.slot.kind) && s.holders.length > 1),
    unheld: slots.filter((s) => s.holders.length === 0),
    resourcesDown: allResources.filter((r) => !heldResources.has(r)),
  };
}

/**
 * 1.x "loaded" count of one kind: every hold of an exclusive kind (so duplicates show), but each
 * service, application or filesystem resource once however many nodes run it.
 */
export function loadedOfKind(sum: Summary, kind: ResourceKind): number {
  const ofKind = sum.slots.filter((s) => s.slot.kind === kind);
  if (EXCLUSIVE_KINDS.has(kind)) return ofKind.reduce((n, s) => n + s.holders.length, 0);
  return new Set(ofKind.filter((s) => s.holders.length > 0).map((s) => s.slot.resource)).size;
}

/**
 * Why a slot is where it is, in words: the node's cause rendered by describeCause() (an older node sends
 * only the text, `reason`). null when it is on its primary and fine.
 */
export function causeText(s: SlotStatus): string | null {
  if (s.cause === undefined) return s.reason;
  if (s.reason === null) return null;
  return describeCause(s.cause);
}

/** The cause says why the slot waits for something (a start, a failback, a fence, a duplicate to end), not why it runs where it does. */
export function causeIsPending(s: SlotStatus): boolean {
  const k = s.cause?.kind;
  return k === "failback" || k === "waiting-start" || k === "leftover-wait" || k === "fenced-pending" || k === "outclaimed";
}
