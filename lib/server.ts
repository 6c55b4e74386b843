// The daemon: wiring only. Load and check the config, write the pid file, then plug the real adapters
// (sockets, clock, timers, resource scripts, alert scripts, spool files) into the node driver
// (lib/node/driver.ts), which runs the loop the simulator runs too, and hand it the signals.

import { nextIncarnation } from "./io/incarnation.ts";
import { configFileProblem } from "./io/config-file.ts";
import { startHttp, type HttpServer } from "./io/http.ts";
import { renderMetrics } from "./node/metrics-text.ts";
import { statusToJson } from "./client/render-json.ts";
import { PROTOCOL_VERSION } from "./wire/codec.ts";
import { withControlRejections } from "./wire/control-protocol.ts";
import { timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { join } from "node:path";
import type { CliOptions } from "./cli/args.ts";
import { errorLines, loadAndCheck, usableCluster } from "./config/verify.ts";
import { isIPv4, isIPv6 } from "./config/values.ts";
import { errorMessage } from "./error.ts";
import { findSelf } from "./config/self.ts";
import { authPaths, readAuthKey } from "./config/auth.ts";
import { linksOf, type Cluster, type NodeConfig } from "./config/model.ts";
import { createLogger, type Logger } from "./io/log.ts";
import { AgentRunner } from "./io/agents.ts";
import { AlertDispatcher } from "./io/alerts.ts";
import { runShell } from "./io/runner.ts";
import { fileTrust, removePidfile, writePidfile } from "./io/daemon.ts";
import { RealSockets } from "./io/sockets.ts";
import { stateFile } from "./io/state-file.ts";
import { NodeDriver } from "./node/driver.ts";
import type { Agents, Alerts, ConfigSource, LoadedConfig, Ports, Timers } from "./node/ports.ts";


/** Monotonic milliseconds: the core's clock. Wall time is only for display and alerts. */
const monotonic = (): number => performance.now();

async function resolveIp(host: string): Promise<string> {
  if (isIPv4(host) || isIPv6(host)) return host;
  const r = await lookup(host, { family: 4 });
  return r.address;
}

interface Resolved {
  /** nodename -> first link's address. */
  readonly ips: Map<string, string>;
  /** nodename -> every link's address, when keep_alive_ip lists more than one. */
  readonly links?: Map<string, readonly string[]>;
}

async function resolvePeers(cluster: Cluster): Promise<Resolved> {
  const ips = new Map<string, string>();
  const links = new Map<string, readonly string[]>();
  for (const n of cluster.nodes) {
    const all: string[] = [];
    for (const host of linksOf(n)) {
      try {
        all.push(await resolveIp(host));
      } catch {
        throw new Error(`Cannot resolve keep_alive_ip "${host}" of node ${n.nodename} (${cluster.file}:${n.lines["keep_alive_ip"] ?? n.line})`);
      }
    }
    ips.set(n.nodename, all[0]!);
    links.set(n.nodename, all);
  }
  return [...links.values()].some((l) => l.length > 1) ? { ips, links } : { ips };
}

/**
 * Exit status of a start refused for the configuration (cm.cfg, the node, the authkey, file trust):
 * EX_CONFIG of sysexits.h. The systemd unit lists it in RestartPreventExitStatus, so a broken config
 * fails `systemctl start` visibly instead of restarting every few seconds; the init.d script reports it.
 */
export const EXIT_CONFIG = 78;

export async function runServer(o: CliOptions): Promise<number> {
  const say = (msg: string) => process.stderr.write(`drcm: ${msg}\n`);
  const problem = configFileProblem(o.configFile);
  if (problem !== null) {
    say(`ERROR - ${problem.message}${problem.missing ? ` (run drcm --check-config --config-file=${o.configFile} to write a template)` : ""}`);
    return EXIT_CONFIG;
  }
  const checked = await loadAndCheck(o.configFile, { node: o.node });
  const cluster = usableCluster(checked);
  if (cluster === null) {
    for (const l of errorLines(checked)) process.stderr.write(`${l}\n`);
    say("ERROR - CM config file load error: fix the errors above (drcm --check-config lists them all)");
    return EXIT_CONFIG;
  }
  const selfOrError = findSelf(cluster, o.node);
  if (typeof selfOrError === "string") {
    say(`ERROR - ${selfOrError}`);
    return EXIT_CONFIG;
  }
  const self = selfOrError;
  const auth = readAuthKey(cluster.etcDir);
  if ("error" in auth) {
    say(`ERROR - ${auth.error}`);
    return EXIT_CONFIG;
  }
  // --- File trust (lib/config/trust.ts): as root, refuse files and directories others could change. ---
  const trust = fileTrust(cluster);
  for (const l of trust.lines) say(`${trust.refuse ? "ERROR" : "WARNING"} - ${l}`);
  if (trust.refuse) {
    say(`ERROR - Refusing to start as root: ${trust.lines.length} file(s) or directories above could be changed by other users (drcm --check-config lists them)`);
    return EXIT_CONFIG;
  }
  // --- end of file trust ---

  if (o.daemon) {
    const { daemonize } = await import("./io/daemon.ts");
    return daemonize(process.argv, o.pidfile ?? join(cluster.server.runDir, `drcm-${self.nodename}.pid`));
  }

  const s = cluster.server;
  for (const dir of [s.runDir, s.logDir, s.spoolDir]) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      say(`ERROR - Cannot create directory ${dir}: ${errorMessage(e)}`);
      return 1;
    }
  }
  const log = createLogger({
    dir: s.logDir,
    file: o.logFile ?? s.logfileName,
    // service_name, as 1.x: the program tag of every line (default drcm_server).
    tag: s.serviceName,
    logLevel: o.logLevel ?? s.logLevel,
    verboseLevel: o.verboseLevel ?? s.verboseLevel,
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
      const err = errorMessage(e);
      say(`ERROR - ${err}`);
      log.error(err);
      removePidFiles();
      await log.close();
      return 1;
    }
  }

  let ips: Resolved;
  try {
    ips = await resolvePeers(cluster);
  } catch (e) {
    say(`ERROR - ${errorMessage(e)}`);
    log.error(errorMessage(e));
    removePidFiles();
    await log.close();
    return 1;
  }
  const daemon = new Daemon(cluster, self, auth.key, ips, log, o);
  const error = await daemon.start();
  if (error !== null) {
    say(`ERROR - ${error}`);
    log.error(error);
    daemon.close();
    removePidFiles();
    await log.close();
    return 1;
  }
  const code = await daemon.done;
  removePidFiles();
  await log.close();
  return code;
}

