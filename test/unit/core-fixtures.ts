// Shared builders for the core's table tests (not a test file itself): two slots, a NodeView and a
// View from short overrides, and a heartbeat body.
import type { NodeView, View } from "../../lib/core/placement.ts";
import type { HeartbeatBody, Slot } from "../../lib/core/types.ts";

export const vip: Slot = { id: "ipaddr:vip@n1", resource: "ipaddr:vip", kind: "ipaddr", nickname: "vip", owner: "n1", candidates: ["n1", "n2", "n3"], exclusive: true };
export const svc: Slot = { ...vip, id: "service:web@n1", resource: "service:web", kind: "service", nickname: "web", exclusive: false };

/** A node's view with sets and maps written as arrays and records. */
export type Over = Partial<Omit<NodeView, "holds" | "stable" | "failed">> & { holds?: Record<string, number>; stable?: string[]; failed?: string[] };

/** A live, ready, active node with quorum; `base` adds defaults of one test file (silentMs, upMs). */
export const nodeView = (o: Over = {}, base: Partial<NodeView> = {}): NodeView => ({
  alive: true,
  leaving: false,
  ready: true,
  active: true,
  standby: false,
  quorum: true,
  pingOk: null,
  ...base,
  ...o,
  failed: new Set(o.failed ?? []),
  stable: new Set(o.stable ?? []),
  holds: new Map(Object.entries(o.holds ?? {})),
});

export interface ViewOptions {
  autoFailback?: boolean;
  pins?: Record<string, string>;
}

export const clusterView = (nodes: Record<string, Over>, opts: ViewOptions = {}, node: (o: Over) => NodeView = nodeView): View => ({
  nodes: new Map(Object.entries(nodes).map(([k, v]) => [k, node(v)])),
  autoFailback: opts.autoFailback ?? true,
  pins: new Map(Object.entries(opts.pins ?? {})),
});

/** Both slots held with the same claim. */
export const H = (claim: number) => ({ [vip.id]: claim, [svc.id]: claim });

export const heartbeatBody = (over: Partial<HeartbeatBody> = {}): HeartbeatBody => ({
  kind: "heartbeat",
  config: "f".repeat(64),
  active: true,
  standby: false,
  ready: true,
  leaving: false,
  quorum: true,
  pingOk: null,
  alive: [],
  stable: [],
  holds: [],
  failed: [],
  uptimeMs: 1000,
  ...over,
});
