// The drcm log file (packaging/doc/packaging.md, "Logs"): 1.x line format with a level word added,
// written synchronously so that no line is dropped or reordered (1.x queued lines in three rings and
// lost or reordered them), and rotated by size with a proper shift (.1 is always the newest, 1.x
// reused .1). A logger never throws at its caller: a full disk must not kill the daemon, so write
// failures are counted and reported to stderr once.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { syslogStamp } from "../stamp.ts";
import { errnoCode } from "../error.ts";

export type Level = "ERROR" | "WARNING" | "INFO" | "DEBUG";

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  /** Written when the debug level is >= level (0 = debug off). */
  debug(level: number, msg: string): void;
  setDebugLevel(n: number): void;
  readonly debugLevel: number;
  close(): Promise<void>;
}

export type StderrMode = "auto" | "none" | "plain" | "journald";

export interface LoggerOptions {
  /** log_dir; created when missing. */
  dir: string;
  /** Basename, e.g. drcm.log. */
  file: string;
  /** Tag after the timestamp: "drcm" (1.x: service_name). */
  tag: string;
  /** false = --log-disable: no file, stdout/stderr echo still apply. */
  enabled: boolean;
  /** max_log_size in bytes; <= 0 never rotates. */
  maxSize: number;
  /** num_logs_to_keep: rotated files kept (.1 .. .keep); 0 keeps none. */
  keep: number;
  /** --log-file-clear: truncate the file at start. */
  clear: boolean;
  /** Echo every line to stdout (1.x verbose). */
  verbose: boolean;
  /** With verbose: 1 echoes ERROR, WARNING and INFO lines; 2 or more echoes DEBUG lines too. Default 1. */
  verboseLevel?: number;
  /** 0: only ERROR and WARNING lines are written; 1 or more (the default): INFO lines too. DEBUG follows debugLevel. */
  logLevel?: number;
  debugLevel: number;
  /** auto: journald priority prefixes when JOURNAL_STREAM is set (running under systemd), else none. */
  stderr: StderrMode;
  /** Clock for the timestamp; tests pin it. */
  now?: () => Date;
  /** Where stderr/stdout echo goes; tests capture it. */
  writeStderr?: (s: string) => void;
  writeStdout?: (s: string) => void;
}

/** `Nov 25 18:42:34` in local time, as 1.x wrote it. */
export const formatStamp = syslogStamp;

/** One log line (with newline). Embedded newlines become separate lines with the same prefix so grep stays line-based. */
export function formatLines(stamp: string, tag: string, level: Level, msg: string): string {
  return msg
    .replace(/\r/g, "")
    .split("\n")
    .map((part) => `${stamp} ${tag}: ${level} - ${part}\n`)
    .join("");
}

/** sd-daemon(3) priorities: journald reads `<N>` at the start of each stderr line. */
const JOURNAL_PRIORITY: Record<Level, number> = { ERROR: 3, WARNING: 4, INFO: 6, DEBUG: 7 };

/** Longest message kept; a runaway script output must not fill the disk one line at a time. */
const MAX_MESSAGE = 8192;

