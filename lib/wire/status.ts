// The cluster status a node answers with: the core builds it (lib/core/status.ts), the control channel
// carries it as JSON, the client parses it with this same schema before rendering cm_stat, rstats,
// health and `status --json`. One definition, so what the server renders and what the client reads
// cannot drift apart. Unknown keys from a newer node are dropped on parse, not refused.

import { z } from "zod";
import { RESOURCE_KINDS } from "../config/model.ts";
import type { Blocker, Cause } from "../core/cause.ts";

const PEER_STATES = ["starting", "alive", "suspect", "dead", "inactive", "standby", "leaving"] as const;
const peerStateSchema = z.enum(PEER_STATES);
export type PeerState = z.infer<typeof peerStateSchema>;

const holdRoleSchema = z.enum(["primary", "backup"]);
const quorumPolicySchema = z.enum(["majority", "none"]);

/** Fields of one node's status; render-json.ts builds the `status --json` node from the same fields. */
export const nodeStatusShape = {
  nodename: z.string(),
  hostname: z.string(),
  ip: z.string(),
  self: z.boolean(),
  state: peerStateSchema,
  /** Milliseconds since the last valid heartbeat; null for self or never heard. */
  heartbeatAgeMs: z.number().nullable(),
  configDiffers: z.boolean(),
  quorum: z.boolean().nullable(),
  pingOk: z.boolean().nullable(),
  uptimeMs: z.number().nullable(),
  /** In node maintenance (its own or, for self, as set here). */
  maintenance: z.boolean(),
};
const nodeStatusSchema = z.object(nodeStatusShape).readonly();
export type NodeStatus = z.infer<typeof nodeStatusSchema>;

export const holderStatusShape = {
  node: z.string(),
  role: holdRoleSchema,
  claim: z.number(),
  heldMs: z.number(),
};
const holderStatusSchema = z.object(holderStatusShape).readonly();
export type HolderStatus = z.infer<typeof holderStatusSchema>;

export const lastWatchShape = { ok: z.boolean(), ageMs: z.number(), detail: z.string() };

const node = z.string();
const blockerSchema = z.discriminatedUnion("why", [
  z.object({ node, why: z.literal("dead"), silentMs: z.number().nullable() }),
  z.object({ node, why: z.enum(["leaving", "inactive", "standby", "failed", "starting", "no-quorum", "ping-lost"]) }),
  z.object({ node, why: z.literal("assumed-dead") }),
]);
const nodes = z.array(node).readonly();

/** lib/core/cause.ts as a schema: why a slot is where it is. */
export const causeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("primary"), node }),
  z.object({ kind: z.literal("owner-down"), owner: blockerSchema, node, holds: z.boolean(), skipped: z.array(blockerSchema).readonly() }),
  z.object({ kind: z.literal("moved"), node }),
  z.object({ kind: z.literal("maintenance"), node: node.nullable() }),
  z.object({ kind: z.literal("failback"), owner: node, from: node }),
  z.object({ kind: z.literal("failback-delay"), owner: node, node, delayMs: z.number().nullable(), remainingMs: z.number().nullable() }),
  z.object({ kind: z.literal("kept"), owner: node, node }),
  z.object({ kind: z.literal("waiting-start"), node }),
  z.object({ kind: z.literal("leftover-wait"), owner: node, holder: node }),
  z.object({ kind: z.literal("no-quorum"), alive: z.number(), total: z.number() }),
  z.object({ kind: z.literal("ping-lost"), node }),
  z.object({ kind: z.literal("max-failures"), nodes, failures: z.number().nullable() }),
  z.object({ kind: z.literal("fenced-pending"), node, fencing: nodes }),
  z.object({ kind: z.literal("outclaimed"), node, claim: z.number(), mine: z.number() }),
  z.object({ kind: z.literal("nowhere"), blocked: z.array(blockerSchema).readonly() }),
]);

/** Where a slot would go if `ifDown` (its holder, or where it should be) died now: placement run with that node dead. */
export const nextShape = { ifDown: node, node: node.nullable(), cause: causeSchema };

