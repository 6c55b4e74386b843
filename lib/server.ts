// The server loop: io events -> core -> actions -> io. It decides nothing itself; lib/core does.
// Everything here is plumbing: load and check the config, open the sockets, feed the core, perform
// what it asks, log and alert what it reports, and stop gracefully.

import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { isIPv4 } from "node:net";
import { join } from "node:path";
import type { CliOptions } from "./cli/args.ts";
import { loadCluster } from "./config/load.ts";
import { checkEnvironment } from "./config/checks.ts";
import { findSelf } from "./config/self.ts";
import { readAuthKey } from "./config/auth.ts";
import type { Cluster, Finding, NodeConfig } from "./config/model.ts";
import { Core, slotsOf } from "./core/node.ts";
import type { Action, ClusterEvent, MessageBody, OperatorCommand, Slot, Step } from "./core/types.ts";
import { encode, decode } from "./wire/codec.ts";
import { PeerGuard } from "./wire/guard.ts";
import { openUdp, type UdpEndpoint } from "./io/udp.ts";
import { createLogger, type Logger } from "./io/log.ts";
import { AgentRunner } from "./io/agents.ts";
import { AlertDispatcher } from "./io/alerts.ts";
import { startControl } from "./io/control.ts";
import { runShell } from "./io/runner.ts";
import { removePidfile, writePidfile } from "./io/daemon.ts";
import { VERSION } from "./version.ts";

const place = (f: Finding): string => `${f.file}${f.line > 0 ? `:${f.line}` : ""}`;
const formatFinding = (f: Finding): string => `${place(f)}: ${f.severity} - ${f.message}`;

/** Monotonic milliseconds: the core's clock. Wall time is only for display and alerts. */
const monotonic = (): number => performance.now();

async function resolveIp(host: string): Promise<string> {
  if (isIPv4(host)) return host;
  const r = await lookup(host, { family: 4 });
  return r.address;
}

export async function runServer(o: CliOptions): Promise<number> {
  const say = (msg: string) => process.stderr.write(`drcm: ${msg}\n`);
  if (!existsSync(o.configFile)) {
    say(`ERROR - Config file not found ${o.configFile} (run drcm --check-config --config-file=${o.configFile} to write a template)`);
    return 1;
  }
  const { cluster, findings } = await loadCluster(o.configFile);
  const envFindings = cluster ? await checkEnvironment(cluster, { node: o.node }) : [];
  const errors = [...findings, ...envFindings].filter((f) => f.severity === "ERROR");
  if (!cluster || errors.length > 0) {
    for (const f of errors) process.stderr.write(`${formatFinding(f)}\n`);
    say("ERROR - CM config file load error: fix the errors above (drcm --check-config lists them all)");
    return 1;
  }
  const selfOrError = findSelf(cluster, o.node);
  if (typeof selfOrError === "string") {
    say(`ERROR - ${selfOrError}`);
    return 1;
  }
  const self = selfOrError;
  const auth = readAuthKey(cluster.etcDir);
  if ("error" in auth) {
    say(`ERROR - ${auth.error}`);
    return 1;
  }

  if (o.daemon) {
    const { daemonize } = await import("./io/daemon.ts");
    return daemonize(process.argv, o.pidfile ?? join(cluster.server.runDir, `drcm-${self.nodename}.pid`));
  }

  const s = cluster.server;
  for (const dir of [s.runDir, s.logDir, s.spoolDir]) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      say(`ERROR - Cannot create directory ${dir}: ${(e as Error).message}`);
      return 1;
    }
  }
  const log = createLogger({
    dir: s.logDir,
    file: o.logFile ?? s.logfileName,
    tag: "drcm",
    enabled: o.logDisable ? false : s.enableLogging,
    maxSize: s.maxLogSize,
    keep: s.numLogsToKeep,
    clear: o.logFileClear || s.clearLog,
    verbose: o.verbose ?? s.verbose,
    debugLevel: o.debugLevel ?? (o.debug ?? s.debug ? Math.max(1, s.debugLevel) : 0),
    stderr: "auto",
  });

  const pidPaths = [join(s.runDir, `drcm-${self.nodename}.pid`)];
  if (o.pidfile) pidPaths.push(o.pidfile);
  // Only this process's own pid is ever removed (a successor may have written its own already).
  const removePidFiles = () => {
    for (const p of pidPaths) removePidfile(p);
  };
  // The pid file is also the guard against a second drcm for the same node (the UDP bind is the other).
  for (const p of pidPaths) {
    try {
      writePidfile(p);
    } catch (e) {
      const err = (e as Error).message;
      say(`ERROR - ${err}`);
      log.error(err);
      removePidFiles();
      await log.close();
      return 1;
    }
  }

  const server = new Server(cluster, self, auth.key, log, o);
  try {
    await server.start();
  } catch (e) {
    const msg = (e as Error).message;
    say(`ERROR - ${msg}`);
    log.error(msg);
    await server.close();
    removePidFiles();
    await log.close();
    return 1;
  }
  const code = await server.done;
  removePidFiles();
  await log.close();
  return code;
}

