// Issue 18, findings 1 and 2: packets recorded on the wire and replayed to a node that has just
// started. Before the ack handshake (lib/wire/guard.ts) a fresh guard accepted any first packet:
//   A. a recorded `standby n1` (n2 forwards it to n1 as a command packet), replayed as n1 boots,
//      put n1 in standby, and the standby was persisted;
//   B. a dead primary's recorded heartbeats, replayed to a backup as it boots, kept the primary
//      "alive": the backup waited for it instead of taking over.
// The attacker sits in the client namespace, records with iptables TEE and replays from the
// sender's own address (borrowed for a moment, as in scenario 12).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";

import { join } from "node:path";
import { Bed, BUN, bedUnavailable, REPO, teeUnavailable, waitFor } from "./bed.ts";
import { makeCaller } from "../../lib/io/control-client.ts";

const why = bedUnavailable();
const noTee = why === null ? teeUnavailable() : null;
if (why ?? noTee) console.log(`skipping netns replay-after-restart scenarios: ${why ?? noTee}`);
const say = (s: string) => console.log(`  ${s}`);
const FORGE = join(REPO, "test/netns/forge.ts");

describe.skipIf(why !== null || noTee !== null)("netns: replay after restart (2 nodes)", () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await Bed.create({ nodes: 2 });
    bed.startAll();
  });
  afterAll(async () => {
    await bed?.destroy();
  });

  /** Replays `file` to `to`'s heartbeat port from `as`'s address, `gap` ms apart, in the background. */
  const replay = (as: string, to: string, file: string, gap: number): { done: Promise<string> } => {
    const sysctl = (k: string, v: string) => bed.clientExec(["sysctl", "-q", "-w", `net.ipv4.conf.${k}=${v}`]);
    sysctl("all.arp_ignore", "8");
    sysctl("all.arp_announce", "2");
    bed.clientExec(["ip", "addr", "add", `${bed.ip(as)}/32`, "dev", "eth0", "noprefixroute"]);
    const p = Bun.spawn(["ip", "netns", "exec", bed.clientNs, BUN, FORGE, "send", `--target=${bed.ip(to)}`, "--port=53897", `--replay=${file}`, `--bind=${bed.ip(as)}`, `--gap=${gap}`], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const done = (async () => {
      const out = await new Response(p.stdout).text();
      await p.exited;
      bed.clientExec(["ip", "addr", "del", `${bed.ip(as)}/32`, "dev", "eth0"]);
      return out.trim();
    })();
    return { done };
  };

  const rejected = async (node: string): Promise<Record<string, number>> => {
    const r = await makeCaller(null, "netns-test").call({ nodename: node, host: "", port: 0, unixPath: join(bed.dir, "run", `drcm-${node}.sock`) }, "ping", []);
    if (!r.ok) throw new Error(`ping ${node}: ${r.error}`);
    return (r.reply as { info: { rejected: Record<string, number> } }).info.rejected;
  };
  const stateOf = async (node: string, of: string): Promise<string> => {
    const st = await bed.status(node);
    if (typeof st === "string") return st;
    return (st as unknown as { nodes: { nodename: string; state: string }[] }).nodes.find((n) => n.nodename === of)?.state ?? "absent";
  };

  test("A: a recorded `standby n1` replayed to n1 as it boots is refused; n1 does not go to standby", async () => {
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    const file = join(bed.dir, "probe", "n2-to-n1.hex");
    const lines = await bed.recordHeartbeats("n2", "n1", 30, file, async () => {
      await Bun.sleep(200);
      const r = await bed.client("n2", "standby n1");
      expect(r.code).toBe(0);
    });
    const commands = lines.filter((l) => Buffer.from(l, "hex").toString("latin1").includes('"kind":"command"')).length;
    say(`recorded ${lines.length} packets of n2 to n1, ${commands} of them the forwarded standby command`);
    expect(commands).toBeGreaterThan(0);
    expect(await waitFor(async () => (await stateOf("n2", "n1")) === "standby", 5000, 50)).toBeGreaterThanOrEqual(0);
    expect((await bed.client("n2", "unstandby n1")).code).toBe(0);
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);

    // n1 restarts while n2 is frozen: the only packets "from n2" that reach the new n1 are the attacker's.
    await bed.stop("n1");
    bed.pause("n2");
    const from = bed.logSize("n1");
    bed.start("n1");
    await waitFor(() => bed.log("n1").length > from && bed.logSince("n1", from).includes("Heartbeats on UDP"), 5000, 20);
    const before = await rejected("n1");
    const sent = await replay("n2", "n1", file, 20).done;
    say(`attacker: ${sent} to the new n1 from n2's address`);
    expect(sent).toBe(`sent ${lines.length}`);
    await Bun.sleep(300);
    const after = await rejected("n1");
    const unverified = (after.unverified ?? 0) - (before.unverified ?? 0);
    say(`n1 refused ${unverified} replayed packets as unverified`);
    expect(unverified).toBe(lines.length);
    bed.resume("n2");
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    expect(await stateOf("n1", "n1")).not.toBe("standby");
    expect(await stateOf("n2", "n1")).not.toBe("standby");
    expect(bed.logSince("n1", from)).not.toMatch(/standby/i);
  }, 90000);

  test("B: a dead primary's recorded heartbeats replayed to a booting backup do not keep it alive; the backup takes over at once", async () => {
    expect((await bed.settle({ holder: "n1" }, 15000)).problems).toEqual([]);
    const file = join(bed.dir, "probe", "n1-to-n2.hex");
    // 60 heartbeats: 3 s of n1's stream at keep_alive_interval 50 ms.
    const lines = await bed.recordHeartbeats("n1", "n2", 60, file);
    say(`recorded ${lines.length} heartbeats of n1 to n2`);
    await bed.stop("n1");
    await bed.stop("n2");
    expect(bed.vipHolders()).toEqual([]);

    const from = bed.logSize("n2");
    const t0 = Date.now();
    bed.start("n2");
    await waitFor(() => bed.logSince("n2", from).includes("Heartbeats on UDP"), 5000, 20);
    const attack = replay("n1", "n2", file, 50);
    let replaying = true;
    void attack.done.then(() => (replaying = false));
    const took = await waitFor(() => bed.vipHolders().join() === "n2", 8000, 20);
    const vipWhileReplaying = replaying;
    const tookMs = Date.now() - t0;
    const sent = await attack.done;
    say(`attacker: ${sent} to the new n2 over 3 s from n1's address; n2 holds the VIP ${took < 0 ? "never" : `${tookMs} ms after its start`}${vipWhileReplaying ? ", while the replay still ran" : ""}`);
    expect(took).toBeGreaterThanOrEqual(0);
    // Believing the replays would have held the takeover back until they stopped, plus dead_time.
    expect(vipWhileReplaying).toBe(true);
    const log = bed.logSince("n2", from);
    expect(log).toMatch(/is ready \(initial wait .* not heard: n1\)/);
    expect(log).not.toMatch(/Node n1 is alive|Node n1 restarted/);
    const r = await rejected("n2");
    expect(r.unverified ?? 0).toBeGreaterThanOrEqual(lines.length - 2);
    // n1 comes back for real and fails back as usual.
    bed.start("n1");
    expect((await bed.settle({ holder: "n1" }, 20000)).problems).toEqual([]);
    await bed.stopAll();
    expect(bed.leftovers()).toEqual([]);
  }, 90000);
});
