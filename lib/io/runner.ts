// The only place that spawns resource commands. A command is one string for /bin/sh -c (1.x used
// system()); callers quote every value they insert (agents.ts), only users' programs are shell text.
//
// The command gets a clean, documented environment (scriptEnvironment), not the daemon's: no
// NOTIFY_SOCKET, no variables of whatever started drcm (a test, a shell with secrets).
//
// Each command runs in its own process group so a timeout can end everything it started
// (SIGTERM to the group and to every descendant found through /proc ppid links, which includes
// children that called setsid: RunTree; SIGKILL after a grace period). A command that exits normally may leave
// daemons behind on purpose (an application's start command), so the group is killed only on timeout.
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { syslogStamp } from "../stamp.ts";
import { errorMessage } from "../error.ts";
import { currentDaemonUser } from "./passwd.ts";

export interface RunResult {
  /** Exit code of the shell; null when it was ended by a signal. */
  exitCode: number | null;
  /** Signal that ended the shell (e.g. "SIGTERM"), or null. */
  signal: string | null;
  /** The timeout fired and the process group was killed. */
  timedOut: boolean;
  /** Whole run, until the process group was gone (so a timeout's grace period included). */
  durationMs: number;
  /** After a timeout: the signal that ended the group (SIGKILL when it outlived the grace period). */
  killedWith?: "SIGTERM" | "SIGKILL";
  /** After a timeout: the grace period between SIGTERM and SIGKILL. */
  graceMs?: number;
  /** stdout and stderr interleaved, capped to OUTPUT_CAP bytes (the tail is kept: errors come last). */
  output: string;
}

export interface RunOptions {
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL to the group after a timeout. */
  graceMs?: number;
  /** Variables on top of the clean script environment (scriptEnvironment); they win. */
  env?: Record<string, string>;
  /** Append the output, one timestamped line each, plus a result line. */
  logFile?: string;
  cwd?: string;
}

/** PATH of every command drcm runs (the daemon's own PATH is not passed on). */
export const SCRIPT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Settings of the shipped agents (packaging/doc/resource-agents.md, "Environment:" of each agent)
 * and TZ: taken from the daemon's environment when set there (e.g. in /etc/sysconfig/drcm).
 */
export const AGENT_SETTINGS: readonly string[] = [
  "ARPING_COUNT",
  "ARPING_INTERVAL",
  "ARPING_WAIT",
  "NA_COUNT",
  "NA_INTERVAL",
  "NA_TOOL",
  "NA_SEND_UA",
  "DRCM_SYSTEM_CRONTAB",
  "DRCM_INITD_DIR",
  "NFS_MOUNT_OPTIONS",
  "CIFS_MOUNT_OPTIONS",
  "TZ",
];

/** Daemon variable naming more daemon variables (space or comma separated) to pass to every command. */
export const PASS_ENV = "DRCM_PASS_ENV";

let runHome: string | undefined;
/** HOME of the user the commands run as (this process's user, from the passwd database). */
function homeOfRunUser(): string {
  runHome ??= currentDaemonUser().homedir;
  return runHome;
}

/**
 * The whole environment of a command: PATH=SCRIPT_PATH, LANG=C and LC_ALL=C (agents parse the
 * output of ip, mount and systemctl; messages are English anyway), HOME of the run user, the
 * AGENT_SETTINGS and the names listed in DRCM_PASS_ENV that the daemon's environment (`from`)
 * has, then `extra` (the DRCM_* variables of the run), which wins. Nothing else of the daemon's.
 */
export function scriptEnvironment(extra: Record<string, string> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: SCRIPT_PATH, LANG: "C", LC_ALL: "C", HOME: homeOfRunUser() };
  const named = (from[PASS_ENV] ?? "").split(/[\s,]+/).filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  for (const name of [...AGENT_SETTINGS, ...named]) {
    const v = from[name];
    if (v !== undefined && name !== PASS_ENV) env[name] = v;
  }
  return { ...env, ...extra };
}

export const OUTPUT_CAP = 64 * 1024;
const DEFAULT_GRACE_MS = 2000;
/** After the shell exits, how long to keep reading what it already wrote before returning. */
const DRAIN_MS = 100;
const POLL_MS = 25;

