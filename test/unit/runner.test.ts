import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeResult, logStamp, OUTPUT_CAP, runShell } from "../../lib/io/runner.ts";

const dir = mkdtempSync(join(tmpdir(), `drcm-runner-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pid is gone when /proc has no entry or only an unreaped zombie is left. */
function pidGone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

describe("runShell()", () => {
  test("runShell() reports the exit code and output of a failing command", async () => {
    const r = await runShell("echo out; sleep 0.05; echo err >&2; exit 3", { timeoutMs: 5000 });
    expect(r.exitCode).toBe(3);
    expect(r.signal).toBeNull();
    expect(r.timedOut).toBe(false);
    expect(r.output).toContain("out\n");
    expect(r.output).toContain("err\n");
    expect(describeResult(r, 5000)).toBe("exit 3: err");
  });

  test("runShell() interprets shell syntax and passes extra environment", async () => {
    const r = await runShell("X=1; echo \"$X-$DRCM_T\" | tr 1 2", { timeoutMs: 5000, env: { DRCM_T: "ok" } });
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe("2-ok\n");
  });

  test("runShell() kills the whole process group, grandchildren included, on timeout", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const r = await runShell(`sh -c 'sleep 100 & echo $! > ${pidFile}; sleep 100'`, { timeoutMs: 300, graceMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe("SIGTERM");
    expect(r.killedWith).toBe("SIGTERM");
    expect(describeResult(r, 300)).toBe(`timed out after 300 ms, killed after ${Math.round(r.durationMs)} ms (SIGTERM)`);
    const grandchild = Number(readFileSync(pidFile, "utf8").trim());
    expect(grandchild).toBeGreaterThan(1);
    expect(pidGone(grandchild)).toBe(true);
  });

  test("runShell() sends SIGKILL after the grace period to members that ignore SIGTERM", async () => {
    const pidFile = join(dir, "stubborn.pid");
    const r = await runShell(`sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done'`, { timeoutMs: 300, graceMs: 300 });
    expect(r.timedOut).toBe(true);
    const stubborn = Number(readFileSync(pidFile, "utf8").trim());
    expect(pidGone(stubborn)).toBe(true);
    expect(r.killedWith).toBe("SIGKILL");
    // The kill came after the timeout plus the whole grace: the line must say so, not "300 ms".
    expect(r.durationMs).toBeGreaterThanOrEqual(600);
    expect(describeResult(r, 300)).toBe(`timed out after 300 ms, killed after ${Math.round(r.durationMs)} ms (SIGKILL after a 300 ms grace)`);
  });

  test("describeResult() reports the real time until the kill and the grace period", () => {
    const r = { exitCode: null, signal: "SIGKILL", timedOut: true, durationMs: 3010.4, output: "", killedWith: "SIGKILL" as const, graceMs: 2000 };
    expect(describeResult(r, 1000)).toBe("timed out after 1000 ms, killed after 3010 ms (SIGKILL after a 2000 ms grace)");
    expect(describeResult({ ...r, killedWith: "SIGTERM", durationMs: 1012 }, 1000)).toBe("timed out after 1000 ms, killed after 1012 ms (SIGTERM)");
  });

  test("runShell() returns when the shell exits even if a daemon it started keeps the pipes open", async () => {
    const pidFile = join(dir, "daemon.pid");
    const r = await runShell(`sleep 30 & echo $! > ${pidFile}; echo started`, { timeoutMs: 5000 });
    expect(r.exitCode).toBe(0);
    expect(r.timedOut).toBe(false);
    expect(r.output).toBe("started\n");
    const daemon = Number(readFileSync(pidFile, "utf8").trim());
    expect(pidGone(daemon)).toBe(false); // not the runner's job to end it
    process.kill(daemon, "SIGKILL");
  });

  test("runShell() caps the captured output and keeps its tail", async () => {
    const r = await runShell("head -c 200000 /dev/zero | tr '\\0' x; echo; echo LAST", { timeoutMs: 5000 });
    expect(r.exitCode).toBe(0);
    expect(r.output.length).toBeLessThan(OUTPUT_CAP + 100);
    expect(r.output.startsWith("[output cut: first ")).toBe(true);
    expect(r.output.endsWith("LAST\n")).toBe(true);
  });

  test("runShell() appends timestamped lines and a result line to the log file", async () => {
    const log = join(dir, "logs", "service_resource.log");
    await runShell("echo one; echo two", { timeoutMs: 5000, logFile: log });
    await runShell("exit 4", { timeoutMs: 5000, logFile: log });
    const lines = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    const stamp = /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d /;
    for (const l of lines) expect(l).toMatch(stamp);
    expect(lines[0]!.slice(16)).toBe("echo one; echo two: one");
    expect(lines[1]!.slice(16)).toBe("echo one; echo two: two");
    expect(lines[2]!.slice(16)).toMatch(/^echo one; echo two: exit 0 in \d+ ms$/);
    expect(lines[3]!.slice(16)).toBe("exit 4: exit 4");
  });

  test("runShell() runs in the given working directory", async () => {
    const r = await runShell("pwd", { timeoutMs: 5000, cwd: dir });
    expect(r.output.trim()).toBe(dir);
  });
});

describe("logStamp()", () => {
  test("logStamp() formats like 1.x: month abbreviation, zero-padded day, no year", () => {
    expect(logStamp(new Date(2024, 1, 5, 9, 3, 7))).toBe("Feb 05 09:03:07");
  });
});
