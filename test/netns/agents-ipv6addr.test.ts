// ipv6addr.sh for real, as root, in network namespaces this test creates: two holders and an
// observer on a bridge inside its own namespace (private ULA subnet, never linked to the host).
// Proves: start puts the address on the right interface (`a|b` alternatives, `:label` dropped)
// with nodad and not tentative; the unsolicited neighbour advertisements make the observer's
// existing neighbour entry switch to the new holder's MAC while the observer sends no
// solicitation or echo; ping6 reaches the address; watch notices a removed or dadfailed address
// and changes nothing; stop is idempotent; bad arguments exit 2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runShell } from "../../lib/io/runner.ts";

const script = join(import.meta.dir, "../../resources/ipv6addr.sh");
const tools = ["ip", "ping", "sysctl"].filter((t) => Bun.which(t) === null);
const canRun = process.getuid?.() === 0 && tools.length === 0;
if (!canRun) console.log(`agents-ipv6addr.test.ts: needs root and ${tools.join(", ") || "ip, ping, sysctl"}; skipping the namespace tests`);

// The NA senders the agent can use here: each one found gets its own failover test.
const sendUa = [process.env.NA_SEND_UA ?? "", "/usr/libexec/heartbeat/send_ua", "/usr/lib/heartbeat/send_ua"].find((p) => p !== "" && existsSync(p));
const naTools: string[] = [...(sendUa !== undefined ? ["send_ua"] : []), ...(Bun.which("python3") !== null || existsSync("/usr/libexec/platform-python") ? ["python3"] : [])];
if (canRun && naTools.length === 0) console.log("agents-ipv6addr.test.ts: neither send_ua nor python3: skipping the neighbour advertisement tests");

const tag = `e${process.pid % 100000}`;
const ns = { br: `${tag}br`, h1: `${tag}h1`, h2: `${tag}h2`, obs: `${tag}ob` };
const net = `fd00:213:${((process.pid % 65534) + 1).toString(16)}:`;
const vip = `${net}:100`;
// The same address written out in full: the agent must treat it as the same address.
const vipLong = `fd00:0213:${((process.pid % 65534) + 1).toString(16).padStart(4, "0")}:0000:0000:0000:0000:0100`;
const hostIp = { h1: `${net}:11`, h2: `${net}:12`, obs: `${net}:2` };

function sh(cmd: string): { code: number; out: string } {
  const r = Bun.spawnSync(["/bin/sh", "-c", cmd], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}
function must(cmd: string): string {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`Setup command failed: ${cmd}: ${r.out}`);
  return r.out;
}
const mac = (n: string): string => /link\/ether ([0-9a-f:]+)/.exec(must(`ip -n ${n} link show eth0`))![1]!;
const neighMac = (): string | null => /lladdr ([0-9a-f:]+)/.exec(sh(`ip -n ${ns.obs} -6 neigh show ${vip} dev eth0`).out)?.[1] ?? null;
const addrs = (n: string): string => must(`ip -n ${n} -o -6 addr show dev eth0`);
const vipLine = (n: string): string => addrs(n).split("\n").find((l) => l.includes(` ${vip}/`)) ?? "";
/** The observer's ICMPv6 counters (its own network namespace's /proc/net/snmp6). */
function snmp6(n: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of must(`ip netns exec ${n} cat /proc/net/snmp6`).split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k !== undefined && v !== undefined) out[k] = Number(v);
  }
  return out;
}
// The agent as drcm runs it: one string for /bin/sh -c, the interface field quoted as in cm.cfg.
const agent = (n: string, iface: string, verb: string, env: Record<string, string> = {}, ip = vip, plen = "64") =>
  runShell(`ip netns exec ${n} ${script} ${ip} ${plen} ${iface} ${verb}`, {
    timeoutMs: 10_000,
    env: { NA_COUNT: "3", NA_INTERVAL: "0.2", ...(sendUa !== undefined ? { NA_SEND_UA: sendUa } : {}), ...env },
  });

beforeAll(async () => {
  if (!canRun) return;
  for (const n of Object.values(ns)) {
    must(`ip netns add ${n}`);
    must(`ip netns exec ${n} sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0`);
  }
  must(`ip -n ${ns.br} link add br0 type bridge && ip -n ${ns.br} link set br0 up`);
  for (const [key, n] of [["h1", ns.h1], ["h2", ns.h2], ["obs", ns.obs]] as const) {
    must(`ip -n ${ns.br} link add p${key} type veth peer name eth0 netns ${n}`);
    must(`ip -n ${ns.br} link set p${key} master br0 up`);
    must(`ip netns exec ${n} sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_ra=0`);
    must(`ip -n ${n} link set lo up && ip -n ${n} link set eth0 up && ip -n ${n} -6 addr add ${hostIp[key]}/64 dev eth0 nodad`);
  }
  // Let the link-local addresses finish DAD first: its solicitations would count as the observer's.
  for (let i = 0; i < 50 && [ns.h1, ns.h2, ns.obs].some((n) => must(`ip -n ${n} -6 addr show tentative`).trim() !== ""); i++) await Bun.sleep(100);
});
afterAll(() => {
  for (const n of Object.values(ns)) sh(`ip netns del ${n}`);
});

