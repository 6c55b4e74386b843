// Issue 6, scenarios 9-12: a failing application (restart in place, then max_failures hands it on),
// whole-cluster start/stop/rolling restart, a node with a different config, and forged and replayed
// heartbeats sent from the client namespace.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Bed, BUN, bedUnavailable, REPO, teeUnavailable, waitFor } from "./bed.ts";
import { makeCaller } from "../../lib/io/control-client.ts";

const why = bedUnavailable();
if (why) console.log(`skipping netns resource scenarios: ${why}`);
const say = (s: string) => console.log(`  ${s}`);

const pidOf = (bed: Bed, node: string): number | null => {
  const f = join(bed.dir, "app", `${node}.pid`);
  return existsSync(f) ? Number(readFileSync(f, "utf8").trim()) : null;
};

describe.skipIf(why !== null)("netns: application failure (2 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 2, server: ["failback_delay = 2s"] });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("scenario 9: application killed -> restarted in place; broken for good -> max_failures -> moved to n2", async () => {
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    const first = pidOf(bed, "n1")!;
    process.kill(first, "SIGKILL");
    const restarted = await waitFor(() => pidOf(bed, "n1") !== first && bed.appNodes().join() === "n1", 15000, 50);
    say(`application killed: running again on n1 after ${Math.round(restarted)} ms (applications_check 1 s)`);
    expect(restarted).toBeGreaterThanOrEqual(0);
    expect((await bed.settle({ holder: "n1" }, 10000)).problems).toEqual([]);

    writeFileSync(join(bed.dir, "app", "broken-n1"), "");
    process.kill(pidOf(bed, "n1")!, "SIGKILL");
    const moved = await waitFor(() => bed.appNodes().join() === "n2", 40000, 100);
    say(`application broken for good on n1: running on n2 after ${Math.round(moved)} ms`);
    if (moved < 0) console.log(bed.dumpLogs());
    expect(moved).toBeGreaterThanOrEqual(0);
    // The process is gone from n1 before n1's stop result and next heartbeat reach n2: wait for n2's view.
    let app: { failedOn: string[]; holders: { node: string }[] } | undefined;
    const agreed = await waitFor(async () => {
      const st = await bed.status("n2");
      if (typeof st === "string") return false;
      app = st.resources.find((r) => r.nickname === "app");
      return app !== undefined && app.holders.map((h) => h.node).join() === "n2";
    }, 3000, 100);
    expect(agreed).toBeGreaterThanOrEqual(0);
    expect(app!.failedOn).toContain("n1");
    // The floating IP is another resource: it stays on its healthy primary.
    const s = await bed.settle({ holder: "n1", skipApp: true }, 10000);
    expect(s.problems).toEqual([]);
    // Repaired, the operator clears the failure: the application comes back to its primary.
    rmSync(join(bed.dir, "app", "broken-n1"));
    const c = await bed.client("n1", "cleanup app");
    say(`cleanup app: exit ${c.code}: ${c.out.trim().split("\n")[0]}`);
    const back = await waitFor(() => bed.appNodes().join() === "n1", 20000, 100);
    say(`after cleanup: application back on n1 after ${Math.round(back)} ms`);
    expect(back).toBeGreaterThanOrEqual(0);
    expect((await bed.settle({ holder: "n1" }, 10000)).problems).toEqual([]);
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 120000);
});

describe.skipIf(why !== null)("netns: whole-cluster operations (3 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 3, server: ["failback_delay = 1s"] });
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("scenario 10: all started at once, stopped one by one, restarted in turn", async () => {
    const t0 = performance.now();
    bed.startAll();
    const s0 = await bed.settle({ holder: "n1" }, 15000);
    expect(s0.problems).toEqual([]);
    say(`3 nodes started at once: settled on n1 after ${Math.round(performance.now() - t0)} ms`);

    expect(await bed.stop("n1")).toBe(0);
    expect((await bed.settle({ holder: "n2" }, 10000)).problems).toEqual([]);
    expect(bed.leftovers(["n1"])).toEqual([]);
    expect(await bed.stop("n2")).toBe(0);
    // n3 alone is 1 of 3: no quorum, so it holds no floating IP or crontab (README, Partitions).
    const s2 = await bed.settle({ holder: null, skipApp: true }, 10000);
    expect(s2.problems).toEqual([]);
    expect(bed.leftovers(["n1", "n2"])).toEqual([]);
    expect(await bed.stop("n3")).toBe(0);
    expect(bed.leftovers()).toEqual([]);
    say("stopped one by one: n1 -> n2 took over, n2 -> nothing held (no quorum), n3 -> nothing left behind");

    bed.startAll();
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    for (const n of bed.names) {
      const t = performance.now();
      expect(await bed.stop(n)).toBe(0);
      // Stopped, the node leaves nothing behind while the others run on (and take over from n1).
      const left = await waitFor(() => bed.leftovers([n]).length === 0, 5000, 50);
      if (left < 0) console.log(bed.leftovers([n]), bed.dumpLogs());
      expect(bed.leftovers([n])).toEqual([]);
      bed.start(n);
      const s = await bed.settle({ holder: "n1" }, 15000);
      if (s.problems.length) console.log(s.problems, bed.dumpLogs());
      expect(s.problems).toEqual([]);
      say(`rolling restart of ${n}: settled after ${Math.round(performance.now() - t)} ms`);
    }
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 150000);
});

