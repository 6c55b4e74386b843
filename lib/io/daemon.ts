// `drcm --daemon --pidfile=PATH` for the init.d script. Bun cannot fork(), so the parent re-executes itself
// detached (setsid, stdio away from the terminal) without --daemon and waits until the child has written its
// pid to the pidfile (the server does that once it runs) or has died, so `service drcm start` reports the truth.
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Cluster } from "../config/model.ts";
import { clusterTrustTargets, trustFindings, trustLine, type TrustFs } from "../config/trust.ts";
import { replaceFile } from "./replace-file.ts";
import { errnoCode, errorMessage } from "../error.ts";
import { passwdEntry } from "./passwd.ts";

/** How long the parent waits for the pidfile before it gives up. */
const READY_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

/** The pid in a pidfile, or null when it is missing or does not hold a number. */
export function readPidfile(path: string): number | null {
  try {
    const t = readFileSync(path, "utf8").trim();
    return /^\d+$/.test(t) ? Number(t) : null;
  } catch {
    return null;
  }
}

/** True when a process with this pid exists (EPERM still means it exists). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === "EPERM";
  }
}

const realOr = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/** True when `script` is no real file: a compiled binary's argv[1] is a /$bunfs/ path. */
const isCompiledScript = (script: string | undefined): boolean =>
  script === undefined || script.startsWith("/$bunfs/") || script.startsWith("B:/~BUN") || !existsSync(script);

/**
 * True when pid runs this drcm program: its executable is ours (also after an upgrade replaced the file) and,
 * when running from source, it runs the same script. A stale pidfile whose pid the kernel has since given to
 * another program (even `vim /etc/drcm/cm.cfg`) must not block a start.
 */
function isDrcm(pid: number, script: string | undefined = process.argv[1]): boolean {
  let cmd: string[];
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    // No /proc: only the pid is left to go by. Gone: not drcm.
    return existsSync("/proc/self") ? false : pidAlive(pid);
  }
  // A zombie (drcm that exited, not yet reaped) has an empty command line.
  if (cmd[0] === undefined || cmd[0] === "") return false;
  let exe: string;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
  } catch {
    // Not allowed to read the link (another user's process): the path it was started with.
    exe = realOr(cmd[0]);
  }
  if (exe !== realOr(process.execPath)) return false;
  if (isCompiledScript(script)) return true;
  const want = realOr(script!);
  return cmd.slice(1).some((a) => a !== "" && realOr(a) === want);
}

/**
 * Writes this process's pid atomically (temp file + rename) so a reader never sees a half-written pid.
 * Throws with a clear message when another live drcm holds the pidfile.
 */
export function writePidfile(path: string, pid: number = process.pid): void {
  const other = readPidfile(path);
  if (other !== null && other !== pid && pidAlive(other) && isDrcm(other)) {
    throw new Error(`Cannot write pidfile "${path}": drcm is already running with pid ${other}`);
  }
  mkdirSync(dirname(path), { recursive: true });
  // In a directory others can write, a planted `<path>.<pid>.tmp` link must not make root write over the
  // file it names: replaceFile creates the temporary file exclusively, never opening one it finds.
  replaceFile(path, `${pid}\n`, { mode: 0o644, tag: pid });
}

