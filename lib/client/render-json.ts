// `status --json`: a stable, versioned document for scripts. The zod schema below IS the contract
// (documented field by field in packaging/doc/client.md); a change that is not backward compatible
// bumps `schema`.

import { z } from "zod";
import type { ClusterStatus } from "../core/types.ts";
import { causeSchema, failureStatusShape, holderStatusShape, lastWatchShape, linkStatusShape, nextShape, nodeStatusShape, quorumStatusShape, slotStatusShape } from "../wire/status.ts";
import { evaluateHealth } from "./health.ts";
import { nodeIsUp } from "./view.ts";

export const STATUS_SCHEMA_ID = "drcm.status/1";

// The fields are those of the status the node answers with (lib/wire/status.ts), strict, with
// durations in whole non-negative milliseconds and the few fields only this document has. A field
// added to the status appears here too: document it in packaging/doc/client.md.
const ms = z.number().min(0);
const count = z.int().min(0);
export const statusJsonSchema = z.strictObject({
  schema: z.literal(STATUS_SCHEMA_ID),
  generatedAt: z.iso.datetime(),
  answeredBy: z.string(),
  version: z.string(),
  uptimeMs: ms,
  /** Packets and control requests the answering node refused since it started, by reason. */
  rejected: z.record(z.string(), count),
  health: z.strictObject({ code: z.int().min(0).max(3), state: z.enum(["OK", "WARNING", "CRITICAL", "UNKNOWN"]), summary: z.string(), problems: z.array(z.string()) }),
  quorum: z.strictObject({ ...quorumStatusShape, alive: count, total: count }),
  /** Maintenance mode: cluster-wide, and the nodes in node maintenance. */
  maintenance: z.strictObject({ cluster: z.boolean(), nodes: z.array(z.string()) }),
  /** Operator moves in force (`move`), ending at `until` (null: until `clear`). */
  /** Failed starts, stops and watches of every node (until cleanup or failure_timeout), newest first. */
  failures: z.array(z.strictObject({ ...failureStatusShape, output: z.array(z.string()), count, firstAgeMs: ms, lastAgeMs: ms, last: z.iso.datetime() })),
  pins: z.array(z.strictObject({ resource: z.string(), node: z.string(), since: z.iso.datetime(), until: z.iso.datetime().nullable() })),
  nodes: z.array(z.strictObject({ ...nodeStatusShape, up: z.boolean(), heartbeatAgeMs: ms.nullable(), uptimeMs: ms.nullable() })),
  /** Heartbeat links of every peer as the answering node hears them; [] with one link per node. */
  links: z.array(z.strictObject({ ...linkStatusShape, link: count, heardAgeMs: ms.nullable() })),
  resources: z.array(
    z.strictObject({
      ...slotStatusShape,
      running: z.boolean(),
      holders: z.array(z.strictObject({ ...holderStatusShape, claim: count, heldMs: ms, since: z.iso.datetime() })),
      lastWatch: z.strictObject({ ...lastWatchShape, ageMs: ms }).nullable(),
      failCount: count,
      /** null only from a node older than the field. */
      cause: causeSchema.nullable(),
      next: z.strictObject(nextShape).nullable(),
    }),
  ),
});
export type StatusJson = z.infer<typeof statusJsonSchema>;

export interface ServingInfo {
  readonly nodename: string;
  readonly version: string;
  readonly uptimeMs: number;
  /** ControlApi.info().rejected; absent from old replies. */
  readonly rejected?: Readonly<Record<string, number>>;
}

/** Whole milliseconds: the core measures with performance.now(). */
const round = (v: number | null): number | null => (v === null ? null : Math.round(v));

/** `noAnswer`: nodes that missed the report deadline; they appear among the health problems. */
export function statusToJson(status: ClusterStatus, info: ServingInfo, now: number, noAnswer: readonly string[] = []): StatusJson {
  const up = new Set(status.nodes.filter(nodeIsUp).map((n) => n.nodename));
  const rejected = { ...(info.rejected ?? {}) };
  const h = evaluateHealth(status, rejected, noAnswer);
  return {
    schema: STATUS_SCHEMA_ID,
    generatedAt: new Date(now).toISOString(),
    answeredBy: info.nodename,
    version: info.version,
    uptimeMs: Math.round(info.uptimeMs),
    rejected,
    health: { code: h.code, state: h.state, summary: h.line, problems: [...h.problems] },
    quorum: { ...status.quorum },
    maintenance: { cluster: status.maintenance.cluster, nodes: [...status.maintenance.nodes] },
    links: (status.links ?? []).map((l) => ({ ...l, heardAgeMs: round(l.heardAgeMs) })),
    failures: status.failures.map((f) => ({
      ...f,
      output: [...f.output],
      firstAgeMs: Math.round(f.firstAgeMs),
      lastAgeMs: Math.round(f.lastAgeMs),
      last: new Date(now - f.lastAgeMs).toISOString(),
    })),
    pins: status.pins.map((p) => ({
      resource: p.resource,
      node: p.node,
      since: new Date(now - p.ageMs).toISOString(),
      until: p.leftMs === null ? null : new Date(now + p.leftMs).toISOString(),
    })),
    nodes: status.nodes.map((n) => ({
      ...n,
      up: up.has(n.nodename),
      heartbeatAgeMs: round(n.heartbeatAgeMs),
      uptimeMs: round(n.uptimeMs),
    })),
    resources: status.slots.map((s) => {
      const holders = s.holders.filter((x) => up.has(x.node));
      return {
        slot: s.slot,
        resource: s.resource,
        kind: s.kind,
        nickname: s.nickname,
        owner: s.owner,
        candidates: [...s.candidates],
        running: holders.length > 0,
        holders: holders.map((x) => ({ ...x, heldMs: Math.round(x.heldMs), since: new Date(now - x.heldMs).toISOString() })),
        desired: s.desired,
        lastWatch: s.lastWatch === null ? null : { ...s.lastWatch, ageMs: Math.round(s.lastWatch.ageMs) },
        failCount: s.failCount,
        failedOn: [...s.failedOn],
        reason: s.reason,
        cause: s.cause ?? null,
        next: s.next ?? null,
      };
    }),
  };
}

export function renderStatusJson(status: ClusterStatus, info: ServingInfo, now: number, noAnswer: readonly string[] = []): string {
  return `${JSON.stringify(statusToJson(status, info, now, noAnswer), null, 2)}\n`;
}

/** The JSON Schema (draft 2020-12) of the document, generated from the zod definition above: packaging/doc/status.schema.json. */
export function statusJsonSchemaText(): string {
  const schema = z.toJSONSchema(statusJsonSchema, { target: "draft-2020-12" }) as Record<string, unknown>;
  return `${JSON.stringify({ $id: "urn:drcm:status:1", title: `drcm ${STATUS_SCHEMA_ID}: status --json and GET /status.json`, ...schema }, null, 2)}\n`;
}
