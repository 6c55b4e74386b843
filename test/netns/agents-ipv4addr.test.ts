// ipv4addr.sh for real, as root, in network namespaces this test creates: two holders and an
// observer on a bridge inside its own namespace (private subnet, never linked to the host).
// Proves: start puts the address on the right interface (label, `a|b` alternatives), the
// gratuitous ARP makes the observer's neighbour entry switch to the new holder's MAC, stop
// removes the address, watch notices a removed address.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runShell } from "../../lib/io/runner.ts";

const script = join(import.meta.dir, "../../resources/ipv4addr.sh");
const tools = ["ip", "arping", "ping", "timeout"].filter((t) => Bun.which(t) === null);
const canRun = process.getuid?.() === 0 && tools.length === 0;
if (!canRun) console.log(`agents-ipv4addr.test.ts: needs root and ${tools.join(", ") || "ip, arping, ping"}; skipping the namespace tests`);

const tag = `d${process.pid % 100000}`;
const ns = { br: `${tag}br`, h1: `${tag}h1`, h2: `${tag}h2`, obs: `${tag}ob` };
const net = `10.213.${process.pid % 250}`;
const vip = `${net}.100`;
const hostIp = { h1: `${net}.11`, h2: `${net}.12`, obs: `${net}.2` };

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
const neighMac = (): string | null => /lladdr ([0-9a-f:]+)/.exec(sh(`ip -n ${ns.obs} neigh show ${vip}`).out)?.[1] ?? null;
// The agent as drcm runs it: one string for /bin/sh -c, the interface field quoted as in cm.cfg.
const agent = (n: string, iface: string, verb: string) =>
  runShell(`ip netns exec ${n} ${script} ${vip} 255.255.255.0 ${iface} ${verb}`, { timeoutMs: 10_000, env: { ARPING_COUNT: "3", ARPING_INTERVAL: "0.2" } });

beforeAll(() => {
  if (!canRun) return;
  for (const n of Object.values(ns)) must(`ip netns add ${n}`);
  must(`ip -n ${ns.br} link add br0 type bridge && ip -n ${ns.br} link set br0 up`);
  for (const [key, n] of [["h1", ns.h1], ["h2", ns.h2], ["obs", ns.obs]] as const) {
    must(`ip -n ${ns.br} link add p${key} type veth peer name eth0 netns ${n}`);
    must(`ip -n ${ns.br} link set p${key} master br0 up`);
    must(`ip -n ${n} link set lo up && ip -n ${n} link set eth0 up && ip -n ${n} addr add ${hostIp[key]}/24 dev eth0`);
  }
});
afterAll(() => {
  for (const n of Object.values(ns)) sh(`ip netns del ${n}`);
});

describe("ipv4addr.sh in network namespaces", () => {
  test.skipIf(!canRun)("ipv4addr.sh start adds the address with its label on the first existing interface", async () => {
    const r = await agent(ns.h1, "'nosuch0|eth0:1'", "start");
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain("gratuitous ARP");
    expect(must(`ip -n ${ns.h1} -o -4 addr show dev eth0`)).toMatch(new RegExp(`inet ${vip.replaceAll(".", "\\.")}/24 .*eth0:1`));
    expect((await agent(ns.h1, "eth0", "watch")).exitCode).toBe(0);
    // A second start of a held address succeeds and re-announces.
    const again = await agent(ns.h1, "eth0:1", "start");
    expect(again.exitCode).toBe(0);
    expect(again.output).toContain("already on eth0");
  });

  test.skipIf(!canRun)("ipv4addr.sh gratuitous ARP moves the observer's neighbour entry to the new holder", async () => {
    expect(sh(`ip netns exec ${ns.obs} ping -c 1 -W 2 ${vip}`).code).toBe(0);
    expect(neighMac()).toBe(mac(ns.h1));
    const stop = await agent(ns.h1, "eth0:1", "stop");
    expect(stop.exitCode).toBe(0);
    expect(must(`ip -n ${ns.h1} -o -4 addr show dev eth0`)).not.toContain(`${vip}/`);
    // Linux ignores a new link-layer address for an entry updated less than locktime (1 s) ago.
    await Bun.sleep(1100);
    const start = await agent(ns.h2, "eth0", "start");
    expect(start.exitCode).toBe(0);
    let seen = neighMac();
    for (let i = 0; i < 40 && seen !== mac(ns.h2); i++) {
      await Bun.sleep(50);
      seen = neighMac();
    }
    expect(seen).toBe(mac(ns.h2));
  });

  test.skipIf(!canRun)("ipv4addr.sh watch notices a removed address and changes nothing", async () => {
    expect((await agent(ns.h2, "eth0", "watch")).exitCode).toBe(0);
    must(`ip -n ${ns.h2} addr del ${vip}/24 dev eth0`);
    const w = await agent(ns.h2, "eth0", "watch");
    expect(w.exitCode).toBe(1);
    expect(w.output).toContain("is not on eth0");
    expect(must(`ip -n ${ns.h2} -o -4 addr show dev eth0`)).not.toContain(`${vip}/`);
    expect((await agent(ns.h1, "eth0", "watch")).exitCode).toBe(1);
  });

  test.skipIf(!canRun)("ipv4addr.sh stop removes the address and is idempotent", async () => {
    expect((await agent(ns.h2, "eth0", "start")).exitCode).toBe(0);
    expect((await agent(ns.h2, "eth0", "stop")).exitCode).toBe(0);
    expect(must(`ip -n ${ns.h2} -o -4 addr show dev eth0`)).not.toContain(`${vip}/`);
    expect((await agent(ns.h2, "eth0", "stop")).exitCode).toBe(0);
  });

  test.skipIf(!canRun)("ipv4addr.sh fails clearly when no listed interface exists", async () => {
    const r = await agent(ns.h2, "'nosuch0|nosuch1'", "start");
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain("No interface of");
  });
});