class Server {
  private core!: Core;
  private udp: UdpEndpoint | null = null;
  private control: { close(): void } | null = null;
  private guard!: PeerGuard;
  private agents: AgentRunner;
  private alerts: AlertDispatcher;
  private slots = new Map<string, Slot>();
  private peerIps = new Map<string, string>();
  private seq = 0;
  private readonly incarnation = Date.now();
  private readonly startedAt = monotonic();
  private timer: ReturnType<typeof setInterval> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private stopping = false;
  private finish!: (code: number) => void;
  readonly done: Promise<number> = new Promise((r) => (this.finish = r));

  constructor(
    private cluster: Cluster,
    private self: NodeConfig,
    private readonly key: Uint8Array,
    private readonly log: Logger,
    private readonly o: CliOptions,
  ) {
    this.agents = new AgentRunner(cluster, self);
    this.alerts = this.makeAlerts(cluster, self);
  }

  private makeAlerts(cluster: Cluster, self: NodeConfig): AlertDispatcher {
    return new AlertDispatcher({
      scripts: cluster.server.alertScripts,
      timeoutMs: cluster.server.alertTimeoutMs,
      self: self.nodename,
      clusterFile: cluster.file,
      log: (level, msg) => this.logAt(level, msg),
    });
  }

  private logAt(level: "info" | "warn" | "error", msg: string): void {
    if (level === "error") this.log.error(msg);
    else if (level === "warn") this.log.warn(msg);
    else this.log.info(msg);
  }

  private get standbyFile(): string {
    return join(this.cluster.server.spoolDir, `standby-${this.self.nodename}`);
  }

  private async resolvePeers(cluster: Cluster): Promise<Map<string, string>> {
    const ips = new Map<string, string>();
    for (const n of cluster.nodes) {
      try {
        ips.set(n.nodename, await resolveIp(n.keepAliveIp));
      } catch {
        throw new Error(`Cannot resolve keep_alive_ip "${n.keepAliveIp}" of node ${n.nodename} (${cluster.file}:${n.lines["keep_alive_ip"] ?? n.line})`);
      }
    }
    return ips;
  }

  async start(): Promise<void> {
    const s = this.cluster.server;
    this.log.info(`Starting drcm ${VERSION} as node ${this.self.nodename} (${this.self.hostname}), config ${this.cluster.file}`);
    this.peerIps = await this.resolvePeers(this.cluster);
    this.guard = new PeerGuard(this.peerIpsWithoutSelf(), { restartGraceMs: s.deadTimeMs });
    for (const slot of slotsOf(this.cluster)) this.slots.set(slot.id, slot);
    const now = monotonic();
    this.persistedStandby = existsSync(this.standbyFile);
    this.core = new Core(this.cluster, this.self.nodename, { now, standby: this.persistedStandby });

    const myIp = this.peerIps.get(this.self.nodename)!;
    const bindHost = s.bindToKeepAliveIp ? myIp : "0.0.0.0";
    this.udp = await openUdp(
      { bindHost, port: s.udpport, sendHost: myIp, onError: (e) => this.udpError(e) },
      (bytes, srcIp) => this.onPacket(bytes, srcIp),
    );
    this.log.info(`Heartbeats on UDP ${bindHost}:${s.udpport} every ${s.keepAliveIntervalMs} ms, dead after ${s.deadTimeMs} ms`);

    this.control = await startControl({
      tcpHost: bindHost,
      tcpPort: s.tcpport,
      unixPath: join(s.runDir, `drcm-${this.self.nodename}.sock`),
      key: this.key,
      api: {
        status: () => this.core.status(monotonic()),
        command: (cmd, by) => this.operatorCommand(cmd, by),
        info: () => ({
          nodename: this.self.nodename,
          version: VERSION,
          uptimeMs: Math.round(monotonic() - this.startedAt),
          rejected: { ...this.guard.counters },
        }),
      },
      log: (level, msg) => this.logAt(level, msg),
    });
    this.log.info(`Control channel on TCP ${bindHost}:${s.tcpport}`);

    this.installSignals();
    // Tick at the heartbeat period (each wake-up costs CPU on every node); the core decides what is due.
    this.timer = setInterval(() => {
      const now = monotonic();
      this.apply(this.core.tick(now));
      this.summarizeRejections(now);
    }, Math.max(5, s.keepAliveIntervalMs));
    if (s.pingTargets.length > 0) this.pingTimer = setInterval(() => void this.pingTargets(), 1000);
    this.apply(this.core.tick(monotonic()));
  }

