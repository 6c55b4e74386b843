// A cluster of real drcm processes on 127.0.0.x for integration tests (no root needed).
// One shared config and key in a temp dir; every node runs `drcm --node=NAME` with its own log file and
// FAKE_AGENT_NODE, so the stand-in agent (test/fixtures/fake-agent.sh) records per node what drcm did.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { randomBytes, createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const DRCM_BIN = process.env.DRCM_BIN ?? join(import.meta.dir, "../../dist/drcm");
const FAKE_AGENT = join(import.meta.dir, "../fixtures/fake-agent.sh");

export interface NodeSpec {
  name: string;
  ip: string;
  /** Extra `[CM_NODE]` lines (node_floating_ip_addrs = ..., node_backup_... = ...). */
  lines: string[];
}

export interface ClusterSpec {
  nodes: NodeSpec[];
  /** Extra `[CM_SERVER]` lines (timings). */
  server?: string[];
  /** Resource sections text; `AGENT` is replaced by the fake agent path, `DIR` by the temp dir. */
  resources: string;
}

let portSeq = 0;
/** A port unlikely to collide with parallel test files: derived from the pid. */
export function freePort(): number {
  portSeq++;
  return 20000 + ((process.pid * 7 + portSeq * 13) % 20000);
}

export { sleep, waitFor } from "../wait.ts";

export class TestCluster {
  readonly dir: string;
  readonly configFile: string;
  readonly port: number;
  private procs = new Map<string, Subprocess>();

  constructor(readonly spec: ClusterSpec) {
    this.dir = mkdtempSync(join(tmpdir(), `drcm-it-${process.pid}-`));
    this.port = freePort();
    for (const d of ["run", "log", "spool", "cron.d", "crontabs", "agent", ".auth", "resources"]) mkdirSync(join(this.dir, d), { recursive: true });
    chmodSync(join(this.dir, ".auth"), 0o700);
    const key = randomBytes(2048);
    writeFileSync(join(this.dir, ".auth/authkey"), key, { mode: 0o600 });
    writeFileSync(join(this.dir, ".auth/authkey.sha1"), createHash("sha1").update(key).digest("hex").slice(0, 40) + "\n", { mode: 0o600 });
    copyFileSync(FAKE_AGENT, join(this.dir, "resources/fake-agent.sh"));
    chmodSync(join(this.dir, "resources/fake-agent.sh"), 0o755);
    writeFileSync(join(this.dir, "crontabs/jobs"), "# test crontab\n");
    const agent = join(this.dir, "resources/fake-agent.sh");
    const text = [
      "[CM_SERVER]",
      `udpport = ${this.port}`,
      `tcpport = ${this.port}`,
      `run_dir = ${this.dir}/run`,
      `log_dir = ${this.dir}/log`,
      `spool_dir = ${this.dir}/spool`,
      "keep_alive_interval = 50ms",
      "dead_time = 800ms",
      "failback_delay = 2s",
      ...(spec.server ?? []),
      "",
      spec.resources.replaceAll("AGENT", agent).replaceAll("DIR", this.dir),
      "",
      ...spec.nodes.flatMap((n) => ["[CM_NODE]", `nodename = ${n.name}`, `hostname = ${n.name}.test`, `keep_alive_ip = ${n.ip}`, ...n.lines, ""]),
    ].join("\n");
    this.configFile = join(this.dir, "cm.cfg");
    writeFileSync(this.configFile, text);
  }

  start(name: string, extraArgs: string[] = []): Subprocess {
    const p = Bun.spawn([DRCM_BIN, `--config-file=${this.configFile}`, `--node=${name}`, `--log-file=drcm-${name}.log`, ...extraArgs], {
      // drcm passes scripts a clean environment: DRCM_PASS_ENV names what the fake agent needs of it.
      env: { ...process.env, FAKE_AGENT_DIR: join(this.dir, "agent"), FAKE_AGENT_NODE: name, DRCM_PASS_ENV: "FAKE_AGENT_DIR FAKE_AGENT_NODE", NO_COLOR: "1" },
      stdout: "ignore",
      stderr: Bun.file(join(this.dir, "log", `stderr-${name}.log`)),
      detached: true,
    });
    this.procs.set(name, p);
    return p;
  }

