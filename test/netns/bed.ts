// The netns test bed: real drcm daemons in network namespaces joined by a bridge, a real floating IP
// (resources/ipv4addr.sh with gratuitous ARP), a real application (responder.ts, answering its node's
// name) and a real crontab, plus the faults (kill -9, SIGSTOP, link down, iptables partitions and
// packet loss, restart) and the audits that judge the outcome from the kernel's point of view.
//
// Layout (all inside namespaces this bed creates; nothing touches the host's network):
//   <p>-br  bridge br0 (10.213.0.1, the "gateway" and ping target), one veth port per namespace
//   <p>-nK  node K: eth0 = 10.213.0.(10+K), runs `drcm --node=nK`
//   <p>-cl  client: eth0 = 10.213.0.2, runs the prober
// Crontabs: the config names one install dir (DIR/cron.d); every node daemon runs in its own mount
// namespace (ip netns exec makes one) where DIR/cron.d is a bind mount of DIR/cron-nK, so each node
// has its own cron directory and the audit reads DIR/cron-nK from the host.
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { nowMs, readProbe, type ProbeLog } from "./probe.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const DRCM_BIN = process.env.DRCM_BIN ?? join(REPO, "dist/drcm");
export const BUN = process.execPath;
export const SUBNET = "10.213.0";
export const VIP = `${SUBNET}.100`;
export const GATEWAY = `${SUBNET}.1`;
export const CLIENT_IP = `${SUBNET}.2`;
export const APP_PORT = 8080;
/** IPv6 of a bed with `ipv6: true` (a ULA prefix, only inside the bed's namespaces). */
export const SUBNET6 = "fd00:213:";
export const VIP6 = `${SUBNET6}:100`;
export const GATEWAY6 = `${SUBNET6}:1`;
export const CLIENT_IP6 = `${SUBNET6}:2`;

const run = (cmd: string[]): { code: number; out: string } => {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
};
const must = (cmd: string[]): string => {
  const r = run(cmd);
  if (r.code !== 0) throw new Error(`Bed command failed (exit ${r.code}): ${cmd.join(" ")}: ${r.out.trim()}`);
  return r.out;
};
const which = (tool: string): boolean => run(["sh", "-c", `command -v ${tool}`]).code === 0;

/** Why the bed cannot run here, or null when it can. */
export function bedUnavailable(needBinary = true): string | null {
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not root (network namespaces need root)";
  for (const t of ["ip", "iptables", "arping", "ping", "su", "ss"]) if (!which(t)) return `${t} is not installed (.ci/run installs it)`;
  if (run(["ip", "netns", "list"]).code !== 0) return "ip netns does not work here";
  if (needBinary && !existsSync(DRCM_BIN)) return `no drcm binary at ${DRCM_BIN} (npm run build)`;
  return null;
}

/**
 * Why iptables cannot copy packets to the client here (the TEE target in mangle and REDIRECT in nat,
 * which scenario 12 needs to record real heartbeats), or null when it can. Tried on a scratch
 * namespace named like a bed's, so removeStaleBeds() cleans it up if this process dies.
 */
export function teeUnavailable(): string | null {
  const ns = `dbed${process.pid}x0-tee`;
  if (run(["ip", "netns", "add", ns]).code !== 0) return "cannot create a scratch namespace to try iptables TEE";
  try {
    const ipt = ["ip", "netns", "exec", ns, "iptables", "-w"];
    const tee = run([...ipt, "-t", "mangle", "-A", "OUTPUT", "-p", "udp", "-d", `${SUBNET}.11`, "-j", "TEE", "--gateway", CLIENT_IP]);
    if (tee.code !== 0) return `the iptables TEE target is unavailable (kernel module xt_TEE): ${tee.out.trim().split("\n")[0]}`;
    const redir = run([...ipt, "-t", "nat", "-A", "PREROUTING", "-p", "udp", "--dport", "53897", "-j", "REDIRECT", "--to-ports", "53999"]);
    if (redir.code !== 0) return `the iptables REDIRECT target is unavailable: ${redir.out.trim().split("\n")[0]}`;
    return null;
  } finally {
    run(["ip", "netns", "del", ns]);
  }
}

export { sleep, waitFor } from "../wait.ts";