describe("ipv6addr.sh in network namespaces", () => {
  test.skipIf(!canRun)("ipv6addr.sh start adds the address with nodad on the first existing interface, not tentative", async () => {
    const r = await agent(ns.h1, "'nosuch0|eth0:1'", "start");
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain("have no labels: using eth0");
    if (naTools.length > 0) expect(r.output).toContain("unsolicited neighbour advertisements");
    const line = vipLine(ns.h1);
    expect(line).toContain(`inet6 ${vip}/64 `);
    expect(line).toContain(" nodad");
    expect(line).not.toContain("tentative");
    expect(line).not.toContain("dadfailed");
    expect((await agent(ns.h1, "eth0", "watch")).exitCode).toBe(0);
    // A second start of a held address (written in full this time) succeeds and re-announces.
    const again = await agent(ns.h1, "eth0", "start", {}, vipLong);
    expect(again.exitCode).toBe(0);
    expect(again.output).toContain("already on eth0");
    expect(addrs(ns.h1).split("\n").filter((l) => l.includes(` ${vip}/`)).length).toBe(1);
  });

  test.skipIf(!canRun)("ipv6addr.sh start with NA_COUNT=0 announces nothing", async () => {
    const r = await agent(ns.h1, "eth0", "start", { NA_COUNT: "0" });
    expect(r.exitCode).toBe(0);
    expect(r.output).not.toContain("Announced");
  });

  // h1 -> h2 with the first tool, back to h1 with the next (when there are two), then h2 again.
  const holders = [ns.h1, ns.h2, ns.h1, ns.h2];
  naTools.forEach((tool, i) => {
    test.skipIf(!canRun)(`ipv6addr.sh unsolicited NAs (${tool}) move the observer's neighbour entry to the new holder without the observer asking`, async () => {
      const from = holders[i]!;
      const to = holders[i + 1]!;
      // The observer needs an entry for the VIP: Linux updates an existing entry from an
      // unsolicited NA with the override flag, and creates none from it.
      expect(sh(`ip netns exec ${ns.obs} ping -6 -c 1 -W 2 ${vip}`).code).toBe(0);
      expect(neighMac()).toBe(mac(from));
      const stop = await agent(from, "eth0", "stop");
      expect(stop.exitCode).toBe(0);
      expect(addrs(from)).not.toContain(` ${vip}/`);
      // IPv6 neighbour locktime is 0 by default (IPv4's is 1 s): an NA may change the entry at once.
      expect(must(`ip netns exec ${ns.obs} sysctl -n net.ipv6.neigh.eth0.locktime`).trim()).toBe("0");
      const before = snmp6(ns.obs);
      const start = await agent(to, "eth0", "start", { NA_TOOL: tool });
      expect(start.exitCode).toBe(0);
      expect(start.output).toContain(`via ${tool}`);
      let seen = neighMac();
      for (let i = 0; i < 40 && seen !== mac(to); i++) {
        await Bun.sleep(50);
        seen = neighMac();
      }
      expect(seen).toBe(mac(to));
      const after = snmp6(ns.obs);
      // The observer learnt the MAC from advertisements it received, not by soliciting or pinging.
      expect(after.Icmp6OutNeighborSolicits).toBe(before.Icmp6OutNeighborSolicits!);
      expect(after.Icmp6OutEchos).toBe(before.Icmp6OutEchos!);
      expect(after.Icmp6InNeighborAdvertisements!).toBeGreaterThan(before.Icmp6InNeighborAdvertisements!);
      // The background repeats arrive too (NA_COUNT=3, 0.2 s apart, plus each sender's start-up time).
      const want = before.Icmp6InNeighborAdvertisements! + 3;
      let got = snmp6(ns.obs).Icmp6InNeighborAdvertisements!;
      for (let i = 0; i < 60 && got < want; i++) {
        await Bun.sleep(50);
        got = snmp6(ns.obs).Icmp6InNeighborAdvertisements!;
      }
      expect(got).toBeGreaterThanOrEqual(want);
      expect(sh(`ip netns exec ${ns.obs} ping -6 -c 1 -W 2 ${vip}`).code).toBe(0);
      expect(neighMac()).toBe(mac(to));
      // Leave h2 holding the address for the tests below.
      if (to !== ns.h2) {
        expect((await agent(to, "eth0", "stop")).exitCode).toBe(0);
        expect((await agent(ns.h2, "eth0", "start")).exitCode).toBe(0);
      }
    });
  });

  test.skipIf(!canRun)("ipv6addr.sh ping6 from the observer reaches the address after start", async () => {
    if (!vipLine(ns.h2).includes(` ${vip}/`)) {
      expect((await agent(ns.h1, "eth0", "stop")).exitCode).toBe(0);
      expect((await agent(ns.h2, "eth0", "start")).exitCode).toBe(0);
    }
    expect(sh(`ip netns exec ${ns.obs} ping -6 -c 1 -W 2 ${vip}`).code).toBe(0);
    expect(neighMac()).toBe(mac(ns.h2));
  });

  test.skipIf(!canRun)("ipv6addr.sh watch notices a removed address and changes nothing", async () => {
    expect((await agent(ns.h2, "eth0", "watch")).exitCode).toBe(0);
    must(`ip -n ${ns.h2} -6 addr del ${vip}/64 dev eth0`);
    const w = await agent(ns.h2, "eth0", "watch");
    expect(w.exitCode).toBe(1);
    expect(w.output).toContain("is not on eth0");
    expect(addrs(ns.h2)).not.toContain(` ${vip}/`);
    expect((await agent(ns.h1, "eth0", "watch")).exitCode).toBe(1);
    expect(addrs(ns.h1)).not.toContain(` ${vip}/`);
  });

  test.skipIf(!canRun)("ipv6addr.sh watch fails on a dadfailed address and changes nothing", async () => {
    expect((await agent(ns.h2, "eth0", "start")).exitCode).toBe(0);
    // h1 adds the address the ordinary way, with DAD: h2 answers, so h1's copy becomes dadfailed.
    must(`ip -n ${ns.h1} -6 addr add ${vip}/64 dev eth0`);
    let line = vipLine(ns.h1);
    for (let i = 0; i < 60 && !line.includes("dadfailed"); i++) {
      await Bun.sleep(100);
      line = vipLine(ns.h1);
    }
    expect(line).toContain("dadfailed");
    const w = await agent(ns.h1, "eth0", "watch");
    expect(w.exitCode).toBe(1);
    expect(w.output).toContain("dadfailed");
    expect(vipLine(ns.h1)).toContain("dadfailed");
    expect((await agent(ns.h1, "eth0", "stop")).exitCode).toBe(0);
    expect(addrs(ns.h1)).not.toContain(` ${vip}/`);
    expect((await agent(ns.h2, "eth0", "watch")).exitCode).toBe(0);
  });

  test.skipIf(!canRun)("ipv6addr.sh start replaces a tentative copy of the address with a nodad one", async () => {
    expect((await agent(ns.h2, "eth0", "stop")).exitCode).toBe(0);
    // Nobody else has it now, but DAD keeps it tentative (unusable) for about a second.
    must(`ip -n ${ns.h1} -6 addr add ${vip}/64 dev eth0`);
    expect(vipLine(ns.h1)).toContain("tentative");
    const r = await agent(ns.h1, "eth0", "start");
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain("is tentative: adding it again with nodad");
    const line = vipLine(ns.h1);
    expect(line).toContain(" nodad");
    expect(line).not.toContain("tentative");
    expect((await agent(ns.h1, "eth0", "stop")).exitCode).toBe(0);
  });

  test.skipIf(!canRun)("ipv6addr.sh stop removes the address and is idempotent", async () => {
    expect((await agent(ns.h2, "eth0", "start")).exitCode).toBe(0);
    expect((await agent(ns.h2, "eth0", "stop")).exitCode).toBe(0);
    expect(addrs(ns.h2)).not.toContain(` ${vip}/`);
    const again = await agent(ns.h2, "eth0", "stop");
    expect(again.exitCode).toBe(0);
    expect(again.output).toContain("nothing to remove");
  });

  test.skipIf(!canRun)("ipv6addr.sh stop removes an address held with another prefix length", async () => {
    must(`ip -n ${ns.h2} -6 addr add ${vip}/120 dev eth0 nodad`);
    expect((await agent(ns.h2, "eth0", "stop")).exitCode).toBe(0);
    expect(addrs(ns.h2)).not.toContain(` ${vip}/`);
  });

  test.skipIf(!canRun)("ipv6addr.sh rejects bad arguments with exit 2 and a message", async () => {
    const cases: [string, string, string][] = [
      ["10.213.0.100", "64", "Not an IPv6 address"],
      ["garbage", "64", "Not an IPv6 address"],
      ["fd00::1::2", "64", "Not an IPv6 address"],
      [`${vip}/64`, "64", "not in the address"],
      ["fe80::1%eth0", "64", "zone"],
      [vip, "129", "Not a prefix length 1-128"],
      [vip, "0", "Not a prefix length 1-128"],
      [vip, "/64", "Not a prefix length 1-128"],
    ];
    for (const [ip, plen, msg] of cases) {
      const r = await agent(ns.h2, "eth0", "start", {}, `'${ip}'`, `'${plen}'`);
      expect(`${ip} ${plen}: ${r.exitCode}`).toBe(`${ip} ${plen}: 2`);
      expect(r.output).toContain(msg);
      expect(r.output).toContain("Usage:");
    }
    const verb = await agent(ns.h2, "eth0", "restart");
    expect(verb.exitCode).toBe(2);
    expect(verb.output).toContain('Unknown action "restart"');
    expect(addrs(ns.h2)).not.toContain(` ${vip}/`);
  });

  test.skipIf(!canRun)("ipv6addr.sh fails clearly when no listed interface exists", async () => {
    const r = await agent(ns.h2, "'nosuch0|nosuch1'", "start");
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain("No interface of");
  });
});
