// Issue 15, redundant heartbeat links on real namespaces: three nodes, each with two dedicated
// heartbeat networks (eth1 on br1, eth2 on br2; keep_alive_ip = both addresses) and eth0 for the
// floating IP and the client. Cutting one link of the primary moves nothing and is reported as
// link_down within dead_time; cutting the second one as well fails over within dead_time + one
// interval (the primary, cut from both peers, loses quorum and releases); healing fails back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Bed, bedUnavailable, VIP, waitFor } from "./bed.ts";
import { analyse, nowMs } from "./probe.ts";

const why = bedUnavailable();
if (why) console.log(`skipping netns heartbeat-link scenarios: ${why}`);

const DEAD_TIME = 800;
const INTERVAL = 50;
const FAILBACK = 2000;
// The agent's `ip addr` work and this test's 10 ms poll, as in cluster-failover.test.ts.
const AGENT_SLACK = 150;
// The bed's application (a bun responder) takes 200-500 ms to open its port before the VIP is started.
const APP_START_SLACK = 900;
const say = (s: string) => console.log(`  ${s}`);

describe.skipIf(why !== null)("netns: two heartbeat links (3 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 3, links: 2, server: [`failback_delay = ${FAILBACK}ms`] });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("links: the cluster settles on n1 over two links, and cm_stat lists every link up", async () => {
    const s = await bed.settle({ holder: "n1" }, 15000);
    if (s.problems.length) console.log(s.problems.join("\n"), bed.dumpLogs());
    expect(s.problems).toEqual([]);
    const r = await bed.client("n2", "cm_stat");
    expect(r.out).toContain("Heartbeat links (as n2 hears them):");
    expect(r.out).toMatch(/n1\s+link 1\s+10\.214\.0\.11\s+up/);
    expect(r.out).toMatch(/n1\s+link 2\s+10\.215\.0\.11\s+up/);
    expect(r.out).not.toContain("DOWN");
  }, 30000);

  test("links: cutting link 1 of n1 moves nothing, loses no client probe, and is reported as link_down within dead_time", async () => {
    const probe = bed.startProbe();
    await Bun.sleep(300);
    const from2 = bed.logSize("n2");
    const from3 = bed.logSize("n3");
    const t0 = nowMs();
    bed.linkDown("n1", "eth1");
    const seen2 = await bed.waitLog("n2", /Heartbeat link 1 to n1 \(10\.214\.0\.11\) is down/, from2, 5000);
    const seen3 = await bed.waitLog("n3", /Heartbeat link 1 to n1 \(10\.214\.0\.11\) is down/, from3, 5000);
    await Bun.sleep(2000);
    const rep = analyse(await probe.stop(), t0 - 300, nowMs());
    say(`link 1 of n1 cut: link_down on n2 after ${Math.round(seen2 - t0)} ms, on n3 after ${Math.round(seen3 - t0)} ms; client probes lost ${rep.lost} of ${rep.sent}, longest gap ${Math.round(rep.longestGapMs)} ms`);
    expect(seen2).toBeGreaterThan(0);
    expect(seen3).toBeGreaterThan(0);
    // Reported once the link was silent for dead_time: not before, and within dead_time + a tick + the log poll.
    expect(seen2 - t0).toBeLessThanOrEqual(DEAD_TIME + 2 * INTERVAL + 200);
    expect(rep.lost).toBe(0);
    expect(bed.vipHolders()).toEqual(["n1"]);
    expect(bed.logSince("n2", from2)).not.toMatch(/Node n1 is dead|Taking over|takeover/i);
    const r = await bed.client("n2", "cm_stat");
    expect(r.out).toMatch(/n1\s+link 1\s+10\.214\.0\.11\s+DOWN/);
    expect(r.out).toMatch(/n1\s+link 2\s+10\.215\.0\.11\s+up/);
    const st = await bed.status("n2");
    expect(typeof st).not.toBe("string");
    const links = (st as unknown as { links: { node: string; link: number; up: boolean }[] }).links;
    expect(links.find((l) => l.node === "n1" && l.link === 0)?.up).toBe(false);
    expect(links.find((l) => l.node === "n1" && l.link === 1)?.up).toBe(true);
    // The client reaches n1 over its live link 2.
    const onN1 = await bed.client("n2", "status -nn1");
    expect(onN1.code).toBe(0);
  }, 30000);

  test("links: cutting link 2 as well fails over within dead_time + one interval; healing fails back", async () => {
    const from2 = bed.logSize("n2");
    const t0 = nowMs();
    bed.linkDown("n1", "eth2");
    const detected = await bed.waitLog("n2", /Node n1 is dead/, from2, 5000);
    const takeover = await bed.waitLog("n2", /Starting \w+ \w+/, from2, 5000);
    let released = -1;
    const onN2 = await waitFor(() => {
      const h = bed.vipHolders();
      if (released < 0 && !h.includes("n1")) released = nowMs() - t0;
      return h.includes("n2");
    }, 5000, 10);
    const took = nowMs() - t0;
    const gone = await waitFor(() => !bed.vipHolders().includes("n1"), 5000, 10);
    if (released < 0) released = nowMs() - t0;
    say(`both links of n1 cut: n2 declared n1 dead after ${Math.round(detected - t0)} ms, VIP on n2 after ${Math.round(took)} ms, released by n1 (no quorum) after ${Math.round(released)} ms`);
    expect(detected).toBeGreaterThan(0);
    expect(detected - t0).toBeLessThanOrEqual(DEAD_TIME + INTERVAL + AGENT_SLACK);
    expect(onN2).toBeGreaterThanOrEqual(0);
    expect(gone).toBeGreaterThanOrEqual(0);
    // The takeover (n2 starting n1's resources) is due within dead_time + one interval; the VIP starts
    // last (after the application and the crontab, START_RANK), so its address appears one application
    // start later: a bun process spawn, 200-500 ms on this machine under load.
    say(`takeover started on n2 after ${Math.round(takeover - t0)} ms`);
    expect(takeover - t0).toBeLessThanOrEqual(DEAD_TIME + INTERVAL + AGENT_SLACK);
    expect(took).toBeLessThanOrEqual(DEAD_TIME + INTERVAL + APP_START_SLACK);
    expect(released).toBeLessThanOrEqual(DEAD_TIME + INTERVAL + AGENT_SLACK);
    // Heal: both links up, failback after failback_delay, one holder all along.
    const probe = bed.startProbe();
    const t1 = nowMs();
    bed.linkUp("n1", "eth1");
    bed.linkUp("n1", "eth2");
    const back = await waitFor(() => bed.vipHolders().join() === "n1", FAILBACK + 8000, 20);
    await Bun.sleep(500);
    const rep = analyse(await probe.stop(), t1, nowMs());
    say(`healed: VIP back on n1 after ${Math.round(nowMs() - t1)} ms (failback_delay ${FAILBACK} ms); client probes lost ${rep.lost} of ${rep.sent}`);
    expect(back).toBeGreaterThanOrEqual(0);
    expect(rep.lost).toBe(0);
    const s = await bed.settle({ holder: "n1" }, 15000);
    if (s.problems.length) console.log(s.problems.join("\n"), bed.dumpLogs());
    expect(s.problems).toEqual([]);
  }, 40000);
});
