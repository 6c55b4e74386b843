// Watching and recovery with real daemons: a failed watch restarts the resource in place; after
// max_failures consecutive failures the resource is handed to the next eligible node with the reason
// kept for status; the operator's cleanup clears the fail count and the primary takes it back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, DRCM_BIN, waitFor } from "./harness.ts";

const haveBinary = existsSync(DRCM_BIN);
if (!haveBinary) console.log(`skipping watch integration tests: no binary at ${DRCM_BIN} (npm run build)`);

describe.skipIf(!haveBinary)("resource watch, restart in place, max_failures", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = new TestCluster({
      server: ["max_failures = 3", "failback_delay = 1s"],
      nodes: [
        { name: "w1", ip: "127.0.0.51", lines: ["node_services = web", "services_check = 1"] },
        { name: "w2", ip: "127.0.0.52", lines: ["node_backup_services = w1:web", "services_check = 1"] },
      ],
      resources: ["[CM_SERVICES]", "web, httpd, AGENT"].join("\n"),
    });
    c.startAll();
    expect(await waitFor(() => c.has("w1", "httpd"), 10000)).toBeGreaterThanOrEqual(0);
  });
  afterAll(async () => {
    await c?.cleanup();
  });

  test("a watch that fails once restarts the resource in place", async () => {
    // Remove the state file behind drcm's back: the next watch fails and drcm starts it again.
    const before = c.journal("w1").filter((l) => / start /.test(l)).length;
    rmSync(join(c.dir, "agent", "w1", c.holds("w1").find((f) => f.includes("httpd"))!));
    expect(await waitFor(() => c.has("w1", "httpd"), 5000)).toBeGreaterThanOrEqual(0);
    expect(c.journal("w1").filter((l) => / start /.test(l)).length).toBe(before + 1);
    expect(c.has("w2", "httpd")).toBe(false);
  });

  test("broken for good: after max_failures it moves to the backup, and status says why", async () => {
    const t0 = performance.now();
    c.breakResource("w1", "httpd");
    const ms = await waitFor(() => c.has("w2", "httpd"), 15000, 50);
    expect(ms).toBeGreaterThanOrEqual(0);
    console.log(`  broken watch on w1 -> web on w2 after ${Math.round(performance.now() - t0)} ms (services_check 1 s, max_failures 3)`);
    expect(await waitFor(() => !c.has("w1", "httpd"), 5000)).toBeGreaterThanOrEqual(0);
    const js = await c.client(["--command=status --json"], "w2");
    expect(js.code).toBe(0);
    expect(js.out).toMatch(/failed/);
    expect(c.log("w1")).toMatch(/web/);
  });

  test("the failures are kept and shown from every node: cm_stat Failed Actions, status JSON, health", async () => {
    // Asked on w2, about what failed on w1: the history travels in w1's heartbeats.
    const st = await c.client(["--command=cm_stat"], "w2");
    expect(st.out).toContain("F a i l e d   A c t i o n s");
    expect(st.out).toMatch(/service:web@w1 on w1: watch failed \d+ times, last exit 1: fake-agent: \S+ is broken on w1 at /);
    expect(st.out).toContain("fake-agent: ");
    const js = JSON.parse((await c.client(["--command=status --json"], "w2")).out);
    const f = js.failures.find((x: { slot: string }) => x.slot === "service:web@w1");
    expect(f).toMatchObject({ node: "w1", action: "watch" });
    expect(f.count).toBeGreaterThanOrEqual(3);
    expect(f.output.join("\n")).toContain("is broken on w1");
    const h = await c.client(["--command=health"], "w2");
    expect(h.out).toMatch(/failed action: watch service:web@w1 on w1 exit 1/);
  });

  test("cleanup clears the fail count: the primary takes its service back", async () => {
    rmSync(join(c.dir, "agent", "w1"), { recursive: true, force: true });
    const r = await c.client(["--command=cleanup web"], "w1");
    expect(r.code).toBe(0);
    expect(await waitFor(() => c.has("w1", "httpd") && !c.has("w2", "httpd"), 10000)).toBeGreaterThanOrEqual(0);
    // cleanup also ends the history, on every node.
    expect(await waitFor(async () => !(await c.client(["--command=cm_stat"], "w2")).out.includes("F a i l e d   A c t i o n s"), 5000)).toBeGreaterThanOrEqual(0);
  });
});
