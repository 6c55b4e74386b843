// The operator's cluster-wide state: maintenance mode and the resource pins (`move`), one register under
// one generation. An operator command bumps the generation on the node it was typed on and is forwarded
// with it; every heartbeat carries the sender's copy, and a node adopts any copy with a higher
// generation. So a lost command datagram, a daemon restart (the copy is persisted) or a node that was
// down during the command all end with the same copy on every node.
import { addPin } from "./pins.ts";
import { beatNow, emit, type CoreState } from "./state.ts";
import type { OperatorStateWire, Persisted, PinWire } from "./types.ts";

/**
 * Generations are unique per node: a counter times GEN_SPACE plus the node's index in the config, so two
 * operators typing at the same moment on two nodes make two different generations and the higher wins.
 */
const GEN_SPACE = 1000;

/** The generation a command typed on this node gets. */
export function nextGen(s: CoreState): number {
  const index = Math.max(0, s.cluster.nodes.findIndex((n) => n.nodename === s.self)) % GEN_SPACE;
  return (Math.floor(s.op.gen / GEN_SPACE) + 1) * GEN_SPACE + index;
}

/** Maintenance applies to this node: cluster-wide or its own. Nothing is started, stopped or moved here. */
export const inMaintenance = (s: CoreState): boolean => s.op.maintenance || s.maintenance;

export function operatorWire(s: CoreState, t: number): OperatorStateWire | undefined {
  if (s.op.gen === 0) return undefined;
  const pins: PinWire[] = [];
  for (const [resource, p] of s.pins) pins.push({ resource, node: p.node, ageMs: Math.max(0, t - p.since), leftMs: p.until === null ? null : Math.max(0, p.until - t) });
  return { gen: s.op.gen, maintenance: s.op.maintenance, pins };
}

/** A peer's copy: taken when its generation is higher than ours. Returns true when ours changed. */
export function adoptOperator(s: CoreState, from: string, w: OperatorStateWire, t: number): boolean {
  if (w.gen <= s.op.gen) return false;
  s.op.gen = w.gen;
  setMaintenance(s, w.maintenance, `node ${from}`);
  s.pins.clear();
  for (const p of w.pins) {
    if (!s.slots.some((x) => x.resource === p.resource && x.candidates.includes(p.node))) continue;
    addPin(s, p.resource, p.node, t - p.ageMs, p.leftMs === null ? null : t + p.leftMs);
  }
  return true;
}

/** Cluster-wide maintenance on or off (from a command or a peer's copy), with its event once per change. */
export function setMaintenance(s: CoreState, on: boolean, by: string): void {
  if (s.op.maintenance === on) return;
  s.op.maintenance = on;
  beatNow(s);
  if (on) emit(s, { type: "maintenance_on", message: `Cluster maintenance mode ON (by ${by}): drcm starts, stops and moves nothing; watches go on and report` });
  else emit(s, { type: "maintenance_off", message: `Cluster maintenance mode OFF (by ${by}): placement resumes` });
}

/** This node's own maintenance. */
export function setNodeMaintenance(s: CoreState, on: boolean, by: string): void {
  if (s.maintenance === on) return;
  s.maintenance = on;
  beatNow(s);
  if (on) emit(s, { type: "maintenance_on", node: s.self, message: `Node ${s.self} in maintenance mode (by ${by}): it starts, stops and moves nothing, and nothing is taken over from it` });
  else emit(s, { type: "maintenance_off", node: s.self, message: `Node ${s.self} leaves maintenance mode (by ${by})` });
}

/** What the edges keep across a restart. */
export function persistedOf(s: CoreState): Persisted {
  return {
    standby: s.standby,
    maintenance: s.maintenance,
    operator: {
      gen: s.op.gen,
      maintenance: s.op.maintenance,
      pins: [...s.pins].map(([resource, p]) => ({ resource, node: p.node, since: p.since, until: p.until })),
    },
  };
}

export const NOTHING_PERSISTED: Persisted = { standby: false, maintenance: false, operator: { gen: 0, maintenance: false, pins: [] } };

/** Takes back what a previous run persisted (pins whose target no longer holds the resource in the config are dropped). */
export function restoreOperator(s: CoreState, p: Persisted): void {
  s.standby = p.standby;
  s.maintenance = p.maintenance;
  s.op = { gen: p.operator.gen, maintenance: p.operator.maintenance };
  for (const pin of p.operator.pins) {
    if (!s.slots.some((x) => x.resource === pin.resource && x.candidates.includes(pin.node))) continue;
    addPin(s, pin.resource, pin.node, pin.since, pin.until);
  }
}
