// rstats framing: byte comparison with DRCM 1.41 captures, the manual's sed recipe, and goldens.
import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderRstatsNode, statsLines } from "../../lib/client/render-rstats.ts";
import { utcStamp } from "../../lib/client/stamp.ts";
import { NOW, SCENARIOS } from "../fixtures/golden/scenarios.ts";
import { FAILOVER_AT, HEALTHY_AT, LOCAL_SAMPLES_DIR, failoverViewOnNode2, healthyView } from "../fixtures/golden/sample141.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;
const sample = (name: string): string => readFileSync(join(LOCAL_SAMPLES_DIR, name), "utf8");

test("renderRstatsNode() reproduces the 1.41 healthy capture (each node from its own view)", () => {
  const out =
    renderRstatsNode("cmnode1", "10.213.0.11", { ok: true, status: healthyView(1) }, HEALTHY_AT, utcStamp) +
    renderRstatsNode("cmnode2", "10.213.0.12", { ok: true, status: healthyView(2) }, HEALTHY_AT, utcStamp);
  expect(out).toBe(sample("03_rstats_healthy_on_node1.txt"));
});

test("renderRstatsNode() reproduces the 1.41 failover capture (backup_ kinds, unreachable node)", () => {
  const out =
    renderRstatsNode("cmnode1", "10.213.0.11", { ok: false, error: "ECONNREFUSED" }, FAILOVER_AT, utcStamp) +
    renderRstatsNode("cmnode2", "10.213.0.12", { ok: true, status: failoverViewOnNode2() }, FAILOVER_AT, utcStamp);
  expect(out).toBe(sample("03_rstats_failover_on_node2.txt"));
  expect(renderRstatsNode("cmnode1", "10.213.0.11", { ok: false, error: "timeout" }, FAILOVER_AT)).toBe(
    sample("03_rstats_n_cmnode1_dead_failover_on_node2.txt"),
  );
});

test("renderRstatsNode() keeps the manual's sed -n \"/NODE/,/NODE/p\" recipe working", () => {
  const s = SCENARIOS.failedOver;
  const out = ["cmnode1", "cmnode2", "cmnode3"]
    .map((n, i) => renderRstatsNode(n, `10.213.0.1${i + 1}`, n === "cmnode1" ? { ok: false, error: "x" } : { ok: true, status: s }, NOW, utcStamp))
    .join("");
  const golden = join(GOLDEN, "rstats-failedOver.txt");
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(golden, out);
  expect(existsSync(golden)).toBe(true);
  expect(out).toBe(readFileSync(golden, "utf8"));
  // sed -n "/cmnode2/,/cmnode2/p" | grep -v cmnode2
  const lines = out.split("\n");
  const start = lines.findIndex((l) => l.includes("cmnode2"));
  const end = lines.findIndex((l, i) => i > start && l.includes("cmnode2"));
  const body = lines.slice(start, end + 1).filter((l) => !l.includes("cmnode2"));
  expect(body).toEqual([
    "cron:cxcron2,Nov 25 17:44:38",
    "service:web,Nov 25 17:44:41",
    "backup_ip:vip,Nov 25 18:44:11",
    "backup_application:sleeper,Nov 25 18:44:14",
    "backup_cron:cxcron,Nov 25 18:44:15",
  ]);
});

test("statsLines() says No CM resources started for a node holding nothing", () => {
  expect(statsLines(SCENARIOS.noQuorum, "cmnode3", NOW, utcStamp)).toEqual(["No CM resources started"]);
});