/** 1.x log time stamp: `Mon DD HH:MM:SS`, local time. */
export const logStamp = syslogStamp;

/** One line saying how a run ended, used in logs and ActionResult.detail. */
export function describeResult(r: RunResult, timeoutMs: number): string {
  if (r.timedOut) {
    const how = r.killedWith === "SIGKILL" ? ` (SIGKILL after a ${r.graceMs ?? DEFAULT_GRACE_MS} ms grace)` : r.killedWith === "SIGTERM" ? " (SIGTERM)" : "";
    return `timed out after ${timeoutMs} ms, killed after ${Math.round(r.durationMs)} ms${how}`;
  }
  if (r.signal !== null) return `killed by ${r.signal} after ${Math.round(r.durationMs)} ms`;
  if (r.exitCode === 0) return `exit 0 in ${Math.round(r.durationMs)} ms`;
  const last = lastLine(r.output);
  return last === "" ? `exit ${r.exitCode}` : `exit ${r.exitCode}: ${last}`;
}

/** The last `n` non-empty lines of a script's output (kept with a failed action). */
export function lastLines(output: string, n: number): string[] {
  return output.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "").slice(-n);
}

export function lastLine(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const last = lines[lines.length - 1] ?? "";
  return last.length > 200 ? `${last.slice(0, 200)}...` : last;
}

/** One line of /proc/<pid>/stat: what the timeout kill needs. */
interface ProcInfo {
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  /** Start time in clock ticks since boot: with the pid, identifies the process (pids are reused). */
  readonly start: string;
}

/** Every process in /proc, or null without /proc. */
function readProcs(): Map<number, ProcInfo> | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const out = new Map<number, ProcInfo>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Fields after "(comm)": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
      // cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime ...
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(pid), { state: f[0]!, ppid: Number(f[1]), pgrp: Number(f[2]), start: f[19]! });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/**
 * The processes of one run that a timeout must end: its process group, plus every descendant of
 * the shell found through ppid links, which includes children that left the group with setsid
 * or setpgid. A descendant is remembered by pid and start time, so it stays known (and a reused
 * pid is never signalled) after its parent dies and it is reparented; its own descendants are
 * found as long as it lives. A process that was reparented to init (or a subreaper) before drcm
 * first looked, such as a double-forked daemon, has no ppid link to the run and is not found.
 */
class RunTree {
  private readonly known = new Map<number, string>();
  constructor(private readonly pgid: number) {}

  /** Rescans /proc: adds the new descendants; returns the live members (null without /proc). */
  scan(): { procs: Map<number, ProcInfo>; alive: number[] } | null {
    const procs = readProcs();
    if (procs === null) return null;
    for (const [pid, start] of this.known) if (procs.get(pid)?.start !== start) this.known.delete(pid);
    const root = procs.get(this.pgid);
    if (root !== undefined && !this.known.has(this.pgid)) this.known.set(this.pgid, root.start);
    // Breadth-first from what is known, until nothing new (bounded by the process count).
    let added = true;
    for (let round = 0; added && round < 64; round++) {
      added = false;
      for (const [pid, p] of procs) {
        if (this.known.has(pid) || !this.known.has(p.ppid)) continue;
        this.known.set(pid, p.start);
        added = true;
      }
    }
    // A grandchild orphaned to a PID 1 that does not reap (a container) stays a zombie forever:
    // it must not count, or every timeout would wait out the whole grace and need SIGKILL.
    const alive: number[] = [];
    for (const [pid, p] of procs) {
      if (p.state === "Z") continue;
      if (p.pgrp === this.pgid || this.known.has(pid)) alive.push(pid);
    }
    return { procs, alive };
  }

  /** Signals the group, every known live descendant, and the group of each one that leads its own. */
  kill(sig: NodeJS.Signals): boolean {
    killGroup(this.pgid, sig);
    const s = this.scan();
    if (s === null) return groupAlive(this.pgid);
    for (const pid of s.alive) {
      const p = s.procs.get(pid)!;
      if (p.pgrp === pid && pid !== this.pgid) killGroup(pid, sig);
      try {
        process.kill(pid, sig);
      } catch {
        // Gone already.
      }
    }
    return s.alive.length > 0;
  }

