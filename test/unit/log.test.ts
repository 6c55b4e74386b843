import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, formatLines, formatStamp, type LoggerOptions } from "../../lib/io/log.ts";

const base = mkdtempSync(join(tmpdir(), `drcm-log-${process.pid}-`));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => mkdtempSync(join(base, `t${n++}-`));
const FIXED = new Date(2026, 10, 5, 8, 4, 3);

const opts = (dir: string, over: Partial<LoggerOptions> = {}): LoggerOptions => ({
  dir,
  file: "drcm.log",
  tag: "drcm",
  enabled: true,
  maxSize: 0,
  keep: 3,
  clear: false,
  verbose: false,
  debugLevel: 0,
  stderr: "none",
  now: () => FIXED,
  writeStderr: () => {},
  writeStdout: () => {},
  ...over,
});

describe("log", () => {
  test("formatStamp() writes the 1.x local timestamp with zero-padded day", () => {
    expect(formatStamp(FIXED)).toBe("Nov 05 08:04:03");
  });

  test("formatLines() adds the level word and repeats the prefix on each embedded line", () => {
    expect(formatLines("Nov 05 08:04:03", "drcm", "INFO", "a\nb")).toBe("Nov 05 08:04:03 drcm: INFO - a\nNov 05 08:04:03 drcm: INFO - b\n");
  });

  test("createLogger() writes 1.x lines with a level word, creating the directory", () => {
    const dir = join(fresh(), "sub", "log");
    const log = createLogger(opts(dir));
    log.info("Node cmnode2 is dead");
    log.warn("w");
    log.error("e");
    expect(readFileSync(join(dir, "drcm.log"), "utf8")).toBe(
      "Nov 05 08:04:03 drcm: INFO - Node cmnode2 is dead\nNov 05 08:04:03 drcm: WARNING - w\nNov 05 08:04:03 drcm: ERROR - e\n",
    );
  });

  test("debug() writes only when the debug level is at least the message level", () => {
    const dir = fresh();
    const log = createLogger(opts(dir, { debugLevel: 0 }));
    log.debug(1, "off");
    log.setDebugLevel(3);
    expect(log.debugLevel).toBe(3);
    log.debug(3, "three");
    log.debug(4, "four");
    const text = readFileSync(join(dir, "drcm.log"), "utf8");
    expect(text).toBe("Nov 05 08:04:03 drcm: DEBUG - three\n");
  });

  test("log_level 0 keeps only ERROR and WARNING lines; 1 adds INFO", () => {
    const dir = fresh();
    const quiet = createLogger(opts(dir, { logLevel: 0, tag: "drcm_server" }));
    quiet.info("routine");
    quiet.warn("w");
    quiet.error("e");
    expect(readFileSync(join(dir, "drcm.log"), "utf8")).toBe("Nov 05 08:04:03 drcm_server: WARNING - w\nNov 05 08:04:03 drcm_server: ERROR - e\n");
    const dir2 = fresh();
    createLogger(opts(dir2, { logLevel: 1 })).info("routine");
    expect(readFileSync(join(dir2, "drcm.log"), "utf8")).toContain("INFO - routine");
  });

  test("verbose echoes to stdout; verbose_level 2 echoes DEBUG lines too", () => {
    for (const [verboseLevel, want] of [
      [1, ["INFO - i"]],
      [2, ["INFO - i", "DEBUG - d"]],
    ] as const) {
      const out: string[] = [];
      const log = createLogger(opts(fresh(), { verbose: true, verboseLevel, debugLevel: 2, writeStdout: (l) => void out.push(l) }));
      log.info("i");
      log.debug(1, "d");
      expect(out.map((l) => l.trim().replace(/^.* drcm: /, ""))).toEqual([...want]);
    }
  });

  test("createLogger() appends to an existing file and truncates it with clear", () => {
    const dir = fresh();
    writeFileSync(join(dir, "drcm.log"), "old\n");
    createLogger(opts(dir)).info("x");
    expect(readFileSync(join(dir, "drcm.log"), "utf8")).toStartWith("old\n");
    createLogger(opts(dir, { clear: true })).info("y");
    expect(readFileSync(join(dir, "drcm.log"), "utf8")).toBe("Nov 05 08:04:03 drcm: INFO - y\n");
  });

  test("rotation keeps exactly num_logs_to_keep files, newest in .1, with no lost or reordered line", () => {
    const dir = fresh();
    const log = createLogger(opts(dir, { maxSize: 300, keep: 3 }));
    const total = 200;
    for (let i = 0; i < total; i++) log.info(`line ${i}`);
    const names = readdirSync(dir).sort();
    expect(names).toEqual(["drcm.log", "drcm.log.1", "drcm.log.2", "drcm.log.3"]);
    // Read oldest to newest: the numbers must be consecutive across the files.
    const seen: number[] = [];
    for (const f of ["drcm.log.3", "drcm.log.2", "drcm.log.1", "drcm.log"]) {
      const text = readFileSync(join(dir, f), "utf8");
      if (f !== "drcm.log.3") expect(text.split("\n")[0]).toContain("New log file started, previous log saved as drcm.log.1");
      for (const m of text.matchAll(/INFO - line (\d+)$/gm)) seen.push(Number(m[1]));
    }
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.at(-1)).toBe(total - 1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBe(seen[i - 1]! + 1);
    // Each rotated file stopped once it reached the limit: about maxSize, never far beyond.
    for (const f of ["drcm.log.1", "drcm.log.2"]) expect(statSync(join(dir, f)).size).toBeLessThan(300 + 200);
  });

  test("rotation removes files beyond a lowered num_logs_to_keep, and keep 0 keeps none", () => {
    const dir = fresh();
    for (const k of [1, 2, 3, 4, 5]) writeFileSync(join(dir, `drcm.log.${k}`), `old ${k}\n`);
    writeFileSync(join(dir, "drcm.log"), "x".repeat(500) + "\n");
    createLogger(opts(dir, { maxSize: 100, keep: 2 })).info("after");
    expect(readdirSync(dir).sort()).toEqual(["drcm.log", "drcm.log.1", "drcm.log.2"]);
    expect(readFileSync(join(dir, "drcm.log.2"), "utf8")).toBe("old 1\n");
    const d0 = fresh();
    writeFileSync(join(d0, "drcm.log"), "x".repeat(500) + "\n");
    createLogger(opts(d0, { maxSize: 100, keep: 0 })).info("after");
    expect(readdirSync(d0)).toEqual(["drcm.log"]);
    expect(readFileSync(join(d0, "drcm.log"), "utf8")).toContain("INFO - after");
  });

  test("createLogger() reopens the file when it was moved away", () => {
    const dir = fresh();
    const log = createLogger(opts(dir));
    log.info("before");
    renameSync(join(dir, "drcm.log"), join(dir, "moved"));
    log.info("after");
    expect(readFileSync(join(dir, "drcm.log"), "utf8")).toContain("INFO - after");
  });

  test("createLogger() never throws when the file cannot be written, and reports once", () => {
    const dir = fresh();
    const file = join(dir, "blocker");
    writeFileSync(file, "");
    const errs: string[] = [];
    // The log dir is a regular file: every open fails with ENOTDIR.
    const log = createLogger(opts(file, { writeStderr: (s) => errs.push(s) }));
    for (let i = 0; i < 5; i++) expect(() => log.info("lost")).not.toThrow();
    expect(errs.length).toBe(1);
    expect(errs[0]).toContain("Cannot open log file");
  });

  test("createLogger() recovers after a write failure and says how many lines were lost", () => {
    const dir = fresh();
    const errs: string[] = [];
    const log = createLogger(opts(join(dir, "d"), { writeStderr: (s) => errs.push(s) }));
    log.info("one");
    rmSync(join(dir, "d"), { recursive: true });
    writeFileSync(join(dir, "d"), ""); // a file where the dir was: reopen fails
    log.info("lost");
    log.info("lost");
    expect(errs.length).toBe(1);
    rmSync(join(dir, "d"));
    log.info("back");
    const text = readFileSync(join(dir, "d", "drcm.log"), "utf8");
    expect(text).toMatch(/WARNING - Log writing resumed; \d+ log line\(s\) could not be written before/);
  });

  test("createLogger() echoes to stdout when verbose and adds journald priorities on stderr", () => {
    const dir = fresh();
    const out: string[] = [];
    const err: string[] = [];
    const log = createLogger(opts(dir, { verbose: true, stderr: "journald", writeStdout: (s) => out.push(s), writeStderr: (s) => err.push(s) }));
    log.error("bad");
    log.info("fine");
    expect(out.join("")).toBe("Nov 05 08:04:03 drcm: ERROR - bad\nNov 05 08:04:03 drcm: INFO - fine\n");
    expect(err.join("")).toBe("<3>ERROR - bad\n<6>INFO - fine\n");
  });

  test("createLogger() writes no file when disabled", () => {
    const dir = fresh();
    createLogger(opts(dir, { enabled: false })).info("x");
    expect(readdirSync(dir)).toEqual([]);
  });
});
