// cm_stat text: golden files for the drcm 2 scenarios, and byte comparison of the 1.x part
// against real DRCM 1.41 captures. Regenerate goldens with UPDATE_GOLDEN=1 and review the diff.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderCmStat, ruler } from "../../lib/client/render-cmstat.ts";
import { makePaint } from "../../lib/client/paint.ts";
import { utcStamp } from "../../lib/client/stamp.ts";
import { CLUSTER, NOW, SCENARIOS } from "../fixtures/golden/scenarios.ts";
import { PROTOCOL_VERSION } from "../../lib/wire/codec.ts";
import {
  FAILOVER_AT,
  HEALTHY_AT,
  ISOLATED_AT,
  LOCAL_SAMPLES_DIR,
  failoverViewOnNode2,
  healthyView,
  isolatedViewOnNode1,
  sampleCluster,
} from "../fixtures/golden/sample141.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, actual);
  if (!existsSync(file)) throw new Error(`Missing golden file ${file}: run with UPDATE_GOLDEN=1 and review it`);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

/** The 1.x blocks only: everything before the drcm 2 Node Detail block. */
const legacyPart = (text: string): string => text.slice(0, text.indexOf(ruler("Node Detail")));
/** 1.41 typos fixed in drcm 2 (tracker issue 5). */
const fixTypos = (text: string): string => text.replaceAll("Resouce:", "Resource:").replaceAll(" resoruces ", " resources ");
const sample = (name: string): string => readFileSync(join(LOCAL_SAMPLES_DIR, name), "utf8");

describe("renderCmStat() golden files", () => {
  for (const [name, status] of Object.entries(SCENARIOS)) {
    test(`renderCmStat() ${name}`, () => {
      golden(`cmstat-${name}.txt`, renderCmStat(status, CLUSTER, { now: NOW, stamp: utcStamp }));
    });
  }
  test("renderCmStat() no node answered", () => {
    golden("cmstat-all-down.txt", renderCmStat(null, CLUSTER, { now: NOW, stamp: utcStamp }));
  });
});

describe("renderCmStat() against DRCM 1.41 captures", () => {
  test("renderCmStat() reproduces the healthy capture on node 1 byte for byte (typo fixed)", () => {
    const out = renderCmStat(healthyView(1), sampleCluster(1), { now: HEALTHY_AT, stamp: utcStamp });
    expect(legacyPart(out)).toBe(fixTypos(sample("01_cm_stat_healthy_on_node1.txt")));
  });
  test("renderCmStat() builds details from the local config, as on node 2", () => {
    const out = renderCmStat(healthyView(2), sampleCluster(2), { now: HEALTHY_AT, stamp: utcStamp });
    expect(legacyPart(out)).toBe(fixTypos(sample("01_cm_stat_healthy_on_node2.txt")));
  });
  test("renderCmStat() reproduces the failover capture on node 2 (OK-Backup, Down, health phrases)", () => {
    const out = renderCmStat(failoverViewOnNode2(), sampleCluster(2), { now: FAILOVER_AT, stamp: utcStamp });
    // 1.41 ended this one with a stray second empty line; drcm 2 ends every report the same way.
    expect(legacyPart(out)).toBe(fixTypos(sample("02_cm_stat_failover_on_node2.txt")).replace(/\n+$/, "\n\n"));
  });
  test("renderCmStat() reproduces the isolated-node capture (missing resources, counts line)", () => {
    const out = renderCmStat(isolatedViewOnNode1(), sampleCluster(1), { now: ISOLATED_AT, stamp: utcStamp });
    // 1.41 printed an empty line for the Down node after the last block; drcm 2 does not.
    expect(legacyPart(out)).toBe(fixTypos(sample("02_cm_stat_failover_on_node1_isolated.txt")).replace("\n\n\n=", "\n\n="));
  });
});