/**
 * The config file again, checked as at start, with every keep_alive_ip resolved. A changed authkey
 * refuses the reload by name: the running key stays in use until a restart, and saying "reloaded"
 * while signing with the old key would hide that (nodes on different keys do not hear each other, so
 * a key change is a restart of every node anyway).
 */
function fileConfigSource(file: string, nodeOption: string | null, runningKey: Uint8Array): ConfigSource {
  const load = async (selfName: string): Promise<LoadedConfig> => {
    const checked = await loadAndCheck(file, { node: nodeOption ?? selfName });
    const cluster = usableCluster(checked);
    if (cluster === null) return { ok: false, message: `${checked.errors.length} error(s) in ${file}`, details: errorLines(checked) };
    const auth = readAuthKey(cluster.etcDir);
    if ("error" in auth) return { ok: false, message: auth.error, details: [] };
    if (!timingSafeEqualBytes(auth.key, runningKey))
      return {
        ok: false,
        message: `${authPaths(cluster.etcDir).key} changed since this daemon started: a reload cannot change the key; restart drcm on every node to use the new one (until then the running key stays in use)`,
        details: [],
      };
    const self = findSelf(cluster, selfName);
    if (typeof self === "string") return { ok: false, message: self, details: [] };
    // File trust, as at start (lib/config/trust.ts).
    const trust = fileTrust(cluster);
    if (trust.refuse) return { ok: false, message: `${trust.lines.length} untrusted file(s): ${trust.lines[0]}`, details: trust.lines };
    try {
      return { ok: true, cluster, self, ...(await resolvePeers(cluster)) };
    } catch (e) {
      return { ok: false, message: errorMessage(e), details: [] };
    }
  };
  return { load: (selfName, done) => void load(selfName).then(done, (e: unknown) => done({ ok: false, message: errorMessage(e), details: [] })) };
}

const timingSafeEqualBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

const realTimers: Timers = {
  every(ms, f) {
    const h = setInterval(f, ms);
    return { cancel: () => clearInterval(h) };
  },
  aligned(ms, f) {
    let on = true;
    let h: ReturnType<typeof setTimeout> | null = null;
    // The next multiple of `ms` on the wall clock (a clock step moves the phase once, never leaves a gap longer than `ms`).
    const next = () => {
      const d = ms - (Date.now() % ms);
      h = setTimeout(fire, d < 1 ? d + ms : d);
    };
    const fire = () => {
      if (!on) return;
      next();
      f();
    };
    next();
    return {
      cancel: () => {
        on = false;
        if (h !== null) clearTimeout(h);
      },
    };
  },
  after(ms, f) {
    // Never keeps the process alive on its own: the sockets do while the daemon runs.
    const h = setTimeout(f, ms);
    h.unref();
    return { cancel: () => clearTimeout(h) };
  },
};

class Daemon {
  readonly driver: NodeDriver;
  readonly #sockets: RealSockets;
  #alerts: AlertDispatcher;
  #finish!: (code: number) => void;
  readonly done: Promise<number> = new Promise((r) => (this.#finish = r));

  constructor(
    cluster: Cluster,
    self: NodeConfig,
    key: Uint8Array,
    private readonly resolved: Resolved,
    private readonly log: Logger,
    o: CliOptions,
  ) {
    const logAt = (level: "info" | "warn" | "error", msg: string) => this.#logAt(level, msg);
    this.#alerts = this.#makeAlerts(cluster, self);
    const runner = new AgentRunner(cluster, self);
    const agents: Agents = {
      perform: (a, slot, done) =>
        void runner.perform(a, slot).then(done, (e: unknown) => done({ id: a.id, ok: false, detail: `agent error: ${errorMessage(e)}` })),
      setCluster: (c, s) => runner.setCluster(c, s),
    };
    const alerts: Alerts = {
      emit: (e, wall, alert) => {
        if (alert) this.#alerts.emit(e, wall);
      },
      setCluster: (c, s) => {
        void this.#alerts.drain(1000);
        this.#alerts = this.#makeAlerts(c, s);
      },
      drain: (ms, done) => void this.#alerts.drain(ms).then(done, done),
    };
    this.#sockets = new RealSockets({
      key,
      self: self.nodename,
      noncesFile: join(cluster.server.spoolDir, `control-nonces-${self.nodename}.json`),
      unixPath: join(cluster.server.runDir, `drcm-${self.nodename}.sock`),
      api: {
        status: () => this.driver.status(),
        events: (since) => this.driver.recent.since(since),
        command: (cmd, by) => new Promise((resolve) => this.driver.command(cmd, by, resolve)),
        info: () => this.driver.info(),
      },
      onPacket: (bytes, srcIp, port) => this.driver.onPacket(bytes, srcIp, port),
      onUdpError: (e) => this.#udpError(e),
      log: logAt,
    });
    const ports: Ports = {
      clock: { now: monotonic, wall: () => Date.now() },
      timers: realTimers,
      sockets: this.#sockets,
      agents,
      alerts,
      store: stateFile(cluster.server.spoolDir, self.nodename, log),
      config: fileConfigSource(cluster.file, o.node, key),
      log,
      ping: {
        check: (targets, fromIp, done) =>
          void Promise.all(targets.map((t) => runShell(`ping -n -q -c 1 -W 1 -I ${fromIp} ${t} >/dev/null 2>&1`, { timeoutMs: 2500 }))).then(
            (rs) => done(rs.some((r) => r.exitCode === 0)),
            () => done(false),
          ),
      },
    };
    this.driver = new NodeDriver(ports, { cluster, self, key, ...resolved, incarnation: nextIncarnation(cluster.server.spoolDir, self.nodename, Date.now(), log), debugFromCli: o.debugLevel !== null || o.debug !== null });
    this.driver.onExit((code) => {
      this.#http?.close();
      this.#finish(code);
    });
  }