  private udpErrorsLogged = 0;
  private lastUdpErrorLog = 0;
  /** Dead peers make sends fail all the time: log the first few and then once a minute. */
  private udpError(e: Error): void {
    const now = monotonic();
    if (this.udpErrorsLogged < 5 || now - this.lastUdpErrorLog > 60_000) {
      this.udpErrorsLogged++;
      this.lastUdpErrorLog = now;
      this.log.debug(1, `UDP: ${e.message} (${this.udp?.errors ?? 0} errors so far)`);
    }
    if (!/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|refused|unreachable/i.test(e.message)) this.log.error(`UDP: ${e.stack ?? e.message}`);
  }

  private peerIpsWithoutSelf(): Map<string, string> {
    const m = new Map(this.peerIps);
    m.delete(this.self.nodename);
    return m;
  }

  /** Rejections since the last summary, by "reason from address". */
  private rejectedSince = new Map<string, number>();
  private rejectSeen = new Set<string>();
  private lastRejectSummary = monotonic();

  /**
   * Every rejected packet is counted (status shows the totals). The first of each reason from each
   * address is logged at once — a peer with the wrong key otherwise just looks dead — and the rest
   * once a minute as a summary, so a flood cannot fill the log.
   */
  private rejected(reason: string, srcIp: string, from?: string): void {
    const key = `${reason} from ${srcIp}${from ? ` (claims to be ${from})` : ""}`;
    this.rejectedSince.set(key, (this.rejectedSince.get(key) ?? 0) + 1);
    if (!this.rejectSeen.has(key) && this.rejectSeen.size < 1000) {
      this.rejectSeen.add(key);
      this.log.warn(`Rejected heartbeat packet: ${key}${reason === "bad_mac" ? " — is .auth/authkey the same on every node?" : ""}`);
    }
    this.log.debug(3, `Rejected packet: ${key}`);
  }

