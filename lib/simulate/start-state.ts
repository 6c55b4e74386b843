// Where a simulation starts: which hosts run a daemon, which are in standby, what is present on each
// host (the driver's start-up probe adopts it), and what has failed where. Read from a `status --json`
// document (a file, or the live answer of a node), or "every node up, every resource on its primary".
import { z } from "zod";
import type { Cluster, ResourceId } from "../config/model.ts";
import { slotsOf } from "../core/slots.ts";

export interface StartState {
  /** One line saying where the start state came from. */
  readonly source: string;
  /** Hosts with no daemon at the start (dead, leaving). */
  readonly down: ReadonlySet<string>;
  readonly standby: ReadonlySet<string>;
  /** node -> resources running on that host. */
  readonly present: ReadonlyMap<string, ReadonlySet<ResourceId>>;
  /** node -> resources that failed too often there: their agent keeps failing there. */
  readonly failed: ReadonlyMap<string, ReadonlySet<ResourceId>>;
  /** What of the status did not fit the config (renamed nodes, removed resources). */
  readonly notes: readonly string[];
}

/**
 * Only the fields the simulation reads, and loose: a status saved by a newer drcm (more fields) or an
 * older one (fewer optional ones) still starts a simulation.
 */
const statusInput = z.looseObject({
  answeredBy: z.string().optional(),
  generatedAt: z.string().optional(),
  nodes: z.array(z.looseObject({ nodename: z.string(), up: z.boolean().optional(), state: z.string() })),
  resources: z.array(
    z.looseObject({
      slot: z.string(),
      resource: z.string(),
      holders: z.array(z.looseObject({ node: z.string() })),
      failedOn: z.array(z.string()).optional(),
    }),
  ),
});

const add = (m: Map<string, Set<ResourceId>>, node: string, r: ResourceId) => {
  const s = m.get(node) ?? new Set<ResourceId>();
  s.add(r);
  m.set(node, s);
};

/** No node answered and no file was given: the cluster as its config describes it at rest. */
export function restingStart(cluster: Cluster, why: string): StartState {
  const present = new Map<string, Set<ResourceId>>();
  for (const slot of slotsOf(cluster)) add(present, slot.owner, slot.resource);
  return { source: `${why}: starting from every node up, every resource on its primary`, down: new Set(), standby: new Set(), present, failed: new Map(), notes: [] };
}

/** A `status --json` document as the start state, or the reason it cannot be one. */
export function startFromStatus(cluster: Cluster, doc: unknown, label: string): StartState | string {
  const p = statusInput.safeParse(doc);
  if (!p.success) {
    const issue = p.error.issues[0]!;
    return `${label} is not a drcm status document (drcm --client --command="status --json"): ${issue.path.join(".") || "top level"}: ${issue.message}`;
  }
  const st = p.data;
  const names = new Set(cluster.nodes.map((n) => n.nodename));
  const resources = new Set<string>(slotsOf(cluster).map((s) => s.resource));
  const notes: string[] = [];
  const down = new Set<string>();
  const standby = new Set<string>();
  for (const n of st.nodes) {
    if (!names.has(n.nodename)) {
      notes.push(`node "${n.nodename}" of the status is not in the config: ignored`);
      continue;
    }
    const up = n.up ?? !["dead", "leaving"].includes(n.state);
    if (!up) down.add(n.nodename);
    else if (n.state === "standby") standby.add(n.nodename);
  }
  const present = new Map<string, Set<ResourceId>>();
  const failed = new Map<string, Set<ResourceId>>();
  for (const r of st.resources) {
    if (!resources.has(r.resource)) {
      notes.push(`resource ${r.resource} of the status is not in the config: ignored`);
      continue;
    }
    const id = r.resource as ResourceId;
    for (const h of r.holders) if (names.has(h.node) && !down.has(h.node)) add(present, h.node, id);
    for (const n of r.failedOn ?? []) if (names.has(n)) add(failed, n, id);
  }
  const from = st.answeredBy ? ` (answered by ${st.answeredBy}${st.generatedAt ? ` at ${st.generatedAt}` : ""})` : "";
  return { source: `Starting from ${label}${from}`, down, standby, present, failed, notes };
}