export interface BedSpec {
  /** Number of nodes (n1..nN). */
  nodes: number;
  /** Extra [CM_SERVER] lines. */
  server?: string[];
  /**
   * [CM_NODE] resource lines of node `name` (index 0 = n1). Default: n1 is primary of vip, jobs and
   * app; every other node is their backup in node order.
   */
  nodeLines?: (name: string, index: number) => string[];
  /** Environment added to every daemon (e.g. ARPING_COUNT). */
  env?: Record<string, string>;
  /**
   * Dedicated heartbeat networks: with N > 0 every node gets eth1..ethN on bridges br1..brN (subnets
   * 10.214.0.0/24, 10.215.0.0/24, ...) and keep_alive_ip lists those addresses; eth0 keeps the VIP and
   * the client. Absent: heartbeats on eth0 as in 1.x.
   */
  links?: number;
  /**
   * IPv6 as well: every namespace gets IPv6 enabled (sysctl), eth0 of each node/client and br0 an
   * fd00:213::/64 address (nodad), and the config a second floating address `vip6` (VIP6/64 on eth0,
   * resources/ipv6addr.sh) that the default node lines put next to vip. Heartbeats stay on IPv4.
   * partition/isolate/loss are iptables (IPv4) only: they do not cut IPv6.
   */
  ipv6?: boolean;
  /** The keep_alive_ip value of each node (e.g. its IPv6 address, or IPv6 and IPv4 links); default: eth0's IPv4, or the links. */
  keepAliveIps?: (name: string, bed: Bed) => string;
}

export const defaultNodeLines = (name: string, index: number): string[] => [
  "applications_check = 1",
  "ipaddr_check = 2",
  "crontabs_check = 2",
  ...(index === 0
    ? ["node_floating_ip_addrs = vip", "node_crontabs = jobs", "node_applications = app"]
    : ["node_backup_floating_ip_addrs = n1:vip", "node_backup_crontabs = n1:jobs", "node_backup_applications = n1:app"]),
];
/** defaultNodeLines with vip6 next to vip (the default of a bed with `ipv6: true`). */
export const defaultNodeLinesIpv6 = (name: string, index: number): string[] =>
  defaultNodeLines(name, index).map((l) =>
    l === "node_floating_ip_addrs = vip" ? "node_floating_ip_addrs = vip, vip6" : l === "node_backup_floating_ip_addrs = n1:vip" ? "node_backup_floating_ip_addrs = n1:vip, n1:vip6" : l,
  );

/** Subset of `drcm --client --command=status --json` the audits read (schema drcm.status/1). */
export interface StatusDoc {
  answeredBy: string;
  quorum: { has: boolean; alive: number; total: number };
  nodes: { nodename: string; up: boolean; state: string; configDiffers: boolean }[];
  resources: { slot: string; kind: string; nickname: string; owner: string; holders: { node: string; claim: number }[]; desired: string | null; failedOn: string[]; reason: string | null }[];
}

export interface AuditOptions {
  /** Node the VIP and crontab must be on (null: on none); undefined: any single node. */
  holder?: string | null;
  /** Nodes whose status differs in config on purpose (scenario 11). */
  configDiffers?: string[];
  /** Skip the application check (it may sit elsewhere after max_failures). */
  skipApp?: boolean;
  /** The config has no crontab (benchmarks). */
  skipCron?: boolean;
}

let bedSeq = 0;
const liveBeds = new Set<Bed>();
process.on("exit", () => {
  for (const b of liveBeds) b.destroySync();
});

export class Bed {
  readonly prefix: string;
  readonly dir: string;
  readonly cfg: string;
  readonly names: string[];
  readonly brNs: string;
  readonly clientNs: string;
  private procs = new Map<string, Subprocess>();
  private starts = new Map<string, number>();
  private down = new Set<string>();
  private probes: Subprocess[] = [];

  private constructor(readonly spec: BedSpec) {
    bedSeq++;
    this.prefix = `dbed${process.pid}x${bedSeq}`;
    this.brNs = `${this.prefix}-br`;
    this.clientNs = `${this.prefix}-cl`;
    this.names = Array.from({ length: spec.nodes }, (_, i) => `n${i + 1}`);
    this.dir = mkdtempSync(join(tmpdir(), `drcm-netns-${process.pid}-`));
    this.cfg = join(this.dir, "cm.cfg");
  }

  static async create(spec: BedSpec): Promise<Bed> {
    removeStaleBeds();
    const b = new Bed(spec);
    liveBeds.add(b);
    try {
      b.writeFiles();
      b.buildNetwork();
    } catch (e) {
      b.destroySync();
      throw e;
    }
    return b;
  }

  ns(node: string): string {
    return `${this.prefix}-${node}`;
  }
  ip(node: string): string {
    return `${SUBNET}.${10 + Number(node.slice(1))}`;
  }
  /** IPv6 address of `node`'s eth0 in a bed with `ipv6: true` (fd00:213::11 for n1). */
  ip6(node: string): string {
    return `${SUBNET6}:${10 + Number(node.slice(1))}`;
  }
  /** Address of `node` on heartbeat link `k` (1-based) of a bed with dedicated links. */
  linkIp(node: string, k: number): string {
    return `10.${213 + k}.0.${10 + Number(node.slice(1))}`;
  }
  private keepAliveIps(node: string): string {
    if (this.spec.keepAliveIps) return this.spec.keepAliveIps(node, this);
    const n = this.spec.links ?? 0;
    return n === 0 ? this.ip(node) : Array.from({ length: n }, (_, i) => this.linkIp(node, i + 1)).join(", ");
  }

  // ---- files ---------------------------------------------------------------------------------