  startAll(): void {
    for (const n of this.spec.nodes) this.start(n.name);
  }

  signal(name: string, sig: NodeJS.Signals): void {
    const p = this.procs.get(name);
    if (p && p.exitCode === null) process.kill(p.pid, sig);
  }

  async kill(name: string): Promise<void> {
    this.signal(name, "SIGKILL");
    await this.procs.get(name)?.exited;
  }

  /** SIGTERM and wait for the graceful exit; returns the exit code. */
  async stop(name: string, timeoutMs = 15000): Promise<number | null> {
    const p = this.procs.get(name);
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    process.kill(p.pid, "SIGTERM");
    const r = await Promise.race([p.exited, Bun.sleep(timeoutMs).then(() => null)]);
    if (r === null) {
      process.kill(p.pid, "SIGKILL");
      await p.exited;
    }
    return r;
  }

  running(name: string): boolean {
    const p = this.procs.get(name);
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /** Resources the fake agent currently has on this node (state file names). */
  holds(name: string): string[] {
    const d = join(this.dir, "agent", name);
    if (!existsSync(d)) return [];
    return readdirSync(d)
      .filter((f) => f !== "journal.log" && !f.startsWith("BROKEN-"))
      .sort();
  }

  /** True when this node's fake agent holds a resource whose args contain `needle`. */
  has(name: string, needle: string): boolean {
    const key = needle.replace(/[^A-Za-z0-9._-]/g, "_");
    return this.holds(name).some((f) => f.includes(key));
  }

  /** Make every watch of resources whose args contain `needle` fail on this node (fake agent). */
  breakResource(name: string, needle: string): void {
    const key = needle.replace(/[^A-Za-z0-9._-]/g, "_");
    const d = join(this.dir, "agent", name);
    mkdirSync(d, { recursive: true });
    const file = this.holds(name).find((f) => f.includes(key));
    if (!file) throw new Error(`${name} holds nothing matching ${needle}`);
    writeFileSync(join(d, `BROKEN-${file}`), "");
  }

  journal(name: string): string[] {
    const f = join(this.dir, "agent", name, "journal.log");
    return existsSync(f) ? readFileSync(f, "utf8").trim().split("\n").filter(Boolean) : [];
  }

  log(name: string): string {
    const f = join(this.dir, "log", `drcm-${name}.log`);
    const e = join(this.dir, "log", `stderr-${name}.log`);
    return (existsSync(f) ? readFileSync(f, "utf8") : "") + (existsSync(e) ? readFileSync(e, "utf8") : "");
  }

  /** Run the real client against this cluster. */
  async client(args: string[], node?: string): Promise<{ code: number; out: string; ms: number }> {
    const t0 = performance.now();
    const p = Bun.spawn([DRCM_BIN, "--client", `--config-file=${this.configFile}`, ...(node ? [`--node=${node}`] : []), ...args], {
      env: { ...process.env, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), 10000);
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const code = await p.exited;
    clearTimeout(timer);
    return { code, out: out + err, ms: performance.now() - t0 };
  }

  async cleanup(): Promise<void> {
    for (const [, p] of this.procs) {
      if (p.exitCode === null && p.signalCode === null) {
        try {
          process.kill(-p.pid, "SIGKILL");
        } catch {
          try {
            process.kill(p.pid, "SIGKILL");
          } catch {
            // gone
          }
        }
        await p.exited;
      }
    }
    if (!process.env.KEEP_TEST_DIR) rmSync(this.dir, { recursive: true, force: true });
  }
}
