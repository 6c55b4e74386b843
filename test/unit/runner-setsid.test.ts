// Issue 18, finding C: a child that leaves the run's process group (setsid) is still ended on timeout.
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { runShell } from "../../lib/io/runner.ts";

/** Live (non-zombie) processes whose command line is exactly `sleep <arg>`. */
function sleepers(arg: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, "utf8") !== `sleep\0${arg}\0`) continue;
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z") out.push(Number(d));
    } catch {
      // Ended while we looked.
    }
  }
  return out;
}

// Unique per test run, so another run's sleeps are never counted (or killed).
const mark = (n: number): string => `60.${process.pid}${n}`;
const leftovers: number[] = [];
afterAll(() => {
  for (const p of leftovers) {
    try {
      process.kill(p, "SIGKILL");
    } catch {}
  }
});
const hasSetsid = Bun.which("setsid") !== null;
if (!hasSetsid) console.log("runner-setsid.test.ts: setsid (util-linux) not installed, skipping");

describe("runShell() timeout kill (issue 18 C)", () => {
  test.skipIf(!hasSetsid)("a setsid child (its own session and group) is killed with the run on timeout", async () => {
    const m = mark(1);
    const r = await runShell(`setsid sleep ${m} & sleep ${m}`, { timeoutMs: 300, graceMs: 1000 });
    const left = sleepers(m);
    leftovers.push(...left);
    expect(r.timedOut).toBe(true);
    expect(left).toEqual([]);
  });

  test.skipIf(!hasSetsid)("a setsid child that ignores SIGTERM and whose parent died first still gets SIGKILL", async () => {
    const m = mark(2);
    // The middle shell dies of the SIGTERM: its setsid child (which ignores it) is reparented to
    // init and has no ppid link to the run any more; it is known from the scan before the SIGTERM.
    const r = await runShell(`sh -c 'setsid sh -c "trap \\"\\" TERM; sleep ${m}; :" & sleep 5' & sleep ${m}`, { timeoutMs: 300, graceMs: 300 });
    const left = sleepers(m);
    leftovers.push(...left);
    expect(r.timedOut).toBe(true);
    expect(left).toEqual([]);
  });

  test("a command that exits by itself leaves its detached children alone (an application's daemon)", async () => {
    const m = mark(3);
    const r = await runShell(`setsid sleep ${m} </dev/null >/dev/null 2>&1 & echo started`, { timeoutMs: 5000 });
    expect(r.timedOut).toBe(false);
    await Bun.sleep(100);
    const left = sleepers(m);
    leftovers.push(...left);
    expect(left).toHaveLength(1);
  });
});