  private writeFiles(): void {
    const d = this.dir;
    for (const sub of ["run", "log", "spool", "cron.d", "crontabs", "app", ".auth", "probe"]) mkdirSync(join(d, sub), { recursive: true });
    for (const n of this.names) mkdirSync(join(d, `cron-${n}`));
    chmodSync(join(d, ".auth"), 0o700);
    const key = randomBytes(2048);
    writeFileSync(join(d, ".auth/authkey"), key, { mode: 0o600 });
    writeFileSync(join(d, ".auth/authkey.sha1"), `${createHash("sha1").update(key).digest("hex").slice(0, 40)}\n`, { mode: 0o600 });
    writeFileSync(join(d, "crontabs/jobs"), "# drcm netns bed crontab\n*/5 * * * * root true\n");
    writeFileSync(join(d, "crontab-poke"), "");
    writeFileSync(join(d, "app.sh"), this.appScript(), { mode: 0o755 });
    writeFileSync(this.cfg, this.configText());
  }

  configText(extraServer: string[] = []): string {
    const d = this.dir;
    const lines = this.spec.nodeLines ?? (this.spec.ipv6 ? defaultNodeLinesIpv6 : defaultNodeLines);
    return [
      "[CM_SERVER]",
      "udpport = 53897",
      "tcpport = 53897",
      `run_dir = ${d}/run`,
      `log_dir = ${d}/log`,
      `spool_dir = ${d}/spool`,
      ...(this.spec.server ?? []),
      ...extraServer,
      "",
      "[CM_IPADDRS]",
      `vip, ${VIP}, 24, eth0, ${REPO}/resources/ipv4addr.sh`,
      ...(this.spec.ipv6 ? [`vip6, ${VIP6}, 64, eth0, ${REPO}/resources/ipv6addr.sh`] : []),
      "[CM_CRONTABS]",
      `jobs, ${d}/crontabs/jobs, ${d}/cron.d, ${REPO}/resources/crontab.sh`,
      "[CM_APPLICATIONS]",
      `app, root:root, ${d}/app.sh start, ${d}/app.sh stop, ${d}/app.sh ensure`,
      "",
      ...this.names.flatMap((n, i) => ["[CM_NODE]", `nodename = ${n}`, `hostname = ${n}.bed`, `keep_alive_ip = ${this.keepAliveIps(n)}`, ...lines(n, i), ""]),
    ].join("\n");
  }

  /** A second config for one node (scenario 11): same key, same resources, other server lines. */
  writeAltConfig(extraServer: string[]): string {
    const alt = join(this.dir, "alt");
    mkdirSync(join(alt, ".auth"), { recursive: true, mode: 0o700 });
    chmodSync(join(alt, ".auth"), 0o700);
    for (const f of ["authkey", "authkey.sha1"]) copyFileSync(join(this.dir, ".auth", f), join(alt, ".auth", f));
    const file = join(alt, "cm.cfg");
    writeFileSync(file, this.configText(extraServer));
    return file;
  }

  /** The application: the node is found from the namespace the script runs in. */
  private appScript(): string {
    const d = this.dir;
    return `#!/bin/sh
# drcm netns bed application: start|stop|ensure. Starts responder.ts answering this node's name.
NS=$(ip netns identify $$)
NODE=\${NS#${this.prefix}-}
PIDF=${d}/app/$NODE.pid
alive() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }
case "$1" in
  start)
    if [ -e "${d}/app/broken-$NODE" ]; then echo "app.sh: ERROR - application is broken on $NODE"; exit 1; fi
    alive && exit 0
    setsid ${BUN} ${REPO}/test/netns/responder.ts "$NODE" ${APP_PORT} </dev/null >>"${d}/log/app-$NODE.log" 2>&1 &
    echo $! >"$PIDF"
    i=0
    while [ $i -lt 100 ]; do
      ss -Hlun "sport = :${APP_PORT}" | grep -q . && exit 0
      sleep 0.05; i=$((i + 1))
    done
    echo "app.sh: ERROR - responder did not open port ${APP_PORT} on $NODE"; exit 1 ;;
  stop)
    if alive; then
      P=$(cat "$PIDF"); kill "$P"
      i=0; while [ $i -lt 50 ] && kill -0 "$P" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
      kill -9 "$P" 2>/dev/null
    fi
    rm -f "$PIDF"; exit 0 ;;
  ensure)
    alive && exit 0
    echo "app.sh: responder is not running on $NODE"; exit 1 ;;
esac
exit 2
`;
  }

  // ---- network -------------------------------------------------------------------------------

