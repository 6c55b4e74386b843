import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { statusJsonSchema, statusJsonSchemaText, statusToJson } from "../../lib/client/render-json.ts";
import { SCENARIOS } from "../fixtures/golden/scenarios.ts";

test("packaging/doc/status.schema.json is the JSON Schema generated from statusJsonSchema (else: bun packaging/gen-docs.ts)", () => {
  const shipped = readFileSync(join(import.meta.dir, "../../packaging/doc/status.schema.json"), "utf8");
  expect(shipped).toBe(statusJsonSchemaText());
  const schema = JSON.parse(shipped) as { type: string; required: string[]; additionalProperties: boolean; properties: Record<string, unknown> };
  expect(schema.type).toBe("object");
  expect(schema.additionalProperties).toBe(false);
  // Every top-level field of a real document is described, and required.
  const doc = statusToJson(SCENARIOS.failedOver, { nodename: "cmnode2", version: "2.0.0", uptimeMs: 1, rejected: {} }, Date.now());
  expect(statusJsonSchema.safeParse(doc).success).toBe(true);
  expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(doc).sort());
  expect([...schema.required].sort()).toEqual(Object.keys(doc).sort());
});
