import { expect, test } from "bun:test";
import { CRITICAL, evaluateHealth, healthFailure, OK, UNKNOWN, WARNING } from "../../lib/client/health.ts";
import { SCENARIOS, healthy } from "../fixtures/golden/scenarios.ts";

test("evaluateHealth() gives monitoring-plugin codes for each situation", () => {
  expect(evaluateHealth(SCENARIOS.healthy).code).toBe(OK);
  expect(evaluateHealth(SCENARIOS.failedOver).code).toBe(WARNING);
  expect(evaluateHealth(SCENARIOS.duplicate).code).toBe(CRITICAL);
  expect(evaluateHealth(SCENARIOS.noQuorum).code).toBe(CRITICAL);
  // cmnode2's crontab has no backup: with cmnode2 in standby it runs nowhere.
  expect(evaluateHealth(SCENARIOS.standby).code).toBe(CRITICAL);
});

test("evaluateHealth() prints one plugin line with perfdata", () => {
  expect(evaluateHealth(SCENARIOS.healthy).line).toBe(
    "DRCM OK - 3/3 nodes up, 7/7 resources held | nodes_up=3;;;0;3 resources_held=7;;;0;7 failed_over=0;;;0 duplicates=0;;;0 quorum=1;;;0;1",
  );
  const w = evaluateHealth(SCENARIOS.failedOver).line;
  expect(w).toStartWith("DRCM WARNING - 2/3 nodes up, 6/7 resources held: cmnode1 dead, ");
  expect(w).not.toContain("\n");
});

test("evaluateHealth() warns on a suspect peer, a differing config and a failing watch", () => {
  const suspect = { ...healthy, nodes: healthy.nodes.map((n) => (n.nodename === "cmnode3" ? { ...n, state: "suspect" as const } : n)) };
  expect(evaluateHealth(suspect)).toMatchObject({ code: WARNING, problems: ["cmnode3 suspect"] });
  const differs = { ...healthy, nodes: healthy.nodes.map((n) => (n.nodename === "cmnode2" ? { ...n, configDiffers: true } : n)) };
  expect(evaluateHealth(differs)).toMatchObject({ code: WARNING, problems: ["cmnode2 config differs"] });
  const watch = { ...healthy, slots: healthy.slots.map((s, i) => (i === 0 ? { ...s, lastWatch: { ok: false, ageMs: 1, detail: "exit 1" } } : s)) };
  expect(evaluateHealth(watch)).toMatchObject({ code: WARNING, problems: ["crontab:cxcron@cmnode1 watch failed"] });
});

test("healthFailure() reports an unreachable node as CRITICAL and a broken check as UNKNOWN", () => {
  expect(healthFailure(CRITICAL, "cmnode1 did not answer").line).toBe("DRCM CRITICAL - cmnode1 did not answer");
  expect(healthFailure(UNKNOWN, "no config").code).toBe(3);
});

test("evaluateHealth() names maintenance mode as a WARNING, and a move as no failover", () => {
  const maint = { ...healthy, maintenance: { cluster: true, nodes: [] } };
  expect(evaluateHealth(maint)).toMatchObject({ code: WARNING, problems: ["maintenance mode cluster-wide: drcm starts, stops and moves nothing there"] });
  const one = { ...healthy, maintenance: { cluster: false, nodes: ["cmnode2"] } };
  expect(evaluateHealth(one).problems).toEqual(["maintenance mode on cmnode2: drcm starts, stops and moves nothing there"]);
  // The failed-over picture, but cmnode2 holds the IP because an operator moved it there.
  const moved = { ...SCENARIOS.failedOver, pins: [{ resource: "ipaddr:vip", node: "cmnode2", ageMs: 1000, leftMs: 600_000 }] };
  const h = evaluateHealth(moved);
  expect(h.problems.some((p) => p.startsWith("ipaddr:vip@cmnode1 failed over"))).toBe(false);
  expect(h.line).toContain("; ipaddr:vip moved by operator to cmnode2 for 10m00s more");
});
