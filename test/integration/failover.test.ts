// Issue 3's proof with real processes: three drcm daemons on 127.0.0.x with the stand-in agent.
// SIGKILL one: the others agree it is dead within dead_time plus one interval and take over its resources;
// restart it: it is alive again and gets them back after failback_delay; SIGTERM one: the takeover is immediate.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { TestCluster, DRCM_BIN, waitFor } from "./harness.ts";

const haveBinary = existsSync(DRCM_BIN);
if (!haveBinary) console.log(`skipping failover integration tests: no binary at ${DRCM_BIN} (npm run build)`);

describe.skipIf(!haveBinary)("drcm daemons on 127.0.0.x", () => {
  let c: TestCluster;
  beforeAll(() => {
    c = new TestCluster({
      nodes: [
        { name: "n1", ip: "127.0.0.11", lines: ["node_floating_ip_addrs = vip", "node_crontabs = jobs"] },
        {
          name: "n2",
          ip: "127.0.0.12",
          lines: ["node_backup_floating_ip_addrs = n1:vip", "node_backup_crontabs = n1:jobs", "node_services = web"],
        },
        { name: "n3", ip: "127.0.0.13", lines: ["node_backup_floating_ip_addrs = n1:vip", "node_backup_services = n2:web"] },
      ],
      resources: [
        "[CM_IPADDRS]",
        "vip, 10.99.0.100, 24, eth0, AGENT",
        "[CM_CRONTABS]",
        "jobs, DIR/crontabs/jobs, DIR/cron.d, AGENT",
        "[CM_SERVICES]",
        "web, httpd, AGENT",
      ].join("\n"),
    });
    c.startAll();
  });
  afterAll(async () => {
    await c?.cleanup();
  });

  test("all three start and place every resource on its primary", async () => {
    const ms = await waitFor(() => c.has("n1", "10.99.0.100") && c.has("n1", "jobs") && c.has("n2", "httpd"), 10000);
    if (ms < 0) console.log(c.log("n1"), c.log("n2"), c.log("n3"));
    expect(ms).toBeGreaterThanOrEqual(0);
    console.log(`  start-up: resources placed ${Math.round(ms)} ms after launch`);
    expect(c.has("n2", "10.99.0.100")).toBe(false);
    expect(c.has("n3", "10.99.0.100")).toBe(false);
    expect(c.has("n3", "httpd")).toBe(false);
  });

  test("garbage and forged packets are rejected, logged once per kind and address, and move nothing", async () => {
    const sock = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0, socket: { error() {} } });
    for (let i = 0; i < 50; i++) sock.send(crypto.getRandomValues(new Uint8Array(40 + i)), c.port, "127.0.0.13");
    // A well-formed envelope with a made-up MAC: magic "DRCM", version 2, JSON, 32 bytes of MAC.
    const body = new TextEncoder().encode(JSON.stringify({ from: "n1", inc: 1, seq: 1, body: { kind: "heartbeat" } }));
    const forged = new Uint8Array([0x44, 0x52, 0x43, 0x4d, 2, ...body, ...new Uint8Array(32)]);
    for (let i = 0; i < 20; i++) sock.send(forged, c.port, "127.0.0.13");
    sock.close();
    expect(await waitFor(() => /Rejected heartbeat packet: \S+ from 127\.0\.0\.1/.test(c.log("n3")), 3000)).toBeGreaterThanOrEqual(0);
    const lines = c.log("n3").split("\n").filter((l) => l.includes("Rejected heartbeat packet"));
    expect(lines.length).toBeLessThanOrEqual(4);
    await Bun.sleep(200);
    expect(c.has("n1", "10.99.0.100")).toBe(true);
    expect(c.has("n3", "10.99.0.100")).toBe(false);
  });

  test("SIGKILL of n1: n2 takes over the IP and the crontab, n3 stays backup", async () => {
    const t0 = performance.now();
    await c.kill("n1");
    const ms = await waitFor(() => c.has("n2", "10.99.0.100") && c.has("n2", "jobs"), 5000, 10);
    expect(ms).toBeGreaterThanOrEqual(0);
    console.log(`  SIGKILL n1 -> n2 holds vip+jobs after ${Math.round(performance.now() - t0)} ms (dead_time 800 ms, interval 50 ms)`);
    // Both survivors agree that n1 is dead.
    expect(await waitFor(() => /n1.*dead|dead.*n1/i.test(c.log("n2")) && /n1.*dead|dead.*n1/i.test(c.log("n3")), 2000)).toBeGreaterThanOrEqual(0);
    await Bun.sleep(300);
    expect(c.has("n3", "10.99.0.100")).toBe(false);
    // n1's host still "has" its resources (the fake agent's files): a killed daemon releases nothing.
    expect(c.has("n1", "10.99.0.100")).toBe(true);
  });

  test("restart of n1: it releases its stale leftovers, then gets its resources back after failback_delay", async () => {
    const t0 = performance.now();
    c.start("n1");
    // The stale IP left by the killed daemon must go within dead_time of the restart (n2 holds it with a newer claim).
    const gone = await waitFor(() => !c.has("n1", "jobs") || c.journal("n1").some((l) => / stop /.test(l)), 3000, 10);
    expect(gone).toBeGreaterThanOrEqual(0);
    const back = await waitFor(
      () => c.has("n1", "10.99.0.100") && c.has("n1", "jobs") && !c.has("n2", "10.99.0.100") && !c.has("n2", "jobs"),
      10000,
      20,
    );
    if (back < 0) console.log(c.log("n1"), c.log("n2"));
    expect(back).toBeGreaterThanOrEqual(0);
    const took = performance.now() - t0;
    console.log(`  restart n1 -> failback complete after ${Math.round(took)} ms (failback_delay 2000 ms)`);
    expect(took).toBeGreaterThanOrEqual(1500);
  });

  test("SIGTERM of n2: n3 takes over its service at once, not after dead_time", async () => {
    const t0 = performance.now();
    const stopped = c.stop("n2");
    const ms = await waitFor(() => c.has("n3", "httpd"), 5000, 5);
    expect(ms).toBeGreaterThanOrEqual(0);
    console.log(`  SIGTERM n2 -> n3 runs web after ${Math.round(performance.now() - t0)} ms`);
    expect(await stopped).toBe(0);
    // n2 released the backup resources it held; its own service follows keep_services (default 0: stopped).
    expect(c.has("n2", "httpd")).toBe(false);
  });
});