describe("renderCmStat() phrases scripts grep", () => {
  const text = (name: keyof typeof SCENARIOS) => renderCmStat(SCENARIOS[name], CLUSTER, { now: NOW, stamp: utcStamp });
  test("renderCmStat() says HEALTHY only when nothing is wrong", () => {
    expect(text("healthy")).toContain("  Cluster status: HEALTHY\n");
    for (const n of ["failedOver", "duplicate", "noQuorum", "standby"] as const) expect(text(n)).not.toContain("Cluster status: HEALTHY");
  });
  test("renderCmStat() hides a dead node's last claim and says why a slot is not running", () => {
    const t = text("failedOver");
    expect(t).not.toMatch(/Service:\tweb\tha1\.test/);
    expect(t).toContain("     not running: no eligible live node");
    expect(t).toContain("Cluster status: DOWN nodes FAILEDOVER resources\n");
  });
  test("renderCmStat() reports duplicates even when another kind is missing (1.x hid both)", () => {
    const s = SCENARIOS.duplicate;
    const missingCron = { ...s, slots: s.slots.map((x) => (x.slot === "crontab:cxcron2@cmnode2" ? { ...x, holders: [] } : x)) };
    const t = renderCmStat(missingCron, CLUSTER, { now: NOW, stamp: utcStamp });
    expect(t).toContain("  IPaddr: WARNING - duplicate IP address resource detected");
    expect(t).toContain("  Crontab: 1 resource crons loaded out of 2");
    expect(t).toContain("MISSING resources DUPLICATE resources");
  });
  test("renderCmStat() shows no quorum in the health block and node detail", () => {
    expect(text("noQuorum")).toContain("Cluster status: DOWN nodes MISSING resources NO QUORUM");
    expect(text("noQuorum")).toContain("Quorum: NO QUORUM (majority, 1 of 3 nodes alive)");
  });
  test("renderCmStat() colours only when asked, without changing the words", () => {
    const plain = text("healthy");
    const coloured = renderCmStat(SCENARIOS.healthy, CLUSTER, { now: NOW, stamp: utcStamp, paint: makePaint(true) });
    expect(coloured).not.toBe(plain);
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain);
    expect(plain).not.toContain("\x1b[");
  });
});

test("ruler() is 79 columns like the 1.x rulers", () => {
  expect(ruler("Node Detail")).toHaveLength(79);
  expect(ruler("Resource Detail")).toHaveLength(79);
});

describe("renderCmStat() operator state", () => {
  const cluster = CLUSTER;
  test("renderCmStat() shows maintenance mode at the top and in Cluster status", () => {
    const text = renderCmStat({ ...SCENARIOS.healthy, maintenance: { cluster: true, nodes: [] } }, cluster, { now: NOW, stamp: utcStamp });
    expect(text.split("\n")[3]).toBe("  *** MAINTENANCE MODE cluster-wide: drcm starts, stops and moves nothing; watches only report ***");
    expect(text).toContain("  Cluster status: MAINTENANCE\n");
    expect(renderCmStat(SCENARIOS.healthy, cluster, { now: NOW, stamp: utcStamp })).not.toContain("MAINTENANCE");
  });

  test("renderCmStat() shows a move as moved by operator (since, until), not as a failover", () => {
    const moved = { ...SCENARIOS.failedOver, pins: [{ resource: "ipaddr:vip", node: "cmnode2", ageMs: 60_000, leftMs: null }] };
    const text = renderCmStat(moved, cluster, { now: NOW, stamp: utcStamp });
    expect(text).toContain(`     moved by operator to cmnode2 (since ${utcStamp(NOW - 60_000)}, until cleared)`);
    expect(text).toContain("Cluster has 2 failed over resources"); // the crontab and the application still are
  });
});

describe("renderCmStat() failed actions", () => {
  test("renderCmStat() lists every node's failed actions with count, times and output; health names the first", async () => {
    const { evaluateHealth } = await import("../../lib/client/health.ts");
    const failures = [{ node: "cmnode2", slot: "service:web@cmnode2", action: "watch" as const, detail: "exit 3", output: ["httpd is dead"], count: 3, firstAgeMs: 30_000, lastAgeMs: 10_000 }];
    const text = renderCmStat({ ...SCENARIOS.healthy, failures }, CLUSTER, { now: NOW, stamp: utcStamp });
    expect(text).toContain(`  service:web@cmnode2 on cmnode2: watch failed 3 times, last exit 3 at ${utcStamp(NOW - 10_000)} (first ${utcStamp(NOW - 30_000)})\n      httpd is dead\n`);
    expect(renderCmStat(SCENARIOS.healthy, CLUSTER, { now: NOW, stamp: utcStamp })).not.toContain("Failed Actions");
    expect(evaluateHealth({ ...SCENARIOS.healthy, failures }).problems).toContain("failed action: watch service:web@cmnode2 on cmnode2 exit 3");
  });
});

describe("renderCmStat() protocol version", () => {
  test("renderCmStat() names a node that speaks another protocol version, and health warns", () => {
    const status = SCENARIOS.healthy;
    const out = renderCmStat(status, CLUSTER, { now: NOW, stamp: utcStamp, otherVersion: [{ node: "cmnode2", version: 2 }] });
    expect(out).toContain(`  Protocol version: cmnode2 speaks protocol version 2, not ${PROTOCOL_VERSION} (bad_version): run the same drcm release on every node`);
    expect(out).toContain("Health: WARNING");
    expect(renderCmStat(status, CLUSTER, { now: NOW, stamp: utcStamp })).not.toContain("Protocol version");
  });
});
