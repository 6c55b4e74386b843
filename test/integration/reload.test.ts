// SIGHUP and the `reload` operator command re-read the config: a config with errors is refused and the
// running one stays; a good one takes effect without a restart. SIGUSR1/SIGUSR2 move the debug level.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
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
