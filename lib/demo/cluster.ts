// The demo's running cluster: one real drcm daemon per node (each in its own process group), the
// real client for cm_stat and status --json, HTTP probes of the demo applications, and a cleanup
// that leaves nothing behind (graceful stop, then leftovers by pid file and by command line).
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { APPS, type DemoLayout } from "./layout.ts";
import { drcmCommand } from "./self.ts";

/** Where the demo's processes run and how it looks at HTTP: loopback, or network namespaces (--netns). */
export interface DemoNet {
  /** Argv prefix that runs a command on a node (ip netns exec ...), [] on loopback. */
  on(node: string): string[];
  fetch(url: string, timeoutMs: number): Promise<string | null>;
  /** The node's machine dies / comes back (netns: its link goes down / up). */
  crashed(node: string): void;
  restarting(node: string): void;
  /** Removes what the net made (namespaces, helper processes). */
  destroy(): Promise<void>;
}

const loopbackNet: DemoNet = {
  on: () => [],
  async fetch(url, timeoutMs) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      return (await r.text()).trim();
    } catch {
      return null;
    }
  },
  crashed: () => {},
  restarting: () => {},
  destroy: async () => {},
};

/** Who holds each resource, as one node reports it (`status --json`). */
export type Holders = Record<string, string[]>;

export class DemoCluster {
  private readonly procs = new Map<string, Subprocess>();
  private cleaned: Promise<void> | null = null;

  constructor(
    readonly layout: DemoLayout,
    readonly net: DemoNet = loopbackNet,
  ) {}

  start(name: string): void {
    const L = this.layout;
    if (this.procs.has(name)) this.net.restarting(name);
    const p = Bun.spawn([...this.net.on(name), ...drcmCommand(), `--config-file=${L.configFile}`, `--node=${name}`, `--log-file=drcm-${name}.log`], {
      env: { ...process.env, NO_COLOR: "1" },
      cwd: L.dir,
      stdin: "ignore",
      stdout: "ignore",
      stderr: Bun.file(join(L.dir, "log", `stderr-${name}.log`)),
      detached: true,
    });
    this.procs.set(name, p);
  }

  pid(name: string): number | null {
    const p = this.procs.get(name);
    return p && p.exitCode === null && p.signalCode === null ? p.pid : null;
  }

  pids(): number[] {
    return this.layout.nodes.map((n) => this.pid(n.name)).filter((p): p is number => p !== null);
  }

  /** Daemons that exited on their own (a crash the demo did not cause). */
  exited(): string[] {
    return [...this.procs].filter(([, p]) => p.exitCode !== null).map(([n, p]) => `${n} (exit ${p.exitCode})`);
  }

  /** The node's machine "dies": SIGKILL to its drcm and to the applications it runs. */
  async crash(name: string): Promise<void> {
    const p = this.procs.get(name);
    if (p && p.exitCode === null && p.signalCode === null) {
      killGroup(p.pid, "SIGKILL");
      await p.exited;
    }
    for (const app of APPS) killPidFile(this.layout.pidFile(app, name), "SIGKILL");
    this.net.crashed(name);
  }

  /** The real client, as a user would run it. */
  async client(args: string[], node = "node2", timeoutMs = 5000): Promise<{ code: number; out: string; err: string }> {
    const p = Bun.spawn([...this.net.on(node), ...drcmCommand(), "--client", `--config-file=${this.layout.configFile}`, `--node=${node}`, ...args], {
      env: { ...process.env, NO_COLOR: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const code = await p.exited;
    clearTimeout(timer);
    return { code, out, err };
  }

  async cmStat(node = "node2"): Promise<string> {
    const r = await this.client(["--command=cm_stat"], node);
    return (r.out + r.err).trimEnd();
  }

  /** Holders per nickname and alive nodes, from one node's `status --json`; null when it does not answer. */
  async holders(node = "node2"): Promise<{ holders: Holders; up: string[]; health: string } | null> {
    const r = await this.client(["--json", "--command=status"], node);
    if (r.code !== 0) return null;
    try {
      const doc = JSON.parse(r.out) as {
        nodes: { nodename: string; up: boolean }[];
        resources: { nickname: string; holders: { node: string }[] }[];
        health: { state: string };
      };
      const holders: Holders = {};
      for (const res of doc.resources) (holders[res.nickname] ??= []).push(...res.holders.map((h) => h.node));
      return { holders, up: doc.nodes.filter((n) => n.up).map((n) => n.nodename), health: doc.health.state };
    } catch {
      return null;
    }
  }

  /** What a demo application answers on a node's address, or null when nothing answers. */
  async http(app: "web" | "ledger", node: string, timeoutMs = 300): Promise<string | null> {
    const ip = this.layout.nodes.find((n) => n.name === node)?.ip;
    const port = app === "web" ? this.layout.webPort : this.layout.ledgerPort;
    return this.net.fetch(`http://${ip}:${port}/`, timeoutMs);
  }

  /** Stops everything and removes the directory; safe to call more than once and from a signal handler. */
  cleanup(): Promise<void> {
    this.cleaned ??= this.doCleanup();
    return this.cleaned;
  }

  private async doCleanup(): Promise<void> {
    // Graceful first: a stopping daemon stops its applications (keep_applications = 0) and removes its crontab.
    const running = [...this.procs.values()].filter((p) => p.exitCode === null && p.signalCode === null);
    for (const p of running) signal(p.pid, "SIGTERM");
    await Promise.race([Promise.all(running.map((p) => p.exited)), Bun.sleep(8000)]);
    for (const p of running) if (p.exitCode === null && p.signalCode === null) killGroup(p.pid, "SIGKILL");
    await Promise.race([Promise.all(running.map((p) => p.exited)), Bun.sleep(2000)]);
    // Leftovers: applications by pid file, then anything still naming the demo directory.
    const run = join(this.layout.dir, "run");
    if (existsSync(run)) for (const f of readdirSync(run)) if (f.endsWith(".pid")) killPidFile(join(run, f), "SIGKILL");
    for (const pid of demoProcesses(this.layout.dir)) signal(pid, "SIGKILL");
    for (let i = 0; i < 50 && demoProcesses(this.layout.dir).length > 0; i++) await Bun.sleep(20);
    await this.net.destroy();
    rmSync(this.layout.dir, { recursive: true, force: true });
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    signal(pid, sig);
  }
}

function killPidFile(file: string, sig: NodeJS.Signals): void {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10);
    if (pid > 1) signal(pid, sig);
  } catch {
    // no pid file: nothing to kill
  }
}

/** Processes (other than this one) whose command line names the demo directory. */
export function demoProcesses(dir: string): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(dir)) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
