// Issue 6, scenarios 6-8: iptables partitions with quorum, the ping_targets tie-breaker with two
// nodes, and 30% packet loss on every link (2 minutes here; the issue says "several minutes", the
// bench can run longer) with default timings: no failover at all.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Bed, bedUnavailable, GATEWAY, VIP, waitFor } from "./bed.ts";
import { analyse, formatTimeline, nowMs } from "./probe.ts";

const why = bedUnavailable();
if (why) console.log(`skipping netns partition scenarios: ${why}`);
const say = (s: string) => console.log(`  ${s}`);
const LOSS_MINUTES = Number(process.env.DRCM_LOSS_MINUTES ?? 2);

describe.skipIf(why !== null)("netns: partitions with quorum (3 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 3, server: ["failback_delay = 2s"] });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("scenario 6: n1 cut off with the client: the majority takes over, the minority releases; heal: one holder, client answered within a second", async () => {
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    const probe = bed.startProbe();
    await Bun.sleep(300);
    const t0 = nowMs();
    // The client stays with n1 (the minority): during the cut it can reach no holder, so after the
    // heal it depends on the final holder's gratuitous ARP, the case that left keepalived's clients
    // on a stale ARP entry for 45-50 s.
    bed.partition([["n1", "client"], ["n2", "n3", "gw"]]);
    const moved = await waitFor(() => bed.vipHolders().join() === "n2" && bed.cronHolders().join() === "n2", 10000, 10);
    say(`partition: VIP and crontab only on n2 (n1 released them) after ${Math.round(moved)} ms`);
    if (moved < 0) console.log(bed.dumpLogs());
    expect(moved).toBeGreaterThanOrEqual(0);
    const st = await bed.status("n2");
    expect(typeof st === "string" ? st : st.quorum.has).toBe(true);
    const st1 = await bed.status("n1");
    expect(typeof st1 === "string" ? st1 : st1.quorum.has).toBe(false);
    await Bun.sleep(1000);
    const healAt = nowMs();
    bed.heal();
    const back = await waitFor(() => bed.vipHolders().length === 1 && bed.tcpAsk(VIP) !== null, 5000, 20);
    expect(back).toBeGreaterThanOrEqual(0);
    const s = await bed.settle({ holder: "n1" }, 15000);
    if (s.problems.length) console.log(s.problems, bed.dumpLogs());
    expect(s.problems).toEqual([]);
    const log = await probe.stop();
    const firstAfterHeal = log.answers.find((a) => a.at >= healAt);
    const rep = analyse(log, healAt, nowMs());
    const reached = firstAfterHeal ? firstAfterHeal.at - healAt : Number.POSITIVE_INFINITY;
    say(`heal: client answered by ${firstAfterHeal?.node} ${Math.round(reached)} ms after the heal; afterwards longest gap ${Math.round(rep.longestGapMs)} ms`);
    say(`timeline: ${formatTimeline(analyse(log, t0, nowMs()).timeline, t0)}`);
    expect(reached).toBeLessThanOrEqual(1000);
  }, 60000);

  test("scenario 6b: the minority holding backup resources releases them", async () => {
    // n1 stops: n2 holds everything as backup; then n2 is cut off from n3 and n1 returns on n3's side.
    expect(await bed.stop("n1")).toBe(0);
    expect((await bed.settle({ holder: "n2" }, 10000)).problems).toEqual([]);
    expect(bed.leftovers(["n1"])).toEqual([]);
    bed.partition([["n2"], ["n1", "n3", "client", "gw"]]);
    bed.start("n1");
    const moved = await waitFor(() => !bed.vipHolders().includes("n2") && !bed.cronHolders().includes("n2") && bed.vipHolders().length === 1, 15000, 20);
    say(`minority n2 released its backup VIP and crontab; now on ${bed.vipHolders().join()} after ${Math.round(moved)} ms`);
    expect(moved).toBeGreaterThanOrEqual(0);
    bed.heal();
    const s = await bed.settle({ holder: "n1" }, 15000);
    if (s.problems.length) console.log(s.problems, bed.dumpLogs());
    expect(s.problems).toEqual([]);
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 60000);
});

