// SIGHUP and the `reload` operator command re-read the config: a config with errors is refused and the
// running one stays; a good one takes effect without a restart. SIGUSR1/SIGUSR2 move the debug level.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, DRCM_BIN, waitFor } from "./harness.ts";

const haveBinary = existsSync(DRCM_BIN);
if (!haveBinary) console.log(`skipping reload integration tests: no binary at ${DRCM_BIN} (npm run build)`);

describe.skipIf(!haveBinary)("config reload of a running drcm", () => {
  let c: TestCluster;
  let good = "";
  beforeAll(async () => {
    c = new TestCluster({
      nodes: [{ name: "solo", ip: "127.0.0.41", lines: ["node_floating_ip_addrs = vip"] }],
      resources: ["[CM_IPADDRS]", "vip, 10.99.1.100, 24, eth0, AGENT", "vip2, 10.99.1.101, 24, eth0, AGENT"].join("\n"),
    });
    good = readFileSync(c.configFile, "utf8");
    c.start("solo");
    expect(await waitFor(() => c.has("solo", "10.99.1.100"), 10000)).toBeGreaterThanOrEqual(0);
  });
  afterAll(async () => {
    await c?.cleanup();
  });

  test("SIGHUP with a broken config: refused with the finding, old config keeps running", async () => {
    writeFileSync(c.configFile, good.replace("node_floating_ip_addrs = vip", "node_floating_ip_addrs = vip, nosuchip"));
    c.signal("solo", "SIGHUP");
    expect(await waitFor(() => /Reload refused/.test(c.log("solo")), 5000)).toBeGreaterThanOrEqual(0);
    expect(c.log("solo")).toMatch(/nosuchip/);
    expect(c.running("solo")).toBe(true);
    expect(c.has("solo", "10.99.1.100")).toBe(true);
    const st = await c.client(["--command=cm_stat"], "solo");
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/IPaddr:\tvip\tsolo\.test\tOK-Normal/);
  });

  test("SIGHUP with a good config: the new resource starts without a restart", async () => {
    writeFileSync(c.configFile, good.replace("node_floating_ip_addrs = vip", "node_floating_ip_addrs = vip, vip2"));
    c.signal("solo", "SIGHUP");
    expect(await waitFor(() => c.has("solo", "10.99.1.101"), 5000)).toBeGreaterThanOrEqual(0);
    expect(c.has("solo", "10.99.1.100")).toBe(true);
    expect(c.log("solo")).toMatch(/Reloaded/);
  });

  test("client reload command: refused with errors, exit 1, daemon unchanged", async () => {
    writeFileSync(c.configFile, good.replace("keep_alive_ip = 127.0.0.41", "keep_alive_ip = 127.0.0.999"));
    const r = await c.client(["--command=reload"], "solo");
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/refused|error/i);
    expect(c.running("solo")).toBe(true);
    writeFileSync(c.configFile, good);
  });

  test("reload after the authkey changed: refused naming the key file, the running key stays in use", async () => {
    const keyFile = join(c.dir, ".auth/authkey");
    const original = readFileSync(keyFile);
    try {
      writeFileSync(keyFile, Buffer.alloc(2048, 7), { mode: 0o600 });
      c.signal("solo", "SIGHUP");
      expect(await waitFor(() => /authkey changed since this daemon started/.test(c.log("solo")), 5000)).toBeGreaterThanOrEqual(0);
      expect(c.log("solo")).toContain(keyFile);
    } finally {
      writeFileSync(keyFile, original, { mode: 0o600 });
    }
    // The client signs with the file's key, which is the running one again: answered.
    const st = await c.client(["--command=cm_stat"], "solo");
    expect(st.code).toBe(0);
  });

  test("SIGUSR2 raises and SIGUSR1 lowers the debug level", async () => {
    c.signal("solo", "SIGUSR2");
    expect(await waitFor(() => /Debug level raised to 2/.test(c.log("solo")), 3000)).toBeGreaterThanOrEqual(0);
    c.signal("solo", "SIGUSR1");
    expect(await waitFor(() => /Debug level lowered to 1/.test(c.log("solo")), 3000)).toBeGreaterThanOrEqual(0);
  });

  test("a second drcm for the same node refuses to start", async () => {
    const p = Bun.spawn([DRCM_BIN, `--config-file=${c.configFile}`, "--node=solo", "--log-file=second.log"], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => p.kill("SIGKILL"), 10000);
    const code = await p.exited;
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(await new Response(p.stderr).text()).toMatch(/already running/);
  });

  test("SIGTERM releases the floating IPs and exits 0", async () => {
    expect(await c.stop("solo")).toBe(0);
    expect(c.has("solo", "10.99.1.100")).toBe(false);
    expect(c.has("solo", "10.99.1.101")).toBe(false);
  });
});