export const slotStatusShape = {
  slot: z.string(),
  resource: z.string(),
  kind: z.enum(RESOURCE_KINDS),
  nickname: z.string(),
  owner: z.string(),
  candidates: z.array(z.string()).readonly(),
  holders: z.array(holderStatusSchema).readonly(),
  /** Where placement wants it now (null: nowhere eligible). */
  desired: z.string().nullable(),
  /** Last watch on this node, if this node holds it. */
  lastWatch: z.object(lastWatchShape).readonly().nullable(),
  failCount: z.number(),
  /** Nodes that gave up on this slot after max_failures. */
  failedOn: z.array(z.string()).readonly(),
  /** describeCause(cause), or null when it runs on its primary and nothing is pending. */
  reason: z.string().nullable(),
  /** Added for explain: why it is where it is (lib/core/cause.ts); `reason` is its text. Absent from older nodes. */
  cause: causeSchema.optional(),
  /** Added for explain: where it would go next; null when it is nowhere. Absent from older nodes. */
  next: z.object(nextShape).readonly().nullable().optional(),
};
const slotStatusSchema = z.object(slotStatusShape).readonly();
export type SlotStatus = z.infer<typeof slotStatusSchema>;

/** A failed start, stop or watch on `node`, until cleanup or failure_timeout. */
export const failureStatusShape = {
  node: z.string(),
  slot: z.string(),
  action: z.enum(["start", "stop", "watch"]),
  detail: z.string(),
  output: z.array(z.string()).readonly(),
  count: z.number(),
  firstAgeMs: z.number(),
  lastAgeMs: z.number(),
};
const failureStatusSchema = z.object(failureStatusShape).readonly();
export type FailureStatus = z.infer<typeof failureStatusSchema>;

/** An operator move in force: resource pinned to node, made ageMs ago, ending in leftMs (null: until cleared). */
export const pinStatusShape = { resource: z.string(), node: z.string(), ageMs: z.number(), leftMs: z.number().nullable() };
const pinStatusSchema = z.object(pinStatusShape).readonly();
export type PinStatus = z.infer<typeof pinStatusSchema>;

export const maintenanceStatusShape = {
  /** Cluster-wide maintenance mode: no node starts, stops or moves anything. */
  cluster: z.boolean(),
  /** Nodes in node maintenance. */
  nodes: z.array(z.string()).readonly(),
};

export const quorumStatusShape = { policy: quorumPolicySchema, has: z.boolean(), alive: z.number(), total: z.number() };

/** One heartbeat link of one peer as the answering node hears it (only with several links). */
export const linkStatusShape = {
  node: z.string(),
  /** 0-based; cm_stat shows it 1-based, as the position of the address in keep_alive_ip. */
  link: z.number(),
  address: z.string(),
  up: z.boolean(),
  /** null: never heard on this link. */
  heardAgeMs: z.number().nullable(),
};
const linkStatusSchema = z.object(linkStatusShape).readonly();
export type LinkStatus = z.infer<typeof linkStatusSchema>;

export const clusterStatusSchema = z
  .object({
    self: z.string(),
    quorum: z.object(quorumStatusShape).readonly(),
    nodes: z.array(nodeStatusSchema).readonly(),
    slots: z.array(slotStatusSchema).readonly(),
    maintenance: z.object(maintenanceStatusShape).readonly(),
    pins: z.array(pinStatusSchema).readonly(),
    /** Failed actions of every node, newest first. */
    failures: z.array(failureStatusSchema).readonly(),
    /** Heartbeat links of every peer, when keep_alive_ip lists more than one address (absent: one link). */
    links: z.array(linkStatusSchema).readonly().optional(),
  })
  .readonly();
export type ClusterStatus = z.infer<typeof clusterStatusSchema>;

// Compile-time guard: the schema and the hand-written union in lib/core/cause.ts must not drift.
type DeepReadonly<T> = T extends readonly (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const causeMatches: Same<DeepReadonly<z.infer<typeof causeSchema>>, DeepReadonly<Cause>> = true;
const blockerMatches: Same<DeepReadonly<z.infer<typeof blockerSchema>>, DeepReadonly<Blocker>> = true;
void causeMatches, blockerMatches;