  private buildNetwork(): void {
    const br = this.brNs;
    const v6 = this.spec.ipv6 === true;
    // IPv6 on (a namespace may inherit disable_ipv6=1), no router advertisements accepted.
    const enable6 = (ns: string, dev?: string) => {
      if (!v6) return;
      const c = dev ? [`net.ipv6.conf.${dev}.disable_ipv6=0`, `net.ipv6.conf.${dev}.accept_ra=0`] : ["net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0", "net.ipv6.conf.default.accept_ra=0"];
      must(["ip", "netns", "exec", ns, "sysctl", "-qw", ...c]);
    };
    must(["ip", "netns", "add", br]);
    enable6(br);
    must(["ip", "-n", br, "link", "set", "lo", "up"]);
    must(["ip", "-n", br, "link", "add", "br0", "type", "bridge"]);
    must(["ip", "-n", br, "addr", "add", `${GATEWAY}/24`, "dev", "br0"]);
    if (v6) {
      enable6(br, "br0");
      must(["ip", "-n", br, "-6", "addr", "add", `${GATEWAY6}/64`, "dev", "br0", "nodad"]);
    }
    must(["ip", "-n", br, "link", "set", "br0", "up"]);
    const attach = (ns: string, port: string, ip: string, ip6: string) => {
      must(["ip", "netns", "add", ns]);
      enable6(ns);
      must(["ip", "-n", ns, "link", "set", "lo", "up"]);
      must(["ip", "-n", br, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      must(["ip", "-n", br, "link", "set", port, "master", "br0"]);
      must(["ip", "-n", br, "link", "set", port, "up"]);
      must(["ip", "-n", ns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
      if (v6) {
        enable6(ns, "eth0");
        must(["ip", "-n", ns, "-6", "addr", "add", `${ip6}/64`, "dev", "eth0", "nodad"]);
      }
      must(["ip", "-n", ns, "link", "set", "eth0", "up"]);
    };
    attach(this.clientNs, "vcl", CLIENT_IP, CLIENT_IP6);
    for (let k = 1; k <= (this.spec.links ?? 0); k++) {
      must(["ip", "-n", br, "link", "add", `br${k}`, "type", "bridge"]);
      must(["ip", "-n", br, "link", "set", `br${k}`, "up"]);
    }
    for (const n of this.names) {
      const ns = this.ns(n);
      attach(ns, `v${n}`, this.ip(n), this.ip6(n));
      for (let k = 1; k <= (this.spec.links ?? 0); k++) {
        must(["ip", "-n", br, "link", "add", `v${n}l${k}`, "type", "veth", "peer", "name", `eth${k}`, "netns", ns]);
        must(["ip", "-n", br, "link", "set", `v${n}l${k}`, "master", `br${k}`]);
        must(["ip", "-n", br, "link", "set", `v${n}l${k}`, "up"]);
        must(["ip", "-n", ns, "addr", "add", `${this.linkIp(n, k)}/24`, "dev", `eth${k}`]);
        must(["ip", "-n", ns, "link", "set", `eth${k}`, "up"]);
      }
      // Partition rules go to BEDIN/BEDOUT (flushed by heal), loss rules to BEDLOSS (inbound only).
      for (const c of ["BEDIN", "BEDOUT", "BEDLOSS"]) this.ipt(n, ["-N", c]);
      this.ipt(n, ["-A", "INPUT", "-j", "BEDIN"]);
      this.ipt(n, ["-A", "OUTPUT", "-j", "BEDOUT"]);
      this.ipt(n, ["-A", "INPUT", "!", "-i", "lo", "-j", "BEDLOSS"]);
    }
  }

  // ---- daemons -------------------------------------------------------------------------------

  /** Starts node `name`'s daemon in its namespace; returns its pid. */
  start(name: string, opts: { config?: string } = {}): number {
    if (this.running(name)) throw new Error(`Node ${name} is already running`);
    const k = (this.starts.get(name) ?? 0) + 1;
    this.starts.set(name, k);
    const cronDir = join(this.dir, "cron.d");
    const own = join(this.dir, `cron-${name}`);
    const p = Bun.spawn(
      [
        "ip", "netns", "exec", this.ns(name),
        "sh", "-c", `mount --bind "${own}" "${cronDir}" && exec "$0" "$@"`,
        DRCM_BIN, `--config-file=${opts.config ?? this.cfg}`, `--node=${name}`, `--log-file=drcm-${name}.log`,
      ],
      {
        env: { ...process.env, NO_COLOR: "1", DRCM_SYSTEM_CRONTAB: join(this.dir, "crontab-poke"), ...this.spec.env },
        stdout: "ignore",
        stderr: Bun.file(join(this.dir, "log", `stderr-${name}-${k}.log`)),
        detached: true,
      },
    );
    this.procs.set(name, p);
    return p.pid;
  }

  startAll(): void {
    for (const n of this.names) this.start(n);
  }

  running(name: string): boolean {
    const p = this.procs.get(name);
    return !!p && p.exitCode === null && p.signalCode === null;
  }
  pid(name: string): number | null {
    return this.running(name) ? this.procs.get(name)!.pid : null;
  }
  liveNodes(): string[] {
    return this.names.filter((n) => this.running(n));
  }

  signal(name: string, sig: NodeJS.Signals): void {
    const pid = this.pid(name);
    if (pid === null) throw new Error(`Node ${name} is not running`);
    process.kill(pid, sig);
  }
  async kill9(name: string): Promise<void> {
    this.signal(name, "SIGKILL");
    await this.procs.get(name)!.exited;
  }
  pause(name: string): void {
    this.signal(name, "SIGSTOP");
  }
  resume(name: string): void {
    this.signal(name, "SIGCONT");
  }
  /** SIGTERM and wait for the graceful exit (bounded); returns the exit code (null: had to SIGKILL). */
  async stop(name: string, timeoutMs = 20000): Promise<number | null> {
    const p = this.procs.get(name);
    if (!p || !this.running(name)) return p?.exitCode ?? null;
    process.kill(p.pid, "SIGTERM");
    const r = await Promise.race([p.exited, Bun.sleep(timeoutMs).then(() => null)]);
    if (r === null) {
      process.kill(p.pid, "SIGKILL");
      await p.exited;
    }
    return r;
  }
  async stopAll(): Promise<void> {
    await Promise.all(this.liveNodes().map((n) => this.stop(n)));
  }

  // ---- faults --------------------------------------------------------------------------------

  linkDown(name: string, dev = "eth0"): void {
    must(["ip", "-n", this.ns(name), "link", "set", dev, "down"]);
    if (dev === "eth0") this.down.add(name);
  }
  linkUp(name: string, dev = "eth0"): void {
    must(["ip", "-n", this.ns(name), "link", "set", dev, "up"]);
    if (dev === "eth0") this.down.delete(name);
  }
  isDown(name: string): boolean {
    return this.down.has(name);
  }

  /**
   * Cuts IPv4 between groups with iptables in the node namespaces (ARP still flows, as with a
   * firewall). Members: node names, "client", "gw". Members of no group keep full connectivity.
   */
  partition(groups: string[][]): void {
    const addr = (m: string) => (m === "client" ? CLIENT_IP : m === "gw" ? GATEWAY : this.ip(m));
    for (const g of groups) {
      for (const n of g.filter((m) => this.names.includes(m))) {
        for (const other of groups.filter((x) => x !== g).flat()) {
          const ip = addr(other);
          this.ipt(n, ["-A", "BEDIN", "-s", ip, "-j", "DROP"]);
          this.ipt(n, ["-A", "BEDOUT", "-d", ip, "-j", "DROP"]);
        }
      }
    }
  }
  /** Drops every IPv4 packet of `name` except loopback (a node cut off from everything). */
  isolate(name: string): void {
    this.ipt(name, ["-A", "BEDIN", "!", "-i", "lo", "-j", "DROP"]);
    this.ipt(name, ["-A", "BEDOUT", "!", "-o", "lo", "-j", "DROP"]);
  }
  heal(): void {
    for (const n of this.names) for (const c of ["BEDIN", "BEDOUT"]) this.ipt(n, ["-F", c]);
  }
  /** ip6tables in `node`'s namespace (a bed with `ipv6: true`). */
  ip6t(node: string, args: string[]): void {
    must(["ip", "netns", "exec", this.ns(node), "ip6tables", "-w", ...args]);
  }
  private ipt(node: string, args: string[]): void {
    must(["ip", "netns", "exec", this.ns(node), "iptables", "-w", ...args]);
  }
  /** Drops `probability` of the packets every node receives (every link loses that share). */
  loss(probability: number, nodes: string[] = this.names): void {
    for (const n of nodes) this.ipt(n, ["-A", "BEDLOSS", "-m", "statistic", "--mode", "random", "--probability", String(probability), "-j", "DROP"]);
  }
  clearLoss(): void {
    for (const n of this.names) this.ipt(n, ["-F", "BEDLOSS"]);
  }

  /** The host of `name` reboots: every process in its namespace dies, the VIP and crontab go, link up. */
  async reboot(name: string): Promise<void> {
    if (this.running(name)) await this.kill9(name);
    this.killNamespace(this.ns(name));
    run(["ip", "-n", this.ns(name), "addr", "del", `${VIP}/24`, "dev", "eth0"]);
    if (this.spec.ipv6) run(["ip", "-n", this.ns(name), "-6", "addr", "del", `${VIP6}/64`, "dev", "eth0"]);
    rmSync(join(this.dir, `cron-${name}`, "jobs"), { force: true });
    rmSync(join(this.dir, "app", `${name}.pid`), { force: true });
    if (this.down.has(name)) this.linkUp(name);
  }

  private killNamespace(ns: string): void {
    const pids = run(["ip", "netns", "pids", ns]).out.split(/\s+/).filter((x) => /^\d+$/.test(x));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  // ---- ground truth --------------------------------------------------------------------------

  /** Nodes whose eth0 carries the VIP (reachable nodes only unless `all`). */
  vipHolders(all = false): string[] {
    return this.names.filter((n) => (all || !this.down.has(n)) && run(["ip", "-n", this.ns(n), "-o", "-4", "addr", "show", "dev", "eth0"]).out.includes(` ${VIP}/`));
  }
  /** Nodes whose eth0 carries VIP6 (reachable nodes only unless `all`); [] in a bed without ipv6. */
  vip6Holders(all = false): string[] {
    if (!this.spec.ipv6) return [];
    return this.names.filter((n) => (all || !this.down.has(n)) && run(["ip", "-n", this.ns(n), "-o", "-6", "addr", "show", "dev", "eth0"]).out.includes(` ${VIP6}/`));
  }
  cronHolders(all = false): string[] {
    return this.names.filter((n) => (all || !this.down.has(n)) && existsSync(join(this.dir, `cron-${n}`, "jobs")));
  }
  /** Nodes where a responder process runs. */
  appNodes(): string[] {
    return this.names.filter((n) =>
      run(["ip", "netns", "pids", this.ns(n)])
        .out.split(/\s+/)
        .some((pid) => {
          try {
            return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("responder.ts");
          } catch {
            return false;
          }
        }),
    );
  }
  /** Processes left in node namespaces (pid: cmdline). */
  processes(name: string): string[] {
    return run(["ip", "netns", "pids", this.ns(name)])
      .out.split(/\s+/)
      .filter((x) => /^\d+$/.test(x))
      .map((pid) => {
        try {
          return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim()}`;
        } catch {
          return "";
        }
      })
      .filter((x) => x !== "");
  }

  /** Ask the node's own daemon through the real client, inside its namespace. */
  async status(name: string, config?: string): Promise<StatusDoc | string> {
    const p = Bun.spawn(
      ["ip", "netns", "exec", this.ns(name), DRCM_BIN, "--client", `--config-file=${config ?? this.cfg}`, `--node=${name}`, "--command=status", "--json"],
      { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    const timer = setTimeout(() => p.kill("SIGKILL"), 8000);
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const code = await p.exited;
    clearTimeout(timer);
    try {
      return JSON.parse(out) as StatusDoc;
    } catch {
      return `status of ${name} failed (exit ${code}): ${(out + err).trim().slice(0, 300)}`;
    }
  }

  /** Rejected-packet counters of a node (client `ping`/info), as text, for scenario 12. */
  async client(name: string, command: string): Promise<{ code: number; out: string }> {
    const p = Bun.spawn(
      ["ip", "netns", "exec", this.ns(name), DRCM_BIN, "--client", `--config-file=${this.cfg}`, `--node=${name}`, `--command=${command}`],
      { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    const timer = setTimeout(() => p.kill("SIGKILL"), 8000);
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const code = await p.exited;
    clearTimeout(timer);
    return { code, out: out + err };
  }

  /**
   * Problems right now: an exclusive resource held twice or not where the core says, status of a
   * live node unavailable, configs that disagree, the application not where placement puts it.
   */
  async audit(opts: AuditOptions = {}): Promise<string[]> {
    const problems: string[] = [];
    const vip = this.vipHolders();
    const cron = this.cronHolders();
    const app = this.appNodes().filter((n) => !this.down.has(n));
    if (vip.length > 1) problems.push(`VIP ${VIP} on ${vip.join(", ")}`);
    const vip6 = this.vip6Holders();
    if (this.spec.ipv6 && vip6.join() !== vip.join()) problems.push(`VIP6 ${VIP6} on [${vip6.join(", ")}], VIP on [${vip.join(", ")}]`);
    if (cron.length > 1) problems.push(`crontab installed on ${cron.join(", ")}`);
    if (opts.holder !== undefined) {
      const want = opts.holder === null ? [] : [opts.holder];
      if (vip.join() !== want.join()) problems.push(`VIP on [${vip.join(", ")}], expected [${want.join(", ")}]`);
      if (!opts.skipCron && cron.join() !== want.join()) problems.push(`crontab on [${cron.join(", ")}], expected [${want.join(", ")}]`);
    }
    const live = this.liveNodes().filter((n) => !this.down.has(n));
    const statuses = await Promise.all(live.map((n) => this.status(n)));
    statuses.forEach((s, i) => {
      const n = live[i]!;
      if (typeof s === "string") {
        problems.push(s);
        return;
      }
      for (const node of s.nodes) {
        // A node never differs from itself; an odd node differs from everyone and everyone from it.
        const odd = opts.configDiffers ?? [];
        const expected = node.nodename !== n && (odd.includes(node.nodename) || odd.includes(n));
        if (node.up && node.configDiffers !== expected) problems.push(`${n} says config of ${node.nodename} differs=${node.configDiffers}`);
      }
      const holdersOf = (nick: string) => s.resources.find((r) => r.nickname === nick)?.holders.map((h) => h.node).sort() ?? [];
      const desiredOf = (nick: string) => s.resources.find((r) => r.nickname === nick)?.desired ?? null;
      if (holdersOf("vip").join() !== vip.join()) problems.push(`${n} says vip held by [${holdersOf("vip").join(", ")}], kernel: [${vip.join(", ")}]`);
      if (this.spec.ipv6 && holdersOf("vip6").join() !== vip6.join()) problems.push(`${n} says vip6 held by [${holdersOf("vip6").join(", ")}], kernel: [${vip6.join(", ")}]`);
      if (!opts.skipCron && holdersOf("jobs").join() !== cron.join()) problems.push(`${n} says jobs held by [${holdersOf("jobs").join(", ")}], files: [${cron.join(", ")}]`);
      if (vip.length === 1 && desiredOf("vip") !== vip[0]) problems.push(`${n} places vip on ${desiredOf("vip")}, held by ${vip[0]}`);
      if (!opts.skipApp && holdersOf("app").join() !== app.join()) problems.push(`${n} says app held by [${holdersOf("app").join(", ")}], responders: [${app.join(", ")}]`);
    });
    return problems;
  }

  /** Audits until clean (bounded); returns the last problems ([] when clean) and the time it took. */
  async settle(opts: AuditOptions = {}, timeoutMs = 10000): Promise<{ problems: string[]; ms: number }> {
    const t0 = performance.now();
    let last: string[] = ["not audited"];
    for (let i = 0; i < 100 && performance.now() - t0 < timeoutMs; i++) {
      last = await this.audit(opts);
      if (last.length === 0) return { problems: [], ms: performance.now() - t0 };
      await Bun.sleep(250);
    }
    return { problems: last, ms: performance.now() - t0 };
  }

  /**
   * After the daemons of `nodes` (default: all) stopped: what they left behind (VIP, crontab, the
   * application or any other process in their namespaces). Called after each scenario that stops a
   * node, while the other nodes run on.
   */
  leftovers(nodes: string[] = this.names): string[] {
    const out: string[] = [];
    const vip = this.vipHolders(true).filter((n) => nodes.includes(n));
    if (vip.length) out.push(`VIP left on ${vip.join(", ")}`);
    const vip6 = this.vip6Holders(true).filter((n) => nodes.includes(n));
    if (vip6.length) out.push(`VIP6 left on ${vip6.join(", ")}`);
    const cron = this.cronHolders(true).filter((n) => nodes.includes(n));
    if (cron.length) out.push(`crontab left on ${cron.join(", ")}`);
    for (const n of nodes) for (const p of this.processes(n)) out.push(`${n}: process left: ${p}`);
    return out;
  }

  // ---- client side ---------------------------------------------------------------------------

  /** Starts the prober in the client namespace; stop() ends it and returns what it recorded. */
  startProbe(intervalMs = 10): { file: string; stop: () => Promise<ProbeLog> } {
    const file = join(this.dir, "probe", `probe-${this.probes.length + 1}.jsonl`);
    const p = Bun.spawn(
      ["ip", "netns", "exec", this.clientNs, BUN, join(REPO, "test/netns/probe.ts"), `--target=${VIP}`, `--port=${APP_PORT}`, `--interval=${intervalMs}`, `--out=${file}`],
      { stdout: "ignore", stderr: Bun.file(join(this.dir, "log", `probe-${this.probes.length + 1}.err`)), detached: true },
    );
    this.probes.push(p);
    return {
      file,
      stop: async () => {
        if (p.exitCode === null && p.signalCode === null) process.kill(p.pid, "SIGTERM");
        await Promise.race([p.exited, Bun.sleep(3000)]);
        if (p.exitCode === null && p.signalCode === null) process.kill(p.pid, "SIGKILL");
        return readProbe(file);
      },
    };
  }

  /** One TCP request to `ip`:8080 from the client namespace: the answering node's name, or null. */
  tcpAsk(ip: string): string | null {
    const code = `const s=require("net").connect(${APP_PORT},"${ip}");let d="";s.setTimeout(1000,()=>process.exit(1));s.on("data",x=>d+=x);s.on("end",()=>{process.stdout.write(d.trim());process.exit(0)});s.on("error",()=>process.exit(1));`;
    const r = run(["ip", "netns", "exec", this.clientNs, BUN, "-e", code]);
    return r.code === 0 && r.out.trim() !== "" ? r.out.trim() : null;
  }

  /** Runs a command in the client namespace. */
  clientExec(cmd: string[]): { code: number; out: string } {
    return run(["ip", "netns", "exec", this.clientNs, ...cmd]);
  }

  /**
   * The attacker's recording (scenario 12, test/netns/replay-restart.test.ts): `count` real datagrams that
   * `from` sends to `to`'s heartbeat port, copied to the client by iptables TEE on `from` and redirected to a
   * recorder (test/netns/forge.ts capture) writing hex lines to `file`. `during` runs while it records.
   * Throws, saying why, when the TEE rule cannot be added or nothing was recorded: a replay check without
   * recordings would prove nothing.
   */
  async recordHeartbeats(from: string, to: string, count: number, file: string, during: () => Promise<void> = async () => {}): Promise<string[]> {
    const forge = join(REPO, "test/netns/forge.ts");
    const ipt = ["ip", "netns", "exec", this.ns(from), "iptables", "-w", "-t", "mangle"];
    const tee = ["OUTPUT", "-p", "udp", "-d", this.ip(to), "--dport", "53897", "-j", "TEE", "--gateway", CLIENT_IP];
    const redir = ["PREROUTING", "-p", "udp", "--dport", "53897", "-j", "REDIRECT", "--to-ports", "53999"];
    if (this.clientExec(["iptables", "-w", "-t", "nat", "-A", ...redir]).code !== 0) throw new Error("cannot add the REDIRECT rule in the client namespace");
    const recorder = Bun.spawn(["ip", "netns", "exec", this.clientNs, BUN, forge, "capture", "--port=53999", `--count=${count}`, `--out=${file}`], { stdout: "ignore", stderr: "ignore" });
    try {
      await Bun.sleep(300);
      const added = Bun.spawnSync([...ipt, "-A", ...tee]).exitCode === 0;
      if (!added) throw new Error(`cannot add the TEE rule in ${from}'s namespace`);
      await during();
      await Promise.race([recorder.exited, Bun.sleep(11000)]);
      Bun.spawnSync([...ipt, "-D", ...tee]);
    } finally {
      recorder.kill();
      this.clientExec(["iptables", "-w", "-t", "nat", "-D", ...redir]);
    }
    const lines = existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
    if (lines.length === 0) throw new Error(`nothing ${from} sent to ${to} was recorded in the client namespace (recorder exit ${recorder.exitCode})`);
    return lines;
  }

  log(name: string): string {
    const parts: string[] = [];
    const f = join(this.dir, "log", `drcm-${name}.log`);
    if (existsSync(f)) parts.push(readFileSync(f, "utf8"));
    for (const e of readdirSync(join(this.dir, "log")).filter((x) => x.startsWith(`stderr-${name}-`)).sort()) {
      const t = readFileSync(join(this.dir, "log", e), "utf8");
      if (t.trim()) parts.push(`--- ${e}\n${t}`);
    }
    return parts.join("\n");
  }
  /** Bytes in node `name`'s log now: pass to waitLog to look only at what comes after. */
  logSize(name: string): number {
    const f = join(this.dir, "log", `drcm-${name}.log`);
    return existsSync(f) ? Bun.file(f).size : 0;
  }
  /** The log text of `name` after byte `from`. */
  logSince(name: string, from: number): string {
    const f = join(this.dir, "log", `drcm-${name}.log`);
    return existsSync(f) ? readFileSync(f).subarray(from).toString("utf8") : "";
  }
  /**
   * Waits (polling every 5 ms, bounded) for a log line of `name` after byte `from` matching `re`;
   * returns the epoch ms when it was seen, or -1. drcm writes its log synchronously, so this is
   * within a few ms of the event.
   */
  async waitLog(name: string, re: RegExp, from: number, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < timeoutMs / 5 + 2 && performance.now() - t0 < timeoutMs; i++) {
      if (re.test(this.logSince(name, from))) return nowMs();
      await Bun.sleep(5);
    }
    return -1;
  }
  /** The last `lines` lines of every node's log, for a failed assertion. */
  dumpLogs(lines = 40): string {
    return this.names.map((n) => `===== ${n}\n${this.log(n).split("\n").slice(-lines).join("\n")}`).join("\n");
  }
  note(text: string): void {
    appendFileSync(join(this.dir, "log", "bed-notes.log"), `${new Date(nowMs()).toISOString()} ${text}\n`);
  }

  // ---- teardown ------------------------------------------------------------------------------

  /** Stops everything gracefully (bounded), then removes every trace of the bed. */
  async destroy(): Promise<void> {
    await this.stopAll().catch(() => {});
    this.destroySync();
  }

  destroySync(): void {
    for (const p of this.probes) if (p.exitCode === null && p.signalCode === null) try { process.kill(p.pid, "SIGKILL"); } catch { /* gone */ }
    for (const [, p] of this.procs) if (p.exitCode === null && p.signalCode === null) try { process.kill(p.pid, "SIGCONT"); process.kill(p.pid, "SIGKILL"); } catch { /* gone */ }
    for (const ns of [...this.names.map((n) => this.ns(n)), this.clientNs, this.brNs]) {
      this.killNamespace(ns);
      run(["ip", "netns", "del", ns]);
    }
    if (!process.env.KEEP_TEST_DIR) rmSync(this.dir, { recursive: true, force: true });
    else console.log(`bed files kept in ${this.dir}`);
    liveBeds.delete(this);
  }
}

/** Namespaces of earlier beds whose process is gone (a test killed mid-way): remove them. */
export function removeStaleBeds(): void {
  const list = run(["ip", "netns", "list"]).out;
  for (const line of list.split("\n")) {
    const ns = line.split(" ")[0] ?? "";
    const m = /^dbed(\d+)x\d+-/.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (alive) continue;
    for (const p of run(["ip", "netns", "pids", ns]).out.split(/\s+/).filter((x) => /^\d+$/.test(x)))
      try {
        process.kill(Number(p), "SIGKILL");
      } catch {
        // gone
      }
    run(["ip", "netns", "del", ns]);
  }
}