// Issue 13: a reload that changes udpport used to make every node send where nobody listened (all peers
// dead, a 2-node cluster split). Now a port change is made before it is broken: every node listens on
// both ports and sends to both until each peer is heard on the new one.
describe.skipIf(!haveBinary)("reload of udpport and keep_alive_interval on a running 3-node cluster", () => {
  let c: TestCluster;
  let text = "";
  const names = ["r1", "r2", "r3"];
  const starts = () => names.map((n) => c.journal(n).filter((l) => / (start|stop) /.test(l)).length);
  const deaths = () => names.flatMap((n) => c.log(n).split("\n").filter((l) => /is dead|no heartbeat for/.test(l)));
  beforeAll(async () => {
    c = new TestCluster({
      nodes: [
        { name: "r1", ip: "127.0.0.51", lines: ["node_floating_ip_addrs = vip"] },
        { name: "r2", ip: "127.0.0.52", lines: ["node_backup_floating_ip_addrs = r1:vip", "node_services = web"] },
        { name: "r3", ip: "127.0.0.53", lines: ["node_backup_floating_ip_addrs = r1:vip", "node_backup_services = r2:web"] },
      ],
      resources: ["[CM_IPADDRS]", "vip, 10.99.2.100, 24, eth0, AGENT", "[CM_SERVICES]", "web, httpd, AGENT"].join("\n"),
    });
    text = readFileSync(c.configFile, "utf8");
    c.startAll();
    const up = await waitFor(async () => /Cluster status: HEALTHY/.test((await c.client(["--command=cm_stat"], "r1")).out), 15000);
    expect(up).toBeGreaterThanOrEqual(0);
  });
  afterAll(async () => {
    await c?.cleanup();
  });

  test("udpport changed on every node, one reload command: HEALTHY throughout, no death, no move, old port closed", async () => {
    const before = starts();
    text = text.replace(`udpport = ${c.port}`, `udpport = ${c.port + 1}`);
    writeFileSync(c.configFile, text);
    const r = await c.client(["--command=reload"], "r1");
    expect(r.code).toBe(0);
    for (const n of names) expect(await waitFor(() => /old port \d+ closed/.test(c.log(n)), 5000)).toBeGreaterThanOrEqual(0);
    await Bun.sleep(2000); // several dead_times on the new port alone
    expect(deaths()).toEqual([]);
    expect(starts()).toEqual(before);
    const st = await c.client(["--command=cm_stat"], "r3");
    expect(st.out).toMatch(/Cluster status: HEALTHY/);
    for (const n of names) expect(c.log(n)).toContain(`Heartbeats now on UDP 127.0.0.${50 + Number(n[1])}:${c.port + 1}`);
  });

  test("keep_alive_interval changed, SIGHUP node by node 300 ms apart: no death, no move, new period in effect", async () => {
    const before = starts();
    text = text.replace("keep_alive_interval = 50ms", "keep_alive_interval = 150ms").replace("dead_time = 800ms", "dead_time = 1200ms");
    writeFileSync(c.configFile, text);
    for (const n of names) {
      c.signal(n, "SIGHUP");
      await Bun.sleep(300);
    }
    for (const n of names) expect(await waitFor(() => (c.log(n).match(/Reloaded /g) ?? []).length >= 2, 5000)).toBeGreaterThanOrEqual(0);
    await Bun.sleep(2500);
    expect(deaths()).toEqual([]);
    expect(starts()).toEqual(before);
    const st = await c.client(["--command=cm_stat"], "r2");
    expect(st.out).toMatch(/Cluster status: HEALTHY/);
  });

  test("a restart-only key (log_dir) is refused whole, naming the key and its line, and nothing else of the file applies", async () => {
    const next = text.replace(/log_dir = .*/, `log_dir = ${c.dir}/elsewhere`).replace("failback_delay = 2s", "failback_delay = 9s");
    writeFileSync(c.configFile, next);
    const r = await c.client(["--command=reload"], "r1");
    expect(r.code).not.toBe(0);
    const line = next.split("\n").findIndex((l) => l.startsWith("log_dir")) + 1;
    expect(r.out).toContain(`restart needed to change log_dir (${c.configFile}:${line}`);
    expect(c.log("r1")).toMatch(/Reload refused .*restart needed/);
    writeFileSync(c.configFile, text);
  });
});
