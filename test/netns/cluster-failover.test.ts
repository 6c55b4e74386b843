// Issue 6, scenarios 1-5 on real namespaces: host death, daemon kill with the host alive, a stalled
// primary, a graceful stop, failback (and none with auto_failback = 0). Three nodes, n1 primary of the
// floating IP, the crontab and the application; n2, n3 backups. Defaults except failback_delay = 2s.
// Every scenario ends with the audits (bed.settle): one holder, where placement says, configs agree.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Bed, bedUnavailable, VIP, waitFor } from "./bed.ts";
import { analyse, formatTimeline, nowMs } from "./probe.ts";

const why = bedUnavailable();
if (why) console.log(`skipping netns failover scenarios: ${why}`);

const DEAD_TIME = 800;
const INTERVAL = 50;
// Scenario 2: after dead_time (+ one heartbeat period) the restarted node's view is settled; the
// slack covers the agent's `ip addr del` (a shell and an `ip` call, ~20-60 ms here) and this test's
// poll (three `ip` calls per round).
const AGENT_SLACK = 150;
const RESTART_BOUND = DEAD_TIME + INTERVAL + AGENT_SLACK;
const FAILBACK = 2000;
const say = (s: string) => console.log(`  ${s}`);

describe.skipIf(why !== null)("netns: failover of a real floating IP (3 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 3, server: [`failback_delay = ${FAILBACK}ms`] });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  const settledOnN1 = async () => {
    const s = await bed.settle({ holder: "n1" }, 15000);
    if (s.problems.length) console.log(s.problems.join("\n"), bed.dumpLogs());
    expect(s.problems).toEqual([]);
  };

  test("startup() places the VIP, the crontab and the application on n1 and the client reaches it", async () => {
    const t0 = performance.now();
    await settledOnN1();
    say(`all started: settled on n1 after ${Math.round(performance.now() - t0)} ms`);
    expect(bed.tcpAsk(VIP)).toBe("n1");
  }, 30000);

  test("scenario 1: SIGKILL + link down of n1 (host death): n2 takes over and the client follows", async () => {
    const probe = bed.startProbe();
    await Bun.sleep(300);
    const from = bed.logSize("n2");
    const t0 = nowMs();
    await bed.kill9("n1");
    bed.linkDown("n1");
    const detected = await bed.waitLog("n2", /Node n1 is dead/, from, 5000);
    const onN2 = await waitFor(() => bed.vipHolders().join() === "n2", 5000, 10);
    const took = nowMs() - t0;
    const answered = await waitFor(() => bed.tcpAsk(VIP) === "n2", 5000, 50);
    await Bun.sleep(500);
    const rep = analyse(await probe.stop(), t0 - 300, nowMs());
    say(`host death: detected by n2 after ${Math.round(detected - t0)} ms, VIP on n2 after ${Math.round(took)} ms, client outage ${Math.round(rep.longestGapMs)} ms (dead_time ${DEAD_TIME} ms)`);
    say(`timeline: ${formatTimeline(rep.timeline, t0)}`);
    expect(detected).toBeGreaterThan(0);
    expect(onN2).toBeGreaterThanOrEqual(0);
    expect(answered).toBeGreaterThanOrEqual(0);
    expect(rep.timeline.at(-1)?.node).toBe("n2");
    const s = await bed.settle({ holder: "n2" }, 10000);
    expect(s.problems).toEqual([]);
    // The host comes back (reboot: nothing of n1 survives) and takes its resources back.
    await bed.reboot("n1");
    bed.start("n1");
    await settledOnN1();
  }, 60000);

  test("scenario 2: SIGKILL of the daemon only, restarted 2 s later: clients keep reaching the VIP, one holder within dead_time of the restart", async () => {
    const probe = bed.startProbe();
    await Bun.sleep(300);
    const t0 = nowMs();
    await bed.kill9("n1");
    // The host is alive: n1's address and application stay; n2 takes over after dead_time.
    const took = await waitFor(() => bed.vipHolders().includes("n2"), 5000, 10);
    expect(took).toBeGreaterThanOrEqual(0);
    await Bun.sleep(Math.max(0, 2000 - (nowMs() - t0)));
    const before = bed.vipHolders();
    const from1 = bed.logSize("n1");
    const from2 = bed.logSize("n2");
    const spawned = nowMs();
    bed.start("n1");
    // The clock starts when the restarted daemon is up (its first log line), not at the spawn of
    // `ip netns exec` (Bun's start-up of the compiled binary is not drcm's to answer for). One loop
    // watches both, so the two instants come from the same poll (every ~5 ms plus the `ip` calls).
    let upAt = -1;
    let singleAt = -1;
    for (let i = 0; i < 2000 && nowMs() - spawned < 10000; i++) {
      if (upAt < 0 && /Starting drcm/.test(bed.logSince("n1", from1))) upAt = nowMs();
      if (upAt >= 0 && bed.vipHolders().length === 1) {
        singleAt = nowMs();
        break;
      }
      await Bun.sleep(5);
    }
    const single = singleAt - upAt;
    const events = (n: string, from: number) =>
      bed.logSince(n, from).split("\n").filter((l) => /Starting drcm|Heartbeats on|Control channel|vip|ipaddr|Node n[0-9]|take|Releas|held by/i.test(l)).slice(0, 12).map((l) => `${n}: ${l}`);
    say(`daemon kill: VIP also on n2 after ${Math.round(took)} ms; holders at restart [${before.join(", ")}]; n1 up ${Math.round(upAt - spawned)} ms after the spawn; one holder (${bed.vipHolders().join()}) ${Math.round(single)} ms after n1 was up (bound ${RESTART_BOUND} ms = dead_time ${DEAD_TIME} + interval ${INTERVAL} + ${AGENT_SLACK} for the agent's ip addr del and the poll)`);
    if (singleAt < 0 || single > RESTART_BOUND) console.log([...events("n1", from1), ...events("n2", from2)].join("\n"));
    expect(upAt).toBeGreaterThan(0);
    expect(singleAt).toBeGreaterThan(0);
    expect(single).toBeLessThanOrEqual(RESTART_BOUND);
    await settledOnN1();
    const rep = analyse(await probe.stop(), t0 - 300, nowMs());
    say(`client: longest gap ${Math.round(rep.longestGapMs)} ms, ${rep.lost} of ${rep.sent} probes lost; ${formatTimeline(rep.timeline, t0)}`);
    // "Clients keep reaching the floating IP": the host kept answering while its daemon was down, n2's
    // takeover and the failback are make-before-break, and the application behind the IP stays until the
    // IP has left (measured: 0 probes lost, longest gap ~20 ms; 500 ms leaves room for a loaded machine).
    expect(rep.longestGapMs).toBeLessThan(500);
  }, 60000);

  test("scenario 3: SIGSTOP of n1 beyond dead_time, then SIGCONT: takeover, clean return, no accusation of healthy peers", async () => {
    const probe = bed.startProbe();
    await Bun.sleep(300);
    const from1 = bed.logSize("n1");
    const t0 = nowMs();
    bed.pause("n1");
    const took = await waitFor(() => bed.vipHolders().includes("n2"), 5000, 10);
    expect(took).toBeGreaterThanOrEqual(0);
    await Bun.sleep(Math.max(0, 2.5 * DEAD_TIME - (nowMs() - t0)));
    const resumed = nowMs();
    bed.resume("n1");
    const single = await waitFor(() => bed.vipHolders().length === 1, 5000, 10);
    say(`SIGSTOP: n2 took over after ${Math.round(took)} ms; after SIGCONT one holder (${bed.vipHolders().join()}) within ${Math.round(single)} ms`);
    expect(single).toBeGreaterThanOrEqual(0);
    await settledOnN1();
    const rep = analyse(await probe.stop(), t0 - 300, nowMs());
    say(`client: longest gap ${Math.round(rep.longestGapMs)} ms; ${formatTimeline(rep.timeline, t0)}`);
    const after = bed.logSince("n1", from1);
    // The resumed node must not declare its healthy peers dead (it was the one that stalled).
    expect(after).not.toMatch(/Node n[23] is dead/);
    say(`n1 after resume: ${after.split("\n").filter((l) => /stall|dead|duplicate|Released/.test(l)).slice(0, 4).join(" | ")}`);
    expect(resumed).toBeGreaterThan(t0);
  }, 60000);

  test("scenario 4: SIGTERM of n1: immediate handover to n2, well before dead_time", async () => {
    const probe = bed.startProbe();
    await Bun.sleep(300);
    const from = bed.logSize("n2");
    const t0 = nowMs();
    const stopped = bed.stop("n1");
    const acted = await bed.waitLog("n2", /Node n1 is stopping/, from, 5000);
    const took = await waitFor(() => bed.vipHolders().join() === "n2", 5000, 5);
    const tookAt = nowMs() - t0;
    const code = await stopped;
    await Bun.sleep(300);
    const rep = analyse(await probe.stop(), t0 - 300, nowMs());
    say(`graceful stop: n2 acted after ${Math.round(acted - t0)} ms, VIP on n2 after ${Math.round(tookAt)} ms, client outage ${Math.round(rep.longestGapMs)} ms (the application starts on n2 before the IP); ${formatTimeline(rep.timeline, t0)}`);
    expect(code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(0);
    // Immediate: n2 learns it from n1's goodbye, it does not wait for dead_time.
    expect(acted).toBeGreaterThan(0);
    expect(acted - t0).toBeLessThan(DEAD_TIME);
    const s = await bed.settle({ holder: "n2" }, 10000);
    expect(s.problems).toEqual([]);
    // The stopped node released everything: no VIP, no crontab, no application, no process.
    expect(bed.leftovers(["n1"])).toEqual([]);
  }, 60000);

  test("scenario 5: restart of n1: failback after failback_delay", async () => {
    const probe = bed.startProbe();
    await Bun.sleep(300);
    const t0 = nowMs();
    bed.start("n1");
    const back = await waitFor(() => bed.vipHolders().join() === "n1", 15000, 10);
    await Bun.sleep(300);
    const rep = analyse(await probe.stop(), t0 - 300, nowMs());
    say(`failback: VIP back on n1 ${Math.round(back)} ms after its start (failback_delay ${FAILBACK} ms); client: ${rep.lost} probes lost, longest gap ${Math.round(rep.longestGapMs)} ms; ${formatTimeline(rep.timeline, t0)}`);
    expect(back).toBeGreaterThanOrEqual(FAILBACK);
    // Failback 0 ms: n2 lets go only once n1 holds the address, so no probe in the whole window
    // (start of n1, failback, 300 ms after) goes unanswered. Lost probes, not the longest gap: on a
    // busy machine the prober's own spacing stretches to 15-25 ms.
    expect(rep.lost).toBe(0);
    await settledOnN1();
  }, 60000);

  test("stopAll() leaves nothing behind: no VIP, no crontab, no application, no process", async () => {
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 60000);
});

describe.skipIf(why !== null)("netns: auto_failback = 0 (2 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 2, server: ["failback_delay = 1s", "auto_failback = 0"] });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("scenario 5b: with auto_failback = 0 the returning primary takes nothing back", async () => {
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    expect(await bed.stop("n1")).toBe(0);
    expect((await bed.settle({ holder: "n2" }, 10000)).problems).toEqual([]);
    expect(bed.leftovers(["n1"])).toEqual([]);
    bed.start("n1");
    // Well past failback_delay: still on n2, and both agree that is where it belongs.
    await Bun.sleep(4000);
    const s = await bed.settle({ holder: "n2" }, 5000);
    if (s.problems.length) console.log(bed.dumpLogs());
    expect(s.problems).toEqual([]);
    expect(bed.vipHolders()).toEqual(["n2"]);
    say("auto_failback = 0: VIP stays on n2 4 s after n1 returned (failback_delay 1 s)");
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 60000);
});
