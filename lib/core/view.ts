// The view placement reads: this node and every peer as this node sees them now.
import { isAlive, lastHeard } from "./membership.ts";
import type { NodeView, View } from "./placement.ts";
import { deadTimeMs, isConfigActive, type CoreState } from "./state.ts";

/** Peers seen alive and ready for failback_delay: a returning owner may take its resources back. */
export function stableSet(s: CoreState, t: number): Set<string> {
  const out = new Set<string>();
  for (const p of s.peers.values()) if (p.stableSince !== null && t - p.stableSince >= s.cluster.server.failbackDelayMs) out.add(p.name);
  return out;
}

export function viewOf(s: CoreState, t: number): View {
  const nodes = new Map<string, NodeView>();
  const holds = new Map<string, number>();
  const failed = new Set<string>();
  for (const r of s.records.values()) {
    if (r.held) holds.set(r.id, r.held.claim);
    if (r.failedOrder !== undefined) failed.add(r.id);
  }
  nodes.set(s.self, {
    alive: !s.stopping,
    leaving: s.stopping,
    ready: s.ready,
    active: s.cfg.active,
    standby: s.standby,
    maintenance: s.maintenance,
    quorum: s.quorum,
    pingOk: s.pingOk,
    failed,
    stable: stableSet(s, t),
    holds,
    silentMs: 0,
    upMs: null,
  });
  for (const p of s.peers.values()) {
    const hb = p.hb;
    const f = p.facts;
    nodes.set(p.name, {
      alive: hb !== null && isAlive(p, t, deadTimeMs(s)),
      leaving: hb?.leaving ?? false,
      ready: hb?.ready ?? false,
      active: (hb?.active ?? false) && isConfigActive(s, p.name),
      standby: hb?.standby ?? false,
      maintenance: hb?.maintenance ?? false,
      quorum: hb?.quorum ?? false,
      pingOk: hb?.pingOk ?? null,
      failed: f.failed,
      stable: f.stable,
      holds: f.holds,
      silentMs: silentMs(lastHeard(p), t),
      upMs: p.stableSince === null ? null : t - p.stableSince,
    });
  }
  const pins = new Map<string, string>();
  for (const [rid, pin] of s.pins) pins.set(rid, pin.node);
  const server = s.cluster.server;
  return { nodes, autoFailback: server.autoFailback, pins, self: s.self, failbackDelayMs: server.failbackDelayMs, maxFailures: server.maxFailures };
}

const silentMs = (heard: number | null, t: number): number | null => (heard === null ? null : t - heard);
