// `drcm demo --netns` (root): the same story in real network namespaces, with a real floating IP
// (resources/ipv4addr.sh, gratuitous ARP) that goes with "ledger", and a client namespace that asks
// http://<floating IP>/ every 10 ms and reports the outage each move caused, in milliseconds.
// Layout (nothing is linked to the host's network):
//   <p>-br  a bridge, one veth port per namespace      <p>-nK  node K: eth0 = 10.214.0.1K
//   <p>-cl  the client: eth0 = 10.214.0.2               floating IP 10.214.0.100/24
import type { Subprocess } from "bun";
import type { CliOptions } from "../cli/args.ts";
import { DemoCluster, type DemoNet } from "./cluster.ts";
import { makeLayout } from "./layout.ts";
import { drcmCommand } from "./self.ts";
import { Story, type Outage } from "./story.ts";
import { liveUi, transcriptUi, type Ui } from "./ui.ts";
import { errorMessage } from "../error.ts";

const SUBNET = "10.214.0";
const VIP = `${SUBNET}.100`;

const sh = (cmd: string[]): { code: number; out: string } => {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: `${r.stdout.toString()}${r.stderr.toString()}`.trim() };
};
const must = (cmd: string[]): void => {
  const r = sh(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} failed (exit ${r.code}): ${r.out}`);
};

/** Why --netns cannot run here, or null. */
function netnsUnavailable(): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "it needs root (network namespaces)";
  if (Bun.which("ip") === null) return "the ip command is missing (package iproute2)";
  if (sh(["ip", "netns", "list"]).code !== 0) return "ip netns does not work here";
  return null;
}

class NetnsNet implements DemoNet {
  readonly prefix = `drcmdemo${process.pid}`;
  private made: string[] = [];
  private fetcher: Subprocess<"pipe", "pipe", "ignore"> | null = null;
  private seq = 0;
  private waiting = new Map<number, (v: string | null) => void>();
  /** Probe transitions: [epoch ms, answer or null]; lastOk before each change to null. */
  readonly events: { t: number; answer: string | null; lastOk: number }[] = [];

  ns = (node: string): string => `${this.prefix}-${node === "client" ? "cl" : node.replace("node", "n")}`;

  build(nodes: readonly string[]): void {
    const br = `${this.prefix}-br`;
    const add = (ns: string): void => {
      must(["ip", "netns", "add", ns]);
      this.made.push(ns);
      must(["ip", "-n", ns, "link", "set", "lo", "up"]);
    };
    add(br);
    must(["ip", "-n", br, "link", "add", "br0", "type", "bridge"]);
    must(["ip", "-n", br, "link", "set", "br0", "up"]);
    const port = (node: string, ip: string, i: number): void => {
      const ns = this.ns(node);
      add(ns);
      must(["ip", "-n", br, "link", "add", `p${i}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      must(["ip", "-n", br, "link", "set", `p${i}`, "master", "br0", "up"]);
      must(["ip", "-n", ns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
      must(["ip", "-n", ns, "link", "set", "eth0", "up"]);
    };
    nodes.forEach((n, i) => port(n, `${SUBNET}.${11 + i}`, i + 1));
    port("client", `${SUBNET}.2`, 0);
  }

  on = (node: string): string[] => ["ip", "netns", "exec", this.ns(node)];

  startFetcher(): void {
    const p = Bun.spawn([...this.on("client"), ...drcmCommand(), "demo", "fetcher"], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    this.fetcher = p;
    void (async () => {
      const dec = new TextDecoder();
      let buf = "";
      let lastOk = 0;
      for await (const chunk of p.stdout) {
        buf += dec.decode(chunk);
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const [k, a, ...rest] = line.split(" ");
          const text = rest.join(" ");
          if (k === "r") {
            const id = Number(a);
            this.waiting.get(id)?.(text === "-" ? null : text);
            this.waiting.delete(id);
          } else if (k === "l") lastOk = Number(a);
          else if (k === "p") this.events.push({ t: Number(a), answer: text === "-" ? null : text, lastOk });
        }
      }
    })();
  }

  fetch(url: string, timeoutMs: number): Promise<string | null> {
    const f = this.fetcher;
    if (f === null) return Promise.resolve(null);
    const id = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, timeoutMs + 2000);
      this.waiting.set(id, (v) => {
        clearTimeout(timer);
        resolve(v);
      });
      f.stdin.write(`get ${id} ${url} ${timeoutMs}\n`);
      f.stdin.flush();
    });
  }

  probe(url: string): void {
    this.fetcher?.stdin.write(`probe ${url}\n`);
    this.fetcher?.stdin.flush();
  }

  /** The first interruption (or direct switch) of the floating IP's answers after epoch ms `t`. */
  outageAfter(t: number): Outage | null {
    const after = this.events.filter((e) => e.t >= t);
    const down = after.findIndex((e) => e.answer === null);
    if (down >= 0) {
      const up = after.slice(down).find((e) => e.answer !== null);
      if (up === undefined) return null;
      return { ms: up.t - after[down]!.lastOk, answer: up.answer! };
    }
    const change = after.find((e) => e.answer !== null);
    return change ? { ms: 0, answer: change.answer! } : null;
  }

  crashed = (node: string): void => void sh(["ip", "-n", this.ns(node), "link", "set", "eth0", "down"]);
  restarting = (node: string): void => void sh(["ip", "-n", this.ns(node), "link", "set", "eth0", "up"]);

  async destroy(): Promise<void> {
    if (this.fetcher !== null) {
      this.fetcher.kill("SIGKILL");
      await this.fetcher.exited;
      this.fetcher = null;
    }
    for (const ns of this.made.reverse()) sh(["ip", "netns", "delete", ns]);
    this.made = [];
  }
}

