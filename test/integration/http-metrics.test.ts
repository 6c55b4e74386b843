// Issue 17, items 1, 2 and 4: /metrics checked by the real `promtool check metrics` (Debian package
// prometheus), counters moved by a real failover, /status.json against its schema, and the HTTP side
// read-only and bounded.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { TestCluster, DRCM_BIN, waitFor } from "./harness.ts";
import { statusJsonSchema } from "../../lib/client/render-json.ts";

const haveBinary = existsSync(DRCM_BIN);
const promtool = Bun.which("promtool");
if (!haveBinary) console.log(`skipping HTTP metrics tests: no binary at ${DRCM_BIN} (npm run build)`);
const HTTP_PORT = 19000 + (process.pid % 500);

/** Every sample of `text` as "name{labels}" -> value. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

describe.skipIf(!haveBinary)("HTTP side of a running drcm", () => {
  let c: TestCluster;
  const url = (node: string, path: string) => `http://127.0.0.${node === "n1" ? 51 : 52}:${HTTP_PORT}${path}`;
  beforeAll(() => {
    c = new TestCluster({
      nodes: [
        { name: "n1", ip: "127.0.0.51", lines: ["node_floating_ip_addrs = vip"] },
        { name: "n2", ip: "127.0.0.52", lines: ["node_backup_floating_ip_addrs = n1:vip"] },
      ],
      server: [`http_port = ${HTTP_PORT}`],
      resources: ["[CM_IPADDRS]", "vip, 10.99.5.100, 24, eth0, AGENT"].join("\n"),
    });
    c.startAll();
  });
  afterAll(async () => {
    await c?.cleanup();
  });

  test("/metrics passes promtool check metrics and says who holds what", async () => {
    const placed = await waitFor(() => c.has("n1", "10.99.5.100"), 10000);
    if (placed < 0) console.log(c.log("n1"), c.log("n2"));
    expect(placed).toBeGreaterThanOrEqual(0);
    // Give n2 a second of n1's heartbeats for the interval histogram.
    await waitFor(async () => {
      const m = samples(await (await fetch(url("n2", "/metrics"))).text());
      return (m.get('drcm_heartbeat_receive_interval_seconds_count{node="n1"}') ?? 0) > 20;
    }, 5000);
    const r = await fetch(url("n2", "/metrics"));
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await r.text();
    if (promtool === null) console.log("  promtool not installed (Debian package prometheus): exposition checked by this test's own parser only");
    else {
      const p = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
      const said = `${p.stdout.toString()}${p.stderr.toString()}`.trim();
      if (p.exitCode !== 0 || said !== "") console.log(said);
      expect(p.exitCode).toBe(0);
      expect(said).toBe("");
    }
    const s = samples(text);
    expect(s.get('drcm_resource_holder{resource="ipaddr:vip",slot="ipaddr:vip@n1",node="n1"}')).toBe(1);
    expect(s.get('drcm_node_up{node="n1"}')).toBe(1);
    expect(s.get('drcm_node_self{node="n2"}')).toBe(1);
    expect(s.get('drcm_peer_link_up{node="n1",link="1"}')).toBe(1);
    expect([...s.keys()].some((k) => k.startsWith('drcm_build_info{version="'))).toBe(true);
    expect([...s.keys()].some((k) => k.startsWith('drcm_config_info{fingerprint="'))).toBe(true);
    // Heartbeats of n1 arrive about every keep_alive_interval (50 ms): most intervals are under 100 ms.
    const count = s.get('drcm_heartbeat_receive_interval_seconds_count{node="n1"}') ?? 0;
    const under100 = s.get('drcm_heartbeat_receive_interval_seconds_bucket{node="n1",le="0.1"}') ?? 0;
    expect(count).toBeGreaterThan(5);
    expect(under100 / count).toBeGreaterThan(0.9);
    const n1 = samples(await (await fetch(url("n1", "/metrics"))).text());
    expect(n1.get('drcm_script_runs_total{kind="ipaddr",action="start",result="ok"}')).toBe(1);
  }, 20000);

  test("a failover moves the right counters on the node that takes over", async () => {
    const before = samples(await (await fetch(url("n2", "/metrics"))).text());
    expect(before.get('drcm_failovers_total{resource="ipaddr:vip",cause="owner-down"}')).toBeUndefined();
    await c.kill("n1");
    expect(await waitFor(() => c.has("n2", "10.99.5.100"), 5000)).toBeGreaterThanOrEqual(0);
    let after = new Map<string, number>();
    await waitFor(async () => {
      after = samples(await (await fetch(url("n2", "/metrics"))).text());
      return after.get('drcm_resource_holder{resource="ipaddr:vip",slot="ipaddr:vip@n1",node="n2"}') === 1;
    }, 3000);
    expect(after.get('drcm_failovers_total{resource="ipaddr:vip",cause="owner-down"}')).toBe(1);
    expect(after.get('drcm_resource_holder{resource="ipaddr:vip",slot="ipaddr:vip@n1",node="n2"}')).toBe(1);
    expect(after.get('drcm_resource_holder{resource="ipaddr:vip",slot="ipaddr:vip@n1",node="n1"}')).toBeUndefined();
    expect(after.get('drcm_node_up{node="n1"}')).toBe(0);
    expect(after.get('drcm_node_state{node="n1",state="dead"}')).toBe(1);
    expect(after.get('drcm_script_runs_total{kind="ipaddr",action="start",result="ok"}')).toBe((before.get('drcm_script_runs_total{kind="ipaddr",action="start",result="ok"}') ?? 0) + 1);
    expect(after.get('drcm_events_total{type="node_dead"}')).toBe((before.get('drcm_events_total{type="node_dead"}') ?? 0) + 1);
    expect(after.get('drcm_events_total{type="takeover"}')).toBe(1);
    c.start("n1");
    expect(await waitFor(async () => (await fetch(url("n1", "/metrics")).catch(() => null))?.ok === true, 5000)).toBeGreaterThanOrEqual(0);
  }, 20000);

  test("/status.json is the status --json document and matches its schema", async () => {
    const r = await fetch(url("n2", "/status.json"));
    expect(r.headers.get("content-type")).toContain("application/json");
    const doc = statusJsonSchema.safeParse(await r.json());
    if (!doc.success) console.log(doc.error.issues.slice(0, 5));
    expect(doc.success).toBe(true);
    expect(doc.data!.answeredBy).toBe("n2");
    const cli = await c.client(["--command=status", "--json"], "n2");
    expect(cli.code).toBe(0);
    const fromCli = JSON.parse(cli.out) as { schema: string; resources: { slot: string }[] };
    expect(fromCli.schema).toBe(doc.data!.schema);
    expect(fromCli.resources.map((x) => x.slot)).toEqual(doc.data!.resources.map((x) => x.slot));
  });

  test("the HTTP side is read-only: other methods 405, unknown paths 404, nothing reaches the control commands", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const r = await fetch(url("n2", "/status.json"), { method, body: "{}" });
      expect(`${method} ${r.status}`).toBe(`${method} 405`);
      expect(r.headers.get("allow")).toBe("GET, HEAD");
    }
    for (const path of ["/command", "/standby", "/../../etc/passwd", "/metrics/x"]) expect((await fetch(url("n2", path))).status).toBe(404);
    const huge = await fetch(url("n2", `/metrics?${"x".repeat(5000)}`));
    expect(huge.status).toBe(414);
    const cm = await c.client(["--command=cm_stat"], "n2");
    expect(cm.out).not.toMatch(/standby/i);
  });

  test("not listening on every address unless asked: only the node's keep_alive_ip answers", async () => {
    const other = await fetch(`http://127.0.0.1:${HTTP_PORT}/metrics`).then(
      (r) => r.status,
      () => "refused",
    );
    expect(other).toBe("refused");
  });
});