/** Rotated file names `<file>.<N>` present in dir, with N. */
function rotatedFiles(dir: string, file: string): { n: number; path: string }[] {
  const re = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(\\d+)$`);
  const out: { n: number; path: string }[] = [];
  for (const name of readdirSync(dir)) {
    const m = re.exec(name);
    if (m) out.push({ n: Number(m[1]), path: join(dir, name) });
  }
  return out;
}

export function createLogger(opts: LoggerOptions): Logger {
  const now = opts.now ?? (() => new Date());
  const toStderr = opts.writeStderr ?? ((s: string) => void process.stderr.write(s));
  const toStdout = opts.writeStdout ?? ((s: string) => void process.stdout.write(s));
  const stderrMode: "none" | "plain" | "journald" =
    opts.stderr === "auto" ? (process.env.JOURNAL_STREAM ? "journald" : "none") : opts.stderr;
  const path = join(opts.dir, opts.file);
  let level = Math.max(0, Math.floor(opts.debugLevel));
  let fd: number | null = null;
  let ino = -1;
  let size = 0;
  let closed = false;
  let lost = 0;
  let reported = false;

  const failed = (what: string, e: unknown): void => {
    lost++;
    if (reported) return;
    reported = true;
    const why = e instanceof Error ? e.message : String(e);
    try {
      toStderr(`${opts.tag}: ERROR - Cannot ${what} log file "${path}": ${why}; further log write errors are counted, not shown\n`);
    } catch {
      // stderr itself is gone (closed by a daemon wrapper): nothing left to tell.
    }
  };

  const open = (truncate: boolean): void => {
    mkdirSync(opts.dir, { recursive: true });
    fd = openSync(path, truncate ? "w" : "a", 0o644);
    const st = fstatSync(fd);
    ino = st.ino;
    size = st.size;
  };

  const closeFd = (): void => {
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch {
      // Already closed or the fs went away; a new open follows anyway.
    }
    fd = null;
  };

  /**
   * Reopen when someone moved or removed the file (an admin, a stray logrotate): otherwise lines would go to a
   * deleted inode. One stat per line is cheap next to the write itself.
   */
  const checkMoved = (): void => {
    if (fd === null) {
      open(false);
      return;
    }
    let moved = false;
    try {
      moved = statSync(path).ino !== ino;
    } catch {
      moved = true;
    }
    if (moved) {
      closeFd();
      open(false);
    }
  };

  const rawWrite = (text: string): void => {
    const buf = Buffer.from(text);
    let off = 0;
    // writeSync may write less than asked (signals, quotas); loop until all is out or it throws.
    for (let i = 0; off < buf.length && i < 1000; i++) off += writeSync(fd!, buf, off, buf.length - off);
    size += off;
  };

  const rotate = (): void => {
    const stamp = formatStamp(now());
    const keep = Math.max(0, Math.floor(opts.keep));
    const target = keep > 0 ? `${opts.file}.1` : null;
    rawWrite(formatLines(stamp, opts.tag, "INFO", `Log file reached ${size} bytes (max_log_size ${opts.maxSize}), ${target ? `saved as ${target}` : "discarded (num_logs_to_keep 0)"}`));
    closeFd();
    // Drop files beyond keep (also left over from a larger num_logs_to_keep), then shift the rest up by one.
    for (const r of rotatedFiles(opts.dir, opts.file)) if (r.n >= keep) unlinkSync(r.path);
    for (let n = keep - 1; n >= 1; n--) {
      try {
        renameSync(`${path}.${n}`, `${path}.${n + 1}`);
      } catch (e) {
        if (errnoCode(e) !== "ENOENT") throw e;
      }
    }
    if (target) renameSync(path, `${path}.1`);
    else unlinkSync(path);
    open(true);
    rawWrite(formatLines(stamp, opts.tag, "INFO", `New log file started${target ? `, previous log saved as ${target}` : ""}`));
  };

  const toFile = (text: string): void => {
    if (!opts.enabled || closed) return;
    try {
      checkMoved();
      if (opts.maxSize > 0 && size >= opts.maxSize) rotate();
      if (lost > 0 && reported) {
        const n = lost;
        lost = 0;
        reported = false;
        rawWrite(formatLines(formatStamp(now()), opts.tag, "WARNING", `Log writing resumed; ${n} log line(s) could not be written before`));
      }
      rawWrite(text);
    } catch (e) {
      closeFd();
      failed("write", e);
    }
  };

  const logLevel = Math.max(0, Math.floor(opts.logLevel ?? 1));
  const verboseLevel = Math.max(1, Math.floor(opts.verboseLevel ?? 1));
  const emit = (lvl: Level, msg: string): void => {
    if (lvl === "INFO" && logLevel === 0) return;
    try {
      const m = msg.length > MAX_MESSAGE ? `${msg.slice(0, MAX_MESSAGE)} ...(${msg.length - MAX_MESSAGE} characters cut)` : msg;
      const line = formatLines(formatStamp(now()), opts.tag, lvl, m);
      toFile(line);
      if (opts.verbose && (lvl !== "DEBUG" || verboseLevel >= 2)) toStdout(line);
      if (stderrMode === "plain") toStderr(line);
      else if (stderrMode === "journald") {
        const p = JOURNAL_PRIORITY[lvl];
        toStderr(m.split("\n").map((part) => `<${p}>${lvl} - ${part}\n`).join(""));
      }
    } catch (e) {
      failed("write", e);
    }
  };

  if (opts.enabled) {
    try {
      open(opts.clear);
      if (opts.maxSize > 0 && size >= opts.maxSize) rotate();
    } catch (e) {
      closeFd();
      failed("open", e);
    }
  }

  return {
    error: (m) => emit("ERROR", m),
    warn: (m) => emit("WARNING", m),
    info: (m) => emit("INFO", m),
    debug: (lvl, m) => {
      if (level > 0 && level >= lvl) emit("DEBUG", m);
    },
    setDebugLevel: (n) => {
      level = Math.max(0, Math.floor(n));
    },
    get debugLevel() {
      return level;
    },
    close: async () => {
      closed = true;
      closeFd();
    },
  };
}