export async function runNetnsDemo(o: CliOptions): Promise<number> {
  const why = netnsUnavailable();
  if (why !== null) {
    process.stderr.write(`drcm: ERROR - drcm demo --netns cannot run: ${why}; drcm demo without --netns needs neither\n`);
    return 1;
  }
  const t0 = performance.now();
  const net = new NetnsNet();
  const layout = await makeLayout({ ips: [1, 2, 3].map((k) => `${SUBNET}.1${k}`), vip: VIP });
  const cluster = new DemoCluster(layout, net);
  let ui: Ui | null = null;
  const interrupted = (sig: NodeJS.Signals): void => {
    ui?.stop();
    process.stdout.write(`\n${sig}: stopping the demo cluster and removing its namespaces...\n`);
    void cluster.cleanup().then(() => {
      process.stdout.write("demo stopped, nothing left behind\n");
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, interrupted);
  let kept = false;
  try {
    net.build(layout.nodes.map((n) => n.name));
    net.startFetcher();
    ui = process.stdout.isTTY === true ? liveUi((s) => void process.stdout.write(s), t0, () => cluster.cmStat("node2")) : transcriptUi((s) => void process.stdout.write(s), t0);
    const code = await new Story(cluster, ui, {
      start: () => net.probe(`http://${VIP}:${layout.ledgerPort}/`),
      outageAfter: (t) => net.outageAfter(t),
      label: `http://${VIP}:${layout.ledgerPort}/ (floating IP) from the client namespace, every 10 ms`,
    }).run(o.keep);
    kept = o.keep && code === 0;
    if (kept) process.stdout.write(`Namespaces: ${net.ns("node1")} ... (ip netns list); remove them with: ip netns delete NAME\n`);
    return code;
  } catch (e) {
    ui?.stop();
    process.stderr.write(`drcm: ERROR - The netns demo failed: ${errorMessage(e)}\n`);
    return 1;
  } finally {
    ui?.stop();
    if (!kept) await cluster.cleanup();
  }
}