describe.skipIf(why !== null)("netns: a node with a different config (3 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 3 });
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  test("scenario 11: the odd config is flagged in every status, nothing is misplaced", async () => {
    const alt = bed.writeAltConfig(["max_failures = 5"]);
    bed.start("n1");
    bed.start("n2");
    bed.start("n3", { config: alt });
    const s = await bed.settle({ holder: "n1", configDiffers: ["n3"] }, 15000);
    if (s.problems.length) console.log(s.problems, bed.dumpLogs());
    expect(s.problems).toEqual([]);
    const st = await bed.status("n1");
    if (typeof st === "string") throw new Error(st);
    expect(st.nodes.filter((n) => n.configDiffers).map((n) => n.nodename)).toEqual(["n3"]);
    say("n3 runs max_failures = 5: flagged by n1 and n2 (and n3 flags both), resources stay on n1");
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 60000);
});

// Replays need real heartbeats, recorded with iptables TEE: without it the scenario cannot prove
// anything about replays, so it is skipped as a whole (said once) rather than half run.
const noTee = why === null ? teeUnavailable() : null;
if (noTee) console.log(`skipping netns scenario 12 (forged and replayed heartbeats): ${noTee}`);

describe.skipIf(why !== null || noTee !== null)("netns: forged and replayed heartbeats (2 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 2 });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  const rejected = async (node: string): Promise<Record<string, number>> => {
    const r = await makeCaller(null, "netns-test").call({ nodename: node, host: "", port: 0, unixPath: join(bed.dir, "run", `drcm-${node}.sock`) }, "ping", []);
    if (!r.ok) throw new Error(`ping ${node}: ${r.error}`);
    return (r.reply as { info: { rejected: Record<string, number> } }).info.rejected;
  };
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

  test("scenario 12: forged and replayed heartbeats from the client namespace are rejected, counted, and nothing moves", async () => {
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    const forge = join(REPO, "test/netns/forge.ts");
    const rec = join(bed.dir, "probe", "recorded.hex");
    // Record real heartbeats of n2 to n1: n2's kernel copies them to the client (iptables TEE),
    // where they are redirected to the recorder's port (Bed.recordHeartbeats).
    const recorded = (await bed.recordHeartbeats("n2", "n1", 20, rec)).length;
    say(`recorded ${recorded} real heartbeats of n2`);

    const before = await rejected("n1");
    const from = bed.names.map((n) => bed.logSize(n));
    // 1. Replays from the client's own address, plus forgeries (no key) and garbage.
    const send1 = bed.clientExec([BUN, forge, "send", `--target=${bed.ip("n1")}`, "--port=53897", `--replay=${rec}`, "--forge=n2"]);
    // 2. The same replays with n2's address as source (the client borrows it for a moment; it must not
    //    answer ARP for it, or n1 would send n2's heartbeats to the client).
    const sysctl = (k: string, v: string) => bed.clientExec(["sysctl", "-q", "-w", `net.ipv4.conf.${k}=${v}`]);
    sysctl("all.arp_ignore", "8");
    sysctl("all.arp_announce", "2");
    bed.clientExec(["ip", "addr", "add", `${bed.ip("n2")}/32`, "dev", "eth0", "noprefixroute"]);
    const send2 = bed.clientExec([BUN, forge, "send", `--target=${bed.ip("n1")}`, "--port=53897", `--replay=${rec}`, `--bind=${bed.ip("n2")}`, "--forge=n2"]);
    bed.clientExec(["ip", "addr", "del", `${bed.ip("n2")}/32`, "dev", "eth0"]);
    say(`attacker: ${send1.out.trim()} from its own address, ${send2.out.trim()} replays from n2's address`);
    expect(send1.code).toBe(0);
    expect(send2.code).toBe(0);
    // Every recorded heartbeat and forgery was sent from n2's address (the bind to the borrowed address worked).
    expect(send2.out.trim()).toBe(`sent ${recorded + 23}`);
    await Bun.sleep(1500);
    const after = await rejected("n1");
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));
    say(`n1 rejected: ${JSON.stringify(delta)}`);
    expect(sum(after) - sum(before)).toBeGreaterThanOrEqual(2 * 23 + 2 * recorded - 1);
    // From the attacker's own address everything is refused before the MAC; from n2's, forgeries fail the MAC.
    expect(delta.bad_source ?? 0).toBeGreaterThanOrEqual(recorded + 23);
    expect(delta.bad_mac ?? 0).toBeGreaterThanOrEqual(20);
    expect((delta.replay ?? 0) + (delta.stale_incarnation ?? 0)).toBeGreaterThanOrEqual(recorded);
    // Nothing moved: n1 keeps everything, nobody saw a death, a takeover or a duplicate.
    expect((await bed.settle({ holder: "n1" }, 5000)).problems).toEqual([]);
    const logs = bed.names.map((n, i) => bed.logSince(n, from[i]!)).join("\n");
    expect(logs).not.toMatch(/is dead|taking over|held by .* and by|Released/);
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 60000);
});
