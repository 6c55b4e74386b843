import { describe, expect, test } from "bun:test";
import { Core } from "../../lib/core/node.ts";
import { clusterStatusSchema } from "../../lib/wire/status.ts";
import { statusReplySchema } from "../../lib/wire/control-protocol.ts";
import { SCENARIOS } from "../fixtures/golden/scenarios.ts";
import { makeCluster } from "../sim/topology.ts";

// What the server renders is what the client parses: one schema, so a status that survives JSON
// comes back field for field, and the client needs no cast.
const overJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

describe("clusterStatusSchema", () => {
  test("clusterStatusSchema parses a live core's status unchanged", () => {
    const core = new Core(makeCluster({ nodes: 3 }), "cmnode1", { now: 0 });
    const status = core.status(1000);
    expect(status.slots.length).toBeGreaterThan(0);
    expect(clusterStatusSchema.parse(overJson(status))).toEqual(status);
  });

  test("clusterStatusSchema parses every golden status unchanged", () => {
    for (const status of Object.values(SCENARIOS)) expect(clusterStatusSchema.parse(overJson(status))).toEqual(status);
  });

  test("clusterStatusSchema drops fields a newer node adds and refuses a wrong state", () => {
    const status = overJson(SCENARIOS.healthy) as { nodes: Record<string, unknown>[] };
    status.nodes[0]!.future = 1;
    expect(clusterStatusSchema.parse(status).nodes[0]).not.toHaveProperty("future");
    status.nodes[0]!.state = "asleep";
    expect(clusterStatusSchema.safeParse(status).success).toBe(false);
  });

  test("statusReplySchema reads a status reply as the server sends it", () => {
    const info = { nodename: "cmnode1", version: "2.0.0", uptimeMs: 5, rejected: {} };
    const r = statusReplySchema.safeParse(overJson({ ok: true, info, status: SCENARIOS.failedOver }));
    expect(r.success && r.data.status).toEqual(SCENARIOS.failedOver);
  });
});
