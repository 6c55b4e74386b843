// Issue 15: heartbeat links over IPv6, mixed with IPv4. Three nodes; keep_alive_ip = the node's
// IPv6 address (link 1) and its IPv4 address (link 2), both on eth0 inside the bed. Dropping IPv6 on
// n1 (ip6tables) takes link 1 down: reported, nothing moves; then n1's host dies: failover as with
// one link.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Bed, bedUnavailable, waitFor } from "./bed.ts";
import { nowMs } from "./probe.ts";

const why = bedUnavailable() ?? (Bun.which("ip6tables") === null ? "ip6tables is missing" : null);
if (why) console.log(`skipping netns IPv6 heartbeat-link scenarios: ${why}`);

const DEAD_TIME = 800;
const INTERVAL = 50;
const say = (s: string) => console.log(`  ${s}`);

describe.skipIf(why !== null)("netns: heartbeat links over IPv6 and IPv4 (3 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 3, ipv6: true, keepAliveIps: (n, b) => `${b.ip6(n)}, ${b.ip(n)}`, server: ["failback_delay = 2s"] });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("ipv6 links: the cluster settles with link 1 on IPv6 and link 2 on IPv4, every link up", async () => {
    const s = await bed.settle({ holder: "n1" }, 15000);
    if (s.problems.length) console.log(s.problems.join("\n"), bed.dumpLogs());
    expect(s.problems).toEqual([]);
    const r = await bed.client("n2", "cm_stat");
    expect(r.out).toMatch(new RegExp(`n1\\s+link 1\\s+${bed.ip6("n1").replaceAll(":", "\\:")}\\s+up`));
    expect(r.out).toMatch(/n1\s+link 2\s+10\.213\.0\.11\s+up/);
    expect(r.out).not.toContain("Rejected packets");
  }, 30000);

  test("ipv6 links: IPv6 dropped on n1 takes link 1 down on both peers and moves nothing", async () => {
    const from2 = bed.logSize("n2");
    const t0 = nowMs();
    bed.ip6t("n1", ["-A", "INPUT", "-p", "udp", "--dport", "53897", "-j", "DROP"]);
    bed.ip6t("n1", ["-A", "OUTPUT", "-p", "udp", "--dport", "53897", "-j", "DROP"]);
    const seen = await bed.waitLog("n2", /Heartbeat link 1 to n1 \(fd00:213::11\) is down/, from2, 5000);
    await Bun.sleep(1500);
    say(`IPv6 heartbeats of n1 dropped: link_down on n2 after ${Math.round(seen - t0)} ms`);
    expect(seen).toBeGreaterThan(0);
    expect(bed.vipHolders()).toEqual(["n1"]);
    expect(bed.logSince("n2", from2)).not.toMatch(/Node n1 is dead/);
    bed.ip6t("n1", ["-F", "INPUT"]);
    bed.ip6t("n1", ["-F", "OUTPUT"]);
    const up = await bed.waitLog("n2", /Heartbeat link 1 to n1 \(fd00:213::11\) is up again/, from2, 5000);
    expect(up).toBeGreaterThan(0);
  }, 30000);

  test("ipv6 links: host death of n1 fails over within dead_time + one interval", async () => {
    const from2 = bed.logSize("n2");
    const t0 = nowMs();
    await bed.kill9("n1");
    bed.linkDown("n1");
    const detected = await bed.waitLog("n2", /Node n1 is dead/, from2, 5000);
    const onN2 = await waitFor(() => bed.vipHolders().includes("n2"), 5000, 10);
    say(`host death over IPv6+IPv4 links: n1 dead on n2 after ${Math.round(detected - t0)} ms, VIP on n2 after ${Math.round(nowMs() - t0)} ms`);
    expect(detected - t0).toBeLessThanOrEqual(DEAD_TIME + INTERVAL + 150);
    expect(onN2).toBeGreaterThanOrEqual(0);
  }, 30000);
});
