// explain with real processes: three daemons on 127.0.0.x, the primary of a floating IP killed; a survivor
// explains where the IP went (n2), why (n1 dead, with its heartbeat age) and where it would go next (n3).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { TestCluster, DRCM_BIN, waitFor } from "./harness.ts";

const haveBinary = existsSync(DRCM_BIN);
if (!haveBinary) console.log(`skipping explain integration test: no binary at ${DRCM_BIN} (npm run build)`);

describe.skipIf(!haveBinary)("explain against drcm daemons on 127.0.0.x", () => {
  let c: TestCluster;
  beforeAll(() => {
    c = new TestCluster({
      nodes: [
        { name: "n1", ip: "127.0.0.31", lines: ["node_floating_ip_addrs = vip"] },
        { name: "n2", ip: "127.0.0.32", lines: ["node_backup_floating_ip_addrs = n1:vip"] },
        { name: "n3", ip: "127.0.0.33", lines: ["node_backup_floating_ip_addrs = n1:vip"] },
      ],
      resources: ["[CM_IPADDRS]", "vip, 10.99.3.100, 24, eth0, AGENT"].join("\n"),
    });
    c.startAll();
  });
  afterAll(async () => {
    await c?.cleanup();
  });

  test("explain vip on its primary says it is fine there and that n2 is next", async () => {
    expect(await waitFor(() => c.has("n1", "10.99.3.100"), 10000)).toBeGreaterThanOrEqual(0);
    const r = await c.client(["--command=explain vip"], "n1");
    expect(r.code).toBe(0);
    expect(r.out).toContain("where: on n1 (primary");
    expect(r.out).toContain("why:   n1 is its primary");
    expect(r.out).toMatch(/next: +if n1 fails, it would go to n2: /);
  });

  test("after the primary is killed, explain vip on a survivor names n2, n1 dead with its heartbeat age, and n3 next", async () => {
    await c.kill("n1");
    const ms = await waitFor(() => c.has("n2", "10.99.3.100"), 10000);
    if (ms < 0) console.log(c.log("n2"));
    expect(ms).toBeGreaterThanOrEqual(0);
    const r = await c.client(["--command=explain vip"], "n3");
    if (r.code !== 0) console.log(r.out);
    expect(r.code).toBe(0);
    expect(r.out).toContain("where: on n2 (backup");
    expect(r.out).toMatch(/why: +its primary n1 is dead, no heartbeat for \d+ ms; n2 holds it/);
    expect(r.out).toMatch(/nodes: n1 dead since .+, no heartbeat for [\d.]+m?s/);
    expect(r.out).toContain("quorum: 2 of 3 nodes alive (majority: has quorum)");
    expect(r.out).toMatch(/next: +if n2 fails, it would go to n3: its primary n1 is dead, no heartbeat for \d+ ms; n2 is gone; n3 is the next live backup/);
    expect(r.out).toContain("(as seen by n3)");
    // The takeover's log line is the same cause in words.
    expect(c.log("n2")).toMatch(/Node n2 is taking over ipaddr:vip from n1 \(its primary n1 is dead, no heartbeat for \d+ ms; n2 is the first live backup\)/);
    console.log(r.out);
  });

  test("explain of an unknown nickname exits 1 and names the known ones", async () => {
    const r = await c.client(["--command=explain nope"], "n2");
    expect(r.code).toBe(1);
    expect(r.out).toContain('No resource with nickname "nope": known nicknames are vip');
  });
});