describe.skipIf(why !== null)("netns: ping_targets tie-breaker (2 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 2, server: ["failback_delay = 2s", `ping_targets = ${GATEWAY}`] });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("scenario 7: the backup cut off from everything takes over nothing; the primary keeps the VIP", async () => {
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    bed.isolate("n2");
    // Long enough for n2 to declare n1 dead several times over and to see its ping fail.
    await Bun.sleep(5000);
    expect(bed.vipHolders()).toEqual(["n1"]);
    expect(bed.cronHolders()).toEqual(["n1"]);
    say("n2 cut off for 5 s: VIP and crontab stayed on n1 only");
    bed.heal();
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
  }, 60000);

  test("scenario 7b: the primary cut off: it drops the VIP and the backup that reaches the target takes it", async () => {
    const t0 = nowMs();
    bed.isolate("n1");
    const moved = await waitFor(() => bed.vipHolders().join() === "n2", 15000, 20);
    say(`n1 cut off: VIP only on n2 after ${Math.round(moved)} ms (ping every 1 s)`);
    if (moved < 0) console.log(bed.dumpLogs());
    expect(moved).toBeGreaterThanOrEqual(0);
    // Held steady: n1 does not take it back while cut off.
    await Bun.sleep(2000);
    expect(bed.vipHolders()).toEqual(["n2"]);
    bed.heal();
    const s = await bed.settle({ holder: "n1" }, 20000);
    if (s.problems.length) console.log(s.problems, bed.dumpLogs());
    expect(s.problems).toEqual([]);
    say(`healed: back on n1 ${Math.round(nowMs() - t0)} ms after the cut`);
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 60000);
});

describe.skipIf(why !== null)("netns: 30% packet loss with default timings (3 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 3 });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test(`scenario 8: 30% loss on every link for ${LOSS_MINUTES} min: no failover at all`, async () => {
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    const from = bed.names.map((n) => bed.logSize(n));
    const probe = bed.startProbe(50);
    bed.loss(0.3);
    const t0 = nowMs();
    const bad: string[] = [];
    for (let i = 0; i < LOSS_MINUTES * 120 && nowMs() - t0 < LOSS_MINUTES * 60000; i++) {
      const v = bed.vipHolders();
      if (v.join() !== "n1") bad.push(`${((nowMs() - t0) / 1000).toFixed(1)}s: VIP on [${v.join(", ")}]`);
      await Bun.sleep(500);
    }
    bed.clearLoss();
    const rep = analyse(await probe.stop(), t0, nowMs());
    const logs = bed.names.map((n, i) => bed.logSince(n, from[i]!));
    const events = logs.flatMap((l, i) => l.split("\n").filter((x) => /is dead|taking over|Quorum lost|Released|Starting ipaddr/.test(x)).map((x) => `${bed.names[i]}: ${x}`));
    say(`${LOSS_MINUTES} min at 30% loss: ${bad.length} bad samples, ${events.length} failover events; client ${rep.answered}/${rep.sent} answered (${((100 * rep.answered) / Math.max(1, rep.sent)).toFixed(0)}%), longest gap ${Math.round(rep.longestGapMs)} ms, holders: ${[...new Set(rep.timeline.map((t) => t.node))].join(", ")}`);
    if (events.length) console.log(events.slice(0, 20).join("\n"));
    expect(bad).toEqual([]);
    expect(events).toEqual([]);
    expect(new Set(rep.timeline.map((t) => t.node))).toEqual(new Set(["n1"]));
    expect((await bed.settle({ holder: "n1" }, 10000)).problems).toEqual([]);
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, (LOSS_MINUTES * 60 + 60) * 1000);
});