/** Removes the pidfile only if it still names this process (a newer daemon may have replaced it). */
export function removePidfile(path: string, pid: number = process.pid): void {
  if (readPidfile(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to clean.
  }
}

/**
 * The command that runs this program again with `args`: a compiled binary is process.execPath itself (its
 * argv[1] is a /$bunfs/ path), while `bun drcm.ts` needs the script path after the bun executable.
 */
export function selfCommand(argv: readonly string[], execPath: string = process.execPath): string[] {
  const script = argv[1];
  const args = argv.slice(2).filter((a) => a !== "--daemon");
  return isCompiledScript(script) ? [execPath, ...args] : [execPath, script!, ...args];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the detached daemon and returns the exit code for the parent: 0 once the pidfile holds the child's
 * pid, 1 (with the child's own error text on stderr) when the child exits first or never writes the pidfile.
 * `argv` is process.argv.
 */
export async function daemonize(argv: readonly string[], pidfile: string): Promise<number> {
  // Also accept process.argv.slice(1) (script first): put the runtime back in front.
  if (argv.length === process.argv.length - 1 && argv[0] === process.argv[1]) argv = [process.argv[0]!, ...argv];
  const running = readPidfile(pidfile);
  if (running !== null && pidAlive(running) && isDrcm(running, argv[1])) {
    process.stderr.write(`drcm: ERROR - Cannot start: drcm is already running with pid ${running} (pidfile "${pidfile}")\n`);
    return 1;
  }
  // The child's stderr goes to a temp file until it is up, so a start-up error (bad config) can be shown here;
  // the file and its directory are removed when the parent returns, later stderr output of the daemon is not
  // kept. The file is new in a private directory of our own (mkdtemp, mode 0700), created with O_EXCL and
  // O_NOFOLLOW: a predictable name in /tmp would let any user plant a symlink that root then writes through.
  let errDir: string;
  let errFd: number;
  try {
    errDir = mkdtempSync(join(tmpdir(), "drcm-daemon-"));
  } catch (e) {
    process.stderr.write(`drcm: ERROR - Cannot create a temporary directory in "${tmpdir()}": ${errorMessage(e)}\n`);
    return 1;
  }
  const removeErrDir = (): void => rmSync(errDir, { recursive: true, force: true });
  const errPath = join(errDir, "stderr");
  try {
    errFd = openSync(errPath, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    process.stderr.write(`drcm: ERROR - Cannot create "${errPath}": ${errorMessage(e)}\n`);
    removeErrDir();
    return 1;
  }
  const cmd = selfCommand(argv);
  let exited: number | null = null;
  let child: ReturnType<typeof Bun.spawn>;
  try {
    child = Bun.spawn(cmd, {
      stdio: ["ignore", "ignore", errFd],
      detached: true,
      env: process.env,
      onExit: (_p, code, signal) => {
        exited = code ?? (signal ? 128 : 1);
      },
    });
  } catch (e) {
    closeSync(errFd);
    removeErrDir();
    process.stderr.write(`drcm: ERROR - Cannot start "${cmd[0]}": ${errorMessage(e)}\n`);
    return 1;
  }
  child.unref();
  const childErr = (): string => {
    try {
      return readFileSync(errPath, "utf8").trim();
    } catch {
      return "";
    }
  };
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let i = 0; i < READY_TIMEOUT_MS / POLL_MS + 10 && Date.now() < deadline; i++) {
      if (readPidfile(pidfile) === child.pid) return 0;
      if (exited !== null) {
        const msg = childErr();
        process.stderr.write(msg ? `${msg}\n` : `drcm: ERROR - The daemon exited with status ${exited} before writing "${pidfile}"\n`);
        return 1;
      }
      await sleep(POLL_MS);
    }
    if (readPidfile(pidfile) === child.pid) return 0;
    // Up but silent: do not leave a daemon the init script does not know about.
    try {
      process.kill(child.pid, "SIGTERM");
    } catch {
      // It died in the meantime.
    }
    const msg = childErr();
    process.stderr.write(`${msg ? `${msg}\n` : ""}drcm: ERROR - The daemon did not write pidfile "${pidfile}" within ${READY_TIMEOUT_MS / 1000} s; stopped it\n`);
    return 1;
  } finally {
    closeSync(errFd);
    removeErrDir();
  }
}

/** The real file system for lib/config/trust.ts. */
export const realTrustFs: TrustFs = {
  stat(path) {
    try {
      const st = statSync(path);
      return { uid: st.uid, mode: st.mode, isDirectory: st.isDirectory() };
    } catch {
      return null;
    }
  },
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return null;
    }
  },
  userName: (uid) => passwdEntry(uid)?.[0] || null,
};

/**
 * The cluster's files that others could change (lib/config/trust.ts), as `<path>: <what is wrong>` lines,
 * and whether they forbid running: as root they do; a daemon of another user runs and logs them as warnings.
 */
export function fileTrust(cluster: Cluster, uid: number = process.geteuid?.() ?? 0, fs: TrustFs = realTrustFs): { refuse: boolean; lines: string[] } {
  const lines = trustFindings(clusterTrustTargets(cluster), { uid, fs }).map(trustLine);
  return { refuse: uid === 0 && lines.length > 0, lines };
}
