// Operator state through the real client and real daemons on 127.0.0.x: maintenance on/off,
// move --lifetime, clear, and the errors a user can make. The proof that maintenance moves nothing
// under a rolling restart is in test/netns/cluster-maintenance.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DRCM_BIN, TestCluster, waitFor } from "./harness.ts";

const haveBinary = existsSync(DRCM_BIN);
if (!haveBinary) console.log(`skipping operator integration tests: no binary at ${DRCM_BIN} (npm run build)`);

describe.skipIf(!haveBinary)("operator commands on a running 3-node cluster", () => {
  let c: TestCluster;
  const stat = async (node = "o1") => (await c.client(["--command=cm_stat"], node)).out;
  beforeAll(async () => {
    c = new TestCluster({
      nodes: [
        { name: "o1", ip: "127.0.0.61", lines: ["node_floating_ip_addrs = vip"] },
        { name: "o2", ip: "127.0.0.62", lines: ["node_backup_floating_ip_addrs = o1:vip"] },
        { name: "o3", ip: "127.0.0.63", lines: ["node_backup_floating_ip_addrs = o1:vip"] },
      ],
      resources: ["[CM_IPADDRS]", "vip, 10.99.3.100, 24, eth0, AGENT"].join("\n"),
    });
    c.startAll();
    expect(await waitFor(async () => /Cluster status: HEALTHY/.test(await stat()), 15000)).toBeGreaterThanOrEqual(0);
  });
  afterAll(async () => {
    await c?.cleanup();
  });

  test("maintenance on|off, typed as separate words: every node shows it, and it is persisted", async () => {
    const on = await c.client(["--command=maintenance", "on"], "o2");
    expect(on.code).toBe(0);
    expect(await waitFor(async () => /\*\*\* MAINTENANCE MODE cluster-wide/.test(await stat("o3")), 3000)).toBeGreaterThanOrEqual(0);
    expect((await c.client(["--command=health"], "o1")).out).toContain("maintenance mode cluster-wide");
    const state = JSON.parse(readFileSync(join(c.dir, "spool", "state-o1.json"), "utf8")) as { operator: { maintenance: boolean } };
    expect(state.operator.maintenance).toBe(true);
    expect((await c.client(["--command=maintenance off"], "o1")).code).toBe(0);
    expect(await waitFor(async () => /Cluster status: HEALTHY/.test(await stat("o3")), 3000)).toBeGreaterThanOrEqual(0);
  });

  test("move --lifetime pins the IP on o2 as moved by operator; clear --all brings it home", async () => {
    const r = await c.client(["--command=move vip o2 --lifetime=10m"], "o1");
    expect(r.code).toBe(0);
    expect(await waitFor(() => c.has("o2", "10.99.3.100"), 5000)).toBeGreaterThanOrEqual(0);
    const out = await stat("o3");
    expect(out).toMatch(/moved by operator to o2 \(since .+, until .+\)/);
    const json = JSON.parse((await c.client(["--command=status --json"], "o3")).out) as { pins: { resource: string; node: string; until: string | null }[] };
    expect(json.pins.map((p) => `${p.resource}>${p.node}`)).toEqual(["ipaddr:vip>o2"]);
    expect(json.pins[0]!.until).not.toBeNull();
    expect((await c.client(["--command=clear --all"], "o3")).code).toBe(0);
    expect(await waitFor(() => c.has("o1", "10.99.3.100") && !c.has("o2", "10.99.3.100"), 8000)).toBeGreaterThanOrEqual(0);
  });

  test("mistakes are refused with a clear message and exit 1", async () => {
    const bad = await c.client(["--command=move vip o2 --lifetime=soon"], "o1");
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('Cannot parse "--lifetime=soon"');
    const nothing = await c.client(["--command=clear vip"], "o1");
    expect(nothing.code).toBe(1);
    expect(nothing.out).toContain("nothing to clear");
    const word = await c.client(["--command=maintenance maybe"], "o1");
    expect(word.code).toBe(1);
    expect(word.out).toContain("usage maintenance on|off [NODE]");
  });
});
