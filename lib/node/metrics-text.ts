// Prometheus text exposition (format 0.0.4) of one node: its view of the cluster (the same status
// cm_stat shows) and its own counters (lib/node/metrics.ts). Names follow the Prometheus conventions:
// `drcm_` prefix, `_total` counters, base units (seconds), `_info` metrics with the value 1.
// Documented in packaging/doc/operations.md; `promtool check metrics` runs on it in the tests.
import type { ClusterStatus } from "../core/types.ts";
import type { NodeInfo } from "../wire/control-protocol.ts";
import type { Histogram, NodeMetrics } from "./metrics.ts";
import { splitKey } from "./metrics.ts";

export interface MetricsContext {
  readonly status: ClusterStatus;
  readonly info: NodeInfo;
  readonly metrics: NodeMetrics;
  readonly fingerprint: string;
  readonly protocol: number;
  /** Wall-clock ms of this daemon's start. */
  readonly startedAtMs: number;
}

const PEER_STATES = ["starting", "alive", "suspect", "dead", "inactive", "standby", "leaving"] as const;
const UP_STATES = new Set(["alive", "standby", "leaving", "inactive", "starting"]);

const escape = (v: string): string => v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
const labels = (l: Record<string, string>): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
};
const num = (v: number): string => (Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN");

class Writer {
  readonly lines: string[] = [];
  family(name: string, type: "gauge" | "counter" | "histogram", help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, l: Record<string, string>, v: number): void {
    this.lines.push(`${name}${labels(l)} ${num(v)}`);
  }
  histogram(name: string, l: Record<string, string>, h: Histogram): void {
    let cum = 0;
    h.bounds.forEach((b, i) => {
      cum += h.counts[i]!;
      this.sample(`${name}_bucket`, { ...l, le: String(b) }, cum);
    });
    cum += h.counts[h.bounds.length]!;
    this.sample(`${name}_bucket`, { ...l, le: "+Inf" }, cum);
    this.sample(`${name}_sum`, l, h.sum);
    this.sample(`${name}_count`, l, h.count);
  }
}

export function renderMetrics(c: MetricsContext): string {
  const { status: st, info, metrics: m } = c;
  const w = new Writer();
  const self = st.self;

  w.family("drcm_build_info", "gauge", "drcm release and wire protocol version of this node (value 1).");
  w.sample("drcm_build_info", { version: info.version, protocol: String(c.protocol) }, 1);
  w.family("drcm_config_info", "gauge", "Fingerprint of the cm.cfg this node runs (value 1); nodes with different fingerprints run different configs.");
  w.sample("drcm_config_info", { fingerprint: c.fingerprint }, 1);
  w.family("drcm_start_time_seconds", "gauge", "When this daemon started, seconds since the Unix epoch.");
  w.sample("drcm_start_time_seconds", {}, c.startedAtMs / 1000);

  w.family("drcm_node_up", "gauge", "1 when the node is up as this node sees it (heard within dead_time, or this node itself).");
  for (const n of st.nodes) w.sample("drcm_node_up", { node: n.nodename }, n.self || UP_STATES.has(n.state) ? 1 : 0);
  w.family("drcm_node_state", "gauge", "State of each node as this node sees it: 1 for the current state, 0 for the others.");
  for (const n of st.nodes) for (const s of PEER_STATES) w.sample("drcm_node_state", { node: n.nodename, state: s }, n.state === s ? 1 : 0);
  w.family("drcm_node_self", "gauge", "1 for the node that serves these metrics.");
  w.sample("drcm_node_self", { node: self }, 1);
  w.family("drcm_node_maintenance", "gauge", "1 when the node is in node maintenance.");
  for (const n of st.nodes) w.sample("drcm_node_maintenance", { node: n.nodename }, n.maintenance ? 1 : 0);
  w.family("drcm_node_resources_held", "gauge", "Resource slots each node holds, as this node sees it.");
  const held = new Map<string, number>(st.nodes.map((n) => [n.nodename, 0]));
  for (const s of st.slots) for (const h of s.holders) held.set(h.node, (held.get(h.node) ?? 0) + 1);
  for (const [node, v] of held) w.sample("drcm_node_resources_held", { node }, v);
  w.family("drcm_peer_heartbeat_age_seconds", "gauge", "Time since the last valid heartbeat of each peer (absent: never heard).");
  for (const n of st.nodes) if (!n.self && n.heartbeatAgeMs !== null) w.sample("drcm_peer_heartbeat_age_seconds", { node: n.nodename }, n.heartbeatAgeMs / 1000);

  w.family("drcm_peer_link_up", "gauge", "1 when the peer is heard on that heartbeat link (1-based, the position in keep_alive_ip) within dead_time.");
  if (st.links !== undefined && st.links.length > 0) for (const l of st.links) w.sample("drcm_peer_link_up", { node: l.node, link: String(l.link + 1) }, l.up ? 1 : 0);
  else for (const n of st.nodes) if (!n.self) w.sample("drcm_peer_link_up", { node: n.nodename, link: "1" }, n.state === "alive" || n.state === "standby" || n.state === "leaving" ? 1 : 0);

  w.family("drcm_quorum", "gauge", "1 when this node's partition has quorum (always 1 with quorum = none).");
  w.sample("drcm_quorum", { policy: st.quorum.policy }, st.quorum.has ? 1 : 0);
  w.family("drcm_quorum_nodes_alive", "gauge", "Nodes this node counts as alive for quorum.");
  w.sample("drcm_quorum_nodes_alive", {}, st.quorum.alive);
  w.family("drcm_quorum_nodes", "gauge", "Nodes in the cluster.");
  w.sample("drcm_quorum_nodes", {}, st.quorum.total);
  w.family("drcm_cluster_maintenance", "gauge", "1 when cluster-wide maintenance mode is on.");
  w.sample("drcm_cluster_maintenance", {}, st.maintenance.cluster ? 1 : 0);

  w.family("drcm_resource_holder", "gauge", "1 for each node that holds the resource slot (a floating IP held twice shows two series).");
  for (const s of st.slots) for (const h of s.holders) w.sample("drcm_resource_holder", { resource: s.resource, slot: s.slot, node: h.node }, 1);
  w.family("drcm_resource_running", "gauge", "1 when some node holds the resource slot.");
  for (const s of st.slots) w.sample("drcm_resource_running", { resource: s.resource, slot: s.slot }, s.holders.length > 0 ? 1 : 0);
  w.family("drcm_resource_on_owner", "gauge", "1 when the resource slot runs on its owner (its primary) only.");
  for (const s of st.slots) w.sample("drcm_resource_on_owner", { resource: s.resource, slot: s.slot }, s.holders.length === 1 && s.holders[0]!.node === s.owner ? 1 : 0);
  w.family("drcm_resource_failed_nodes", "gauge", "Nodes that gave up on the resource slot after max_failures.");
  for (const s of st.slots) w.sample("drcm_resource_failed_nodes", { resource: s.resource, slot: s.slot }, s.failedOn.length);
  w.family("drcm_failed_actions", "gauge", "Failed starts, stops and watches kept (cm_stat Failed actions), by node and action.");
  const failed = new Map<string, number>();
  for (const f of st.failures) failed.set(`${f.node}\u0000${f.action}`, (failed.get(`${f.node}\u0000${f.action}`) ?? 0) + 1);
  for (const [k, v] of failed) {
    const [node, action] = splitKey(k);
    w.sample("drcm_failed_actions", { node: node!, action: action! }, v);
  }

  w.family("drcm_failovers_total", "counter", "Takeovers this node made, by resource and cause (owner-down, moved, ...).");
  for (const [k, v] of m.failovers) {
    const [resource, cause] = splitKey(k);
    w.sample("drcm_failovers_total", { resource: resource!, cause: cause! }, v);
  }
  w.family("drcm_failbacks_total", "counter", "Resources this node took back as their owner, by resource and cause.");
  for (const [k, v] of m.failbacks) {
    const [resource, cause] = splitKey(k);
    w.sample("drcm_failbacks_total", { resource: resource!, cause: cause! }, v);
  }
  w.family("drcm_events_total", "counter", "Cluster events this node reported, by type (the alert events).");
  for (const [type, v] of m.events) w.sample("drcm_events_total", { type }, v);

  w.family("drcm_heartbeat_receive_interval_seconds", "histogram", "Time between two accepted packets of each peer (any link).");
  for (const [peer, h] of m.intervals) w.histogram("drcm_heartbeat_receive_interval_seconds", { node: peer }, h);

  const packets: [string, number][] = [];
  const control: [string, number][] = [];
  for (const [reason, v] of Object.entries(info.rejected)) (reason.startsWith("control_") ? control : packets).push([reason.replace(/^control_/, ""), v]);
  w.family("drcm_packets_rejected_total", "counter", "Peer packets this node refused, by reason (bad_mac, replay, unverified, ...).");
  for (const [reason, v] of packets) w.sample("drcm_packets_rejected_total", { reason }, v);
  w.family("drcm_control_requests_rejected_total", "counter", "Control-channel requests this node refused, by reason.");
  for (const [reason, v] of control) w.sample("drcm_control_requests_rejected_total", { reason }, v);

  w.family("drcm_script_runs_total", "counter", "Resource and fence script runs on this node, by resource kind, action and result.");
  for (const [k, v] of m.scriptRuns) {
    const [kind, action, result] = splitKey(k);
    w.sample("drcm_script_runs_total", { kind: kind!, action: action!, result: result! }, v);
  }
  w.family("drcm_script_duration_seconds", "histogram", "Run time of resource and fence scripts on this node, by resource kind and action.");
  for (const [k, h] of m.scriptDurations) {
    const [kind, action] = splitKey(k);
    w.histogram("drcm_script_duration_seconds", { kind: kind!, action: action! }, h);
  }
  w.family("drcm_watch_failures_total", "counter", "Failed watches (periodic checks) on this node, by resource.");
  for (const [resource, v] of m.watchFailures) w.sample("drcm_watch_failures_total", { resource }, v);

  return `${w.lines.join("\n")}\n`;
}
