// The report deadline with real processes: three drcm daemons on 127.0.0.7x. A frozen daemon
// (SIGSTOP) accepts connections and never answers; cm_stat must still answer at the deadline
// (REPORT_DEADLINE_MS after it starts asking, plus process start-up), exit 0, and name the frozen
// node as "no answer", whether it is a peer or the local daemon (--node=that node).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { REPORT_DEADLINE_MS } from "../../lib/client/deadline.ts";
import { TestCluster, DRCM_BIN, waitFor } from "./harness.ts";

const haveBinary = existsSync(DRCM_BIN);
if (!haveBinary) console.log(`skipping deadline integration tests: no binary at ${DRCM_BIN} (npm run build)`);

describe.skipIf(!haveBinary)("report deadline with a frozen daemon", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = new TestCluster({
      nodes: [
        { name: "n1", ip: "127.0.0.71", lines: ["node_services = web"] },
        { name: "n2", ip: "127.0.0.72", lines: ["node_backup_services = n1:web"] },
        { name: "n3", ip: "127.0.0.73", lines: [] },
      ],
      // Long enough that a frozen node is still Up in the others' view while we ask.
      server: ["dead_time = 5s"],
      resources: ["[CM_SERVICES]", "web, httpd, AGENT"].join("\n"),
    });
    c.startAll();
    const ms = await waitFor(async () => {
      const r = await c.client(["--command=cm_stat"], "n1");
      return r.code === 0 && r.out.includes("Node status: All cluster nodes are UP") && r.out.includes("Cluster status: HEALTHY");
    }, 15000);
    if (ms < 0) console.log(c.log("n1"), c.log("n2"), c.log("n3"));
    expect(ms).toBeGreaterThanOrEqual(0);
  });
  afterAll(async () => {
    for (const n of ["n1", "n2", "n3"]) c?.signal(n, "SIGCONT");
    await c?.cleanup();
  });

  test("healthy: every node answers, no 'no answer' line", async () => {
    const r = await c.client(["--command=cm_stat"], "n1");
    console.log(`  cm_stat, all nodes answering: ${Math.round(r.ms)} ms`);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("No answer");
    expect(r.out).toContain("Answered by: n1");
  });

  test("a SIGSTOPped peer: cm_stat exits 0 in < 1000 ms and names it as no answer", async () => {
    c.signal("n2", "SIGSTOP");
    try {
      const r = await c.client(["--command=cm_stat"], "n1");
      console.log(`  cm_stat, peer n2 frozen: ${Math.round(r.ms)} ms (deadline ${REPORT_DEADLINE_MS} ms + start-up)`);
      expect(r.code).toBe(0);
      expect(r.ms).toBeLessThan(1000);
      expect(r.out).toContain(`No answer within ${REPORT_DEADLINE_MS} ms: n2`);
      expect(r.out).toContain("Answered by: n1");
      expect(r.out).not.toMatch(/n2\t\S+\tDown/);
      const h = await c.client(["--command=health"], "n1");
      console.log(`  health, peer n2 frozen: ${Math.round(h.ms)} ms`);
      expect(h.code).toBe(1);
      expect(h.ms).toBeLessThan(1000);
      expect(h.out).toContain(`n2 did not answer within ${REPORT_DEADLINE_MS} ms`);
    } finally {
      c.signal("n2", "SIGCONT");
    }
  });

  test("the local daemon SIGSTOPped: cm_stat exits 0 in < 1000 ms from a peer, local node as no answer", async () => {
    c.signal("n1", "SIGSTOP");
    try {
      const r = await c.client(["--command=cm_stat"], "n1");
      console.log(`  cm_stat, local daemon n1 frozen: ${Math.round(r.ms)} ms`);
      expect(r.code).toBe(0);
      expect(r.ms).toBeLessThan(1000);
      expect(r.out).toContain(`No answer within ${REPORT_DEADLINE_MS} ms: n1`);
      expect(r.out).toContain("status from n2");
      expect(r.out).toContain("Answered by: n2");
      expect(r.out).not.toMatch(/n1\t\S+\tDown/);
      const s = await c.client(["--command=status", "--json"], "n1");
      console.log(`  status --json, local daemon n1 frozen: ${Math.round(s.ms)} ms`);
      expect(s.code).toBe(0);
      expect(s.ms).toBeLessThan(1000);
      expect(s.out).toContain(`n1 did not answer within ${REPORT_DEADLINE_MS} ms`);
    } finally {
      c.signal("n1", "SIGCONT");
    }
  });
});