  private summarizeRejections(now: number): void {
    if (now - this.lastRejectSummary < 60_000) return;
    this.lastRejectSummary = now;
    if (this.rejectedSince.size === 0) return;
    const parts = [...this.rejectedSince].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, n]) => `${n} ${k}`);
    this.log.warn(`Rejected packets in the last minute: ${parts.join("; ")}`);
    this.rejectedSince.clear();
  }

  private onPacket(bytes: Uint8Array, srcIp: string): void {
    const d = decode(this.key, bytes);
    if (!d.ok) {
      this.guard.reject(d.reason);
      this.rejected(d.reason, srcIp);
      return;
    }
    const now = monotonic();
    const g = this.guard.accept(d.env, srcIp, now);
    if (!g.ok) {
      this.rejected(g.reason, srcIp, d.env.from);
      return;
    }
    this.apply(this.core.onMessage({ from: d.env.from, incarnation: d.env.inc, body: d.env.body }, now));
  }

  /** Perform everything a core step asks for. */
  private apply(step: Step): void {
    // The core hands every peer the same heartbeat object: sign it once (one sequence number for all
    // peers is fine — it only has to grow per sender) instead of once per peer.
    const signed = new Map<MessageBody, Uint8Array | null>();
    for (const m of step.send) {
      let bytes = signed.get(m.body);
      if (bytes === undefined) {
        bytes = this.sign(m.body);
        signed.set(m.body, bytes);
      }
      this.sendBytes(m.to, bytes);
      // An operator command is one datagram: loss or reordering would drop it, and every command is
      // safe to repeat, so send it twice more shortly after (heartbeats repeat by themselves).
      if (m.body.kind === "command") {
        for (const delay of [40, 150]) setTimeout(() => this.sendBytes(m.to, this.sign(m.body)), delay).unref();
      }
    }
    if (step.rejected) this.log.warn(`Operator command refused: ${step.rejected}`);
    for (const e of step.events) this.event(e);
    for (const a of step.actions) void this.perform(a);
    if (step.reloadRequested) void this.reload("operator");
    // Standby survives a restart: it may have changed by a local command or one forwarded by a peer.
    if (this.core.standby !== this.persistedStandby) this.persistStandby();
    this.maybeFinish();
  }

  private sign(body: MessageBody): Uint8Array | null {
    this.seq++;
    try {
      return encode(this.key, { from: this.self.nodename, inc: this.incarnation, seq: this.seq, body });
    } catch (e) {
      this.log.error(`Cannot send ${body.kind}: ${(e as Error).message}`);
      return null;
    }
  }

  private sendBytes(to: string, bytes: Uint8Array | null): void {
    const ip = this.peerIps.get(to);
    if (!ip || !this.udp || !bytes) return;
    this.udp.send(ip, this.cluster.server.udpport, bytes);
  }

  private event(e: ClusterEvent): void {
    const quiet = e.type === "node_suspect";
    if (quiet) this.log.debug(1, e.message);
    else if (e.type === "node_dead" || e.type === "resource_failed" || e.type === "quorum_lost" || e.type === "duplicate_holder")
      this.log.warn(e.message);
    else this.log.info(e.message);
    this.alerts.emit(e, Date.now());
  }

  private async perform(a: Action): Promise<void> {
    const slot = a.type === "fence" ? undefined : this.slots.get(a.slot);
    if (a.type !== "fence") {
      if (!slot) {
        this.apply(this.core.onResult({ id: a.id, ok: false, detail: `unknown slot ${a.slot}` }, monotonic()));
        return;
      }
      if (a.type !== "watch" && a.type !== "probe") this.log.info(`${verb(a.type)} ${slot.kind} ${slot.nickname} (${a.reason})`);
      else this.log.debug(2, `${a.type} ${slot.kind} ${slot.nickname}`);
    } else this.log.info(`Fencing node ${a.node} (${a.reason})`);
    let result;
    try {
      // Fence actions have no slot.
      result = await this.agents.perform(a, slot);
    } catch (e) {
      result = { id: a.id, ok: false, detail: `agent error: ${(e as Error).message}` };
    }
    if (!result.ok && a.type !== "probe") {
      const what = a.type === "fence" ? `fence ${a.node}` : `${a.type} ${slot!.kind} ${slot!.nickname}`;
      this.log.error(`Resource script could not ${what}: ${result.detail}`);
    }
    this.apply(this.core.onResult(result, monotonic()));
  }

  private async operatorCommand(cmd: OperatorCommand, by: string): Promise<{ ok: boolean; message: string }> {
    this.log.info(`Operator command ${JSON.stringify(cmd)} from ${by}`);
    if (cmd.op === "reload") {
      const r = await this.reload(by);
      // Tell the peers too (each re-reads its own copy of the config); this node just did.
      if (r.ok) this.apply({ ...this.core.command(cmd, by, monotonic()), reloadRequested: false });
      return r;
    }
    const step = this.core.command(cmd, by, monotonic());
    this.apply(step);
    if (step.rejected) return { ok: false, message: `${cmd.op} refused by ${this.self.nodename}: ${step.rejected}` };
    return { ok: true, message: `${cmd.op} accepted by ${this.self.nodename}` };
  }

  private persistedStandby = false;
  private persistStandby(): void {
    this.persistedStandby = this.core.standby;
    try {
      if (this.core.standby) writeFileSync(this.standbyFile, `standby since ${new Date().toISOString()}\n`);
      else rmSync(this.standbyFile, { force: true });
    } catch (e) {
      this.log.error(`Cannot record standby state in ${this.standbyFile}: ${(e as Error).message}`);
    }
  }

  /** SIGHUP or operator reload: a config with errors is refused and the running one stays. */
  async reload(by: string): Promise<{ ok: boolean; message: string }> {
    const { cluster, findings } = await loadCluster(this.cluster.file);
    const env = cluster ? await checkEnvironment(cluster, { node: this.o.node ?? this.self.nodename }) : [];
    const errors = [...findings, ...env].filter((f) => f.severity === "ERROR");
    if (!cluster || errors.length > 0) {
      const msg = `Reload refused (asked by ${by}): ${errors.length} error(s) in ${this.cluster.file}; keeping the running config`;
      this.log.error(msg);
      // The logger adds the level word itself.
      for (const f of errors.slice(0, 20)) this.log.error(`${place(f)}: ${f.message}`);
      return { ok: false, message: `${msg}\n${errors.map(formatFinding).join("\n")}` };
    }
    const self = findSelf(cluster, this.self.nodename);
    if (typeof self === "string") {
      const msg = `Reload refused: ${self}`;
      this.log.error(msg);
      return { ok: false, message: msg };
    }
    if (cluster.fingerprint === this.cluster.fingerprint) {
      this.log.info(`Reload (asked by ${by}): config unchanged`);
    }
    const oldPeers = this.peerIpsWithoutSelf();
    const oldDeadTime = this.cluster.server.deadTimeMs;
    try {
      this.peerIps = await this.resolvePeers(cluster);
    } catch (e) {
      const msg = `Reload refused: ${(e as Error).message}`;
      this.log.error(msg);
      return { ok: false, message: msg };
    }
    this.cluster = cluster;
    this.self = self;
    this.slots = new Map(slotsOf(cluster).map((sl) => [sl.id, sl]));
    // Keep the replay state unless the peers themselves changed (a fresh guard would accept recorded packets).
    const peersBefore = JSON.stringify([...oldPeers].sort());
    const peersAfter = JSON.stringify([...this.peerIpsWithoutSelf()].sort());
    if (peersBefore !== peersAfter || cluster.server.deadTimeMs !== oldDeadTime) {
      const counters = { ...this.guard.counters };
      this.guard = new PeerGuard(this.peerIpsWithoutSelf(), { restartGraceMs: cluster.server.deadTimeMs });
      Object.assign(this.guard.counters, counters);
    }
    this.agents.setCluster(cluster, self);
    void this.alerts.drain(1000);
    this.alerts = this.makeAlerts(cluster, self);
    this.apply(this.core.reload(cluster, monotonic()));
    const msg = `Reloaded ${cluster.file} (asked by ${by}), fingerprint ${cluster.fingerprint.slice(0, 12)}`;
    this.log.info(msg);
    return { ok: true, message: msg };
  }

  private async pingTargets(): Promise<void> {
    const targets = this.cluster.server.pingTargets;
    const myIp = this.peerIps.get(this.self.nodename)!;
    const results = await Promise.all(
      targets.map((t) => runShell(`ping -n -q -c 1 -W 1 -I ${myIp} ${t} >/dev/null 2>&1`, { timeoutMs: 2500 })),
    );
    if (this.stopping) return;
    this.apply(this.core.onPingTargets(results.some((r) => r.exitCode === 0), monotonic()));
  }

  private installSignals(): void {
    const graceful = (sig: string) => {
      if (this.stopping) {
        this.log.warn(`Received ${sig} again while stopping; still releasing resources`);
        return;
      }
      this.log.info(`Received ${sig}: releasing resources and stopping`);
      this.stopping = true;
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.apply(this.core.shutdown(monotonic()));
      // Bounded: never hang forever on a script that ignores its timeout.
      const s = this.cluster.server;
      const bound = Math.max(...Object.values(s.actionTimeoutMs)) + 5000;
      setTimeout(() => {
        this.log.error(`Shutdown did not finish within ${bound} ms; exiting anyway`);
        void this.exit(1);
      }, bound).unref();
    };
    process.on("SIGTERM", () => graceful("SIGTERM"));
    process.on("SIGINT", () => graceful("SIGINT"));
    process.on("SIGHUP", () => {
      this.log.info("Received SIGHUP: reloading the config");
      void this.reload("SIGHUP");
    });
    process.on("SIGUSR1", () => {
      this.log.setDebugLevel(Math.max(0, this.log.debugLevel - 1));
      this.log.info(`Debug level lowered to ${this.log.debugLevel}`);
    });
    process.on("SIGUSR2", () => {
      this.log.setDebugLevel(Math.min(5, this.log.debugLevel === 0 ? 2 : this.log.debugLevel + 1));
      this.log.info(`Debug level raised to ${this.log.debugLevel}`);
    });
  }

  private maybeFinish(): void {
    if (this.stopping && this.core.stopped) void this.exit(0);
  }

  private exiting = false;
  private async exit(code: number): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    // Say goodbye once more so peers act at once even if an earlier leaving heartbeat was lost.
    this.apply(this.core.tick(monotonic()));
    await this.alerts.drain(2000);
    this.log.info(`Stopped (exit ${code})`);
    await this.close();
    this.finish(code);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.control?.close();
    this.udp?.close();
  }
}

function verb(t: "start" | "stop"): string {
  return t === "start" ? "Starting" : "Stopping";
}