  #makeAlerts(cluster: Cluster, self: NodeConfig): AlertDispatcher {
    return new AlertDispatcher({
      scripts: cluster.server.alertScripts,
      timeoutMs: cluster.server.alertTimeoutMs,
      self: self.nodename,
      clusterFile: cluster.file,
      log: (level, msg) => this.#logAt(level, msg),
    });
  }

  #logAt(level: "info" | "warn" | "error", msg: string): void {
    if (level === "error") this.log.error(msg);
    else if (level === "warn") this.log.warn(msg);
    else this.log.info(msg);
  }

  /** null once running, else why it could not start. */
  start(): Promise<string | null> {
    return new Promise((resolve) =>
      this.driver.start((error) => {
        if (error === null) error = this.#startHttp();
        if (error === null) this.#installSignals();
        else this.driver.close();
        resolve(error);
      }),
    );
  }

  close(): void {
    this.#http?.close();
    this.driver.close();
  }

  #http: HttpServer | null = null;
  readonly #startedAtWall = Date.now();

  /** The read-only HTTP side, when http_port is set: null once listening, else why not. */
  #startHttp(): string | null {
    const s = this.driver.cluster.server;
    if (s.httpPort === null) return null;
    const self = this.driver.self.nodename;
    const myIp = this.resolved.ips.get(self)!;
    const host = s.httpBind === "localhost" ? "127.0.0.1" : s.httpBind === "all" ? (myIp.includes(":") ? "::" : "0.0.0.0") : myIp;
    try {
      this.#http = startHttp({
        host,
        port: s.httpPort,
        log: (level, msg) => this.#logAt(level, msg),
        api: {
          status: () => this.driver.status(),
          info: () => withControlRejections(this.driver.info(), this.#sockets.controlRejected()),
          statusJson: (status, info, now) => statusToJson(status, info, now),
          metrics: (status, info) =>
            renderMetrics({ status, info, metrics: this.driver.metrics, fingerprint: this.driver.cluster.fingerprint, protocol: PROTOCOL_VERSION, startedAtMs: this.#startedAtWall }),
          events: (since) => this.driver.recent.since(since),
        },
      });
    } catch (e) {
      return `Cannot listen on HTTP ${host}:${s.httpPort} (http_port): ${errorMessage(e)}`;
    }
    this.log.info(`HTTP on ${host.includes(":") ? `[${host}]` : host}:${this.#http.port}: /metrics, /status.json and the status page`);
    return null;
  }

  #udpErrorsLogged = 0;
  #lastUdpErrorLog = 0;
  /** Dead peers make sends fail all the time: log the first few and then once a minute. */
  #udpError(e: Error): void {
    const now = monotonic();
    if (this.#udpErrorsLogged < 5 || now - this.#lastUdpErrorLog > 60_000) {
      this.#udpErrorsLogged++;
      this.#lastUdpErrorLog = now;
      this.log.debug(1, `UDP: ${e.message} (${this.#sockets.udp?.errors ?? 0} errors so far)`);
    }
    if (!/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|refused|unreachable/i.test(e.message)) this.log.error(`UDP: ${e.stack ?? e.message}`);
  }

  #installSignals(): void {
    process.on("SIGTERM", () => this.driver.shutdown("SIGTERM"));
    process.on("SIGINT", () => this.driver.shutdown("SIGINT"));
    process.on("SIGHUP", () => {
      this.log.info("Received SIGHUP: reloading the config");
      this.driver.reload("SIGHUP", () => {});
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
}
