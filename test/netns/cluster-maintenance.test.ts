// Issue 14's proof of maintenance mode on real namespaces: with maintenance on, every daemon is
// restarted one after another (a rolling upgrade); a client probing the floating IP every 10 ms loses
// no probe, and no agent is called with start or stop, neither during the restarts nor after
// maintenance is turned off again.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Bed, bedUnavailable, VIP, waitFor } from "./bed.ts";
import { analyse, formatTimeline, nowMs } from "./probe.ts";

const why = bedUnavailable();
if (why) console.log(`skipping netns maintenance scenario: ${why}`);
const say = (s: string) => console.log(`  ${s}`);
/** Every start or stop of a resource the daemons logged (the agent calls), after the given log offsets. */
const AGENT_CALL = /(Starting|Stopping) (ipaddr|crontab|application|service|filesystem) /;

describe.skipIf(why !== null)("netns: maintenance mode and a rolling restart (3 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 3, server: ["failback_delay = 2s"] });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  const agentCalls = (from: Record<string, number>) =>
    bed.names.flatMap((n) => bed.logSince(n, from[n]!).split("\n").filter((l) => AGENT_CALL.test(l)).map((l) => `${n}: ${l}`));

  test("maintenance on, restart every daemon, maintenance off: 0 lost probes, 0 agent start/stop calls", async () => {
    const s = await bed.settle({ holder: "n1" }, 15000);
    if (s.problems.length) console.log(s.problems.join("\n"), bed.dumpLogs());
    expect(s.problems).toEqual([]);
    expect(bed.tcpAsk(VIP)).toBe("n1");

    const from = Object.fromEntries(bed.names.map((n) => [n, bed.logSize(n)]));
    const probe = bed.startProbe();
    await Bun.sleep(300);
    const t0 = nowMs();
    const on = await bed.client("n2", "maintenance on");
    expect(on.code).toBe(0);
    for (const n of bed.names) expect(await bed.waitLog(n, /maintenance mode ON/, from[n]!, 3000)).toBeGreaterThan(0);
    const st = await bed.client("n3", "cm_stat");
    expect(st.out).toContain("*** MAINTENANCE MODE cluster-wide");
    expect(st.out).toContain("Cluster status: MAINTENANCE");

    for (const n of bed.names) {
      expect(await bed.stop(n)).toBe(0);
      await Bun.sleep(500); // the "upgrade"
      const at = bed.logSize(n);
      bed.start(n);
      expect(await bed.waitLog(n, /is ready/, at, 5000)).toBeGreaterThan(0);
      await Bun.sleep(1200); // longer than dead_time with the new daemon up
    }
    expect(bed.vipHolders()).toEqual(["n1"]);
    expect(agentCalls(from)).toEqual([]);

    const off = await bed.client("n3", "maintenance off");
    expect(off.code).toBe(0);
    await Bun.sleep(3500); // past failback_delay: nothing is where it does not belong, so nothing moves
    const rep = analyse(await probe.stop(), t0 - 300, nowMs());
    say(`rolling restart in maintenance: ${rep.lost} of ${rep.sent} probes lost, longest gap ${Math.round(rep.longestGapMs)} ms; ${formatTimeline(rep.timeline, t0)}`);
    expect(rep.lost).toBe(0);
    expect(rep.timeline.map((x) => x.node)).toEqual(["n1"]);
    expect(agentCalls(from)).toEqual([]);
    expect(bed.vipHolders()).toEqual(["n1"]);
    const after = await bed.client("n1", "health");
    expect(after.out).not.toContain("maintenance");
  }, 90000);

  test("after maintenance, placement is live again: host death of n1 still fails over", async () => {
    await bed.kill9("n1");
    bed.linkDown("n1");
    expect(await waitFor(() => bed.vipHolders().join() === "n2", 5000, 20)).toBeGreaterThanOrEqual(0);
  }, 30000);
});
