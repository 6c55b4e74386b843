import { expect, test } from "bun:test";
import { renderStatusJson, STATUS_SCHEMA_ID, statusJsonSchema, statusToJson } from "../../lib/client/render-json.ts";
import { NOW, SCENARIOS } from "../fixtures/golden/scenarios.ts";

const info = { nodename: "cmnode2", version: "2.0.0", uptimeMs: 7_200_000.4 };

test("statusToJson() matches the documented schema in every situation", () => {
  for (const s of Object.values(SCENARIOS)) {
    const doc = JSON.parse(renderStatusJson(s, info, NOW));
    const r = statusJsonSchema.safeParse(doc);
    if (!r.success) throw new Error(JSON.stringify(r.error.issues, null, 2));
    expect(doc.schema).toBe(STATUS_SCHEMA_ID);
  }
});

test("statusToJson() shows only live holders, says why a slot is not running, and whole milliseconds", () => {
  const doc = statusToJson(SCENARIOS.failedOver, info, NOW);
  const web1 = doc.resources.find((r) => r.slot === "service:web@cmnode1")!;
  expect(web1).toMatchObject({ running: false, holders: [], reason: "no eligible live node", desired: null });
  const vip = doc.resources.find((r) => r.slot === "ipaddr:vip@cmnode1")!;
  expect(vip.holders).toEqual([{ node: "cmnode2", role: "backup", claim: 2, heldMs: 26_000, since: "2026-11-25T18:44:11.000Z" }]);
  expect(doc.nodes.map((n) => [n.nodename, n.up, n.state])).toEqual([
    ["cmnode1", false, "dead"],
    ["cmnode2", true, "alive"],
    ["cmnode3", true, "alive"],
  ]);
  expect(doc.health).toMatchObject({ code: 1, state: "WARNING" });
  expect(doc.uptimeMs).toBe(7_200_000);
  expect(doc.answeredBy).toBe("cmnode2");
});

test("statusJsonSchema rejects a document with a field it does not document", () => {
  const doc = { ...statusToJson(SCENARIOS.healthy, info, NOW), extra: 1 };
  expect(statusJsonSchema.safeParse(doc).success).toBe(false);
});