  /** Does any live (non-zombie) member remain? Rescans, so late children are found. */
  alive(): boolean {
    const s = this.scan();
    return s === null ? groupAlive(this.pgid) : s.alive.length > 0;
  }
}

/** Without /proc: does any process of group `pgid` remain? */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Keeps the tail of the output within OUTPUT_CAP bytes. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;
  add(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > OUTPUT_CAP && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - OUTPUT_CAP;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }
  text(): string {
    const body = Buffer.concat(this.chunks).toString("utf8");
    return this.dropped > 0 ? `[output cut: first ${this.dropped} bytes dropped]\n${body}` : body;
  }
}

/**
 * Appends a finished run to a resource log: each output line, then the result line, each as
 * `Mon DD HH:MM:SS <command>: <line>`. Used directly by callers that log only some runs.
 */
export function appendRunLog(file: string, command: string, r: RunResult, timeoutMs: number): void {
  const stamp = logStamp(new Date());
  const lines = r.output.split("\n").filter((l, i, all) => !(l === "" && i === all.length - 1));
  const text = [...lines, describeResult(r, timeoutMs)].map((l) => `${stamp} ${command}: ${l}\n`).join("");
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, text);
  } catch {
    // A full or missing log directory must not turn a successful action into a failure.
  }
}

/**
 * Runs `command` with /bin/sh -c in its own process group. Never throws for a failing command: a
 * spawn error comes back as exit code 127 with the reason in `output`.
 */
export async function runShell(command: string, opts: RunOptions): Promise<RunResult> {
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const started = performance.now();
  const tail = new OutputTail();
  let collecting = true;

  const finish = (r: Omit<RunResult, "output" | "durationMs">): RunResult => {
    collecting = false;
    const result: RunResult = { ...r, durationMs: performance.now() - started, output: tail.text() };
    if (opts.logFile !== undefined) appendRunLog(opts.logFile, command, result, opts.timeoutMs);
    return result;
  };

  let child;
  try {
    child = spawn("/bin/sh", ["-c", command], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: scriptEnvironment(opts.env),
      cwd: opts.cwd,
    });
  } catch (e) {
    tail.add(Buffer.from(`Cannot run /bin/sh: ${errorMessage(e)}\n`));
    return finish({ exitCode: 127, signal: null, timedOut: false });
  }

  // Daemons started by the command may keep the pipes open for their whole life: keep reading
  // (and discarding) so they never get SIGPIPE, but stop recording once this run has returned.
  const closed: Promise<void>[] = [];
  for (const s of [child.stdout, child.stderr] as (Readable | null)[]) {
    if (s === null) continue;
    s.on("data", (b: Buffer) => {
      if (collecting) tail.add(b);
    });
    s.on("error", () => {});
    closed.push(new Promise((r) => s.once("close", () => r())));
  }

  const exited = new Promise<{ code: number | null; signal: string | null; error?: string }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", (e) => resolve({ code: 127, signal: null, error: e.message }));
  });

  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), opts.timeoutMs);
  });

  const first = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  const pgid = child.pid;

  if (first === "timeout" && pgid !== undefined) {
    // Find the whole tree while the shell still lives (its children's ppid still points to it),
    // then signal it; rescans during the grace period catch children started meanwhile.
    const tree = new RunTree(pgid);
    tree.scan();
    tree.kill("SIGTERM");
    const deadline = performance.now() + graceMs;
    while (tree.alive() && performance.now() < deadline) await sleep(POLL_MS);
    const stubborn = tree.alive();
    if (stubborn) {
      // A few rounds: a member may fork between a scan and its SIGKILL.
      for (let round = 0; round < 3 && tree.kill("SIGKILL"); round++) await sleep(POLL_MS);
    }
    const end = await exited;
    await Promise.race([Promise.all(closed), sleep(DRAIN_MS)]);
    return finish({ exitCode: end.code, signal: end.signal, timedOut: true, killedWith: stubborn ? "SIGKILL" : "SIGTERM", graceMs });
  }

  const end = first === "timeout" ? await exited : first;
  if (end.error !== undefined) tail.add(Buffer.from(`Cannot run /bin/sh: ${end.error}\n`));
  await Promise.race([Promise.all(closed), sleep(DRAIN_MS)]);
  for (const s of [child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  return finish({ exitCode: end.code, signal: end.signal, timedOut: false });
}
