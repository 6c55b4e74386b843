import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClusterEvent } from "../../lib/core/types.ts";
import { ALERT_KINDS, AlertDispatcher, alertEnv, type RunShell } from "../../lib/io/alerts.ts";
import type { RunResult } from "../../lib/io/runner.ts";

const dir = mkdtempSync(join(tmpdir(), `drcm-alerts-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function script(body: string): string {
  const p = join(dir, `alert${++n}.sh`);
  writeFileSync(p, `#!/bin/bash\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}
const lines = (file: string): string[] => {
  try {
    return readFileSync(file, "utf8").split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
};

// A scripted failover as the core reports it on the surviving node.
const failover: ClusterEvent[] = [
  { type: "node_suspect", node: "cmnode1", message: "No heartbeat from cmnode1 for 2s" },
  { type: "node_dead", node: "cmnode1", message: "No heartbeat from cmnode1 for 6s" },
  {
    type: "takeover",
    node: "cmnode1",
    from: "cmnode1",
    to: "cmnode2",
    resource: "ipaddr:vip",
    slot: "ipaddr:vip@cmnode1",
    cause: { kind: "owner-down", owner: { node: "cmnode1", why: "dead", silentMs: 812 }, node: "cmnode2", holds: false, skipped: [] },
    message: "Node cmnode2 is taking over ipaddr:vip from cmnode1 (its primary cmnode1 is dead, no heartbeat for 812 ms; cmnode2 is the first live backup)",
  },
  { type: "node_alive", node: "cmnode1", message: "cmnode1 is alive again" },
  { type: "failback", node: "cmnode1", from: "cmnode2", to: "cmnode1", resource: "ipaddr:vip", slot: "ipaddr:vip@cmnode1", message: "ipaddr:vip fails back from cmnode2 to its primary cmnode1" },
];

type Logged = { level: string; msg: string };
function dispatcher(scripts: string[], timeoutMs: number, extra: Partial<{ run: RunShell; queueLimit: number }> = {}) {
  const logged: Logged[] = [];
  const d = new AlertDispatcher({
    scripts,
    timeoutMs,
    self: "cmnode2",
    clusterFile: "/etc/drcm/cm.cfg",
    log: (level, msg) => logged.push({ level, msg }),
    ...extra,
  });
  return { d, logged };
}

test("AlertDispatcher.emit() delivers every transition of a failover to a real script, in order", async () => {
  const out = join(dir, "events.txt");
  const s = script(`echo "$DRCM_EVENT $DRCM_NODE $DRCM_RESOURCE" >> ${out}`);
  const { d, logged } = dispatcher([s], 5000);
  for (const ev of failover) d.emit(ev, 1_700_000_000_000);
  await d.drain(10_000);
  expect(lines(out)).toEqual(["node_dead cmnode1 ", "takeover cmnode1 ipaddr:vip", "node_alive cmnode1 ", "failback cmnode1 ipaddr:vip"]);
  expect(logged.filter((l) => /^Alert script .* for node_dead exited 0 in \d+ ms$/.test(l.msg))).toHaveLength(1);
});

test("AlertDispatcher.emit() passes the documented DRCM_* environment", async () => {
  const out = join(dir, "env.txt");
  const s = script(`env | grep '^DRCM_' | sort >> ${out}`);
  const { d } = dispatcher([s], 5000);
  d.emit(failover[2]!, Date.UTC(2024, 10, 25, 18, 44, 11, 500));
  await d.drain(10_000);
  // DRCM_* variables of the test run itself (test/run.ts sets DRCM_BIN) are inherited, not ours.
  const env = Object.fromEntries(
    lines(out)
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
      .filter(([k, v]) => process.env[k!] !== v),
  );
  expect(env).toEqual({
    DRCM_EVENT: "takeover",
    DRCM_NODE: "cmnode1",
    DRCM_RESOURCE: "ipaddr:vip",
    DRCM_SLOT: "ipaddr:vip@cmnode1",
    DRCM_FROM: "cmnode1",
    DRCM_TO: "cmnode2",
    DRCM_MESSAGE: "Node cmnode2 is taking over ipaddr:vip from cmnode1 (its primary cmnode1 is dead, no heartbeat for 812 ms; cmnode2 is the first live backup)",
    DRCM_CAUSE: "owner-down",
    DRCM_CAUSE_TEXT: "its primary cmnode1 is dead, no heartbeat for 812 ms; cmnode2 is the first live backup",
    DRCM_SELF: "cmnode2",
    DRCM_TIME: "2024-11-25T18:44:11.500Z",
    DRCM_EPOCH: "1732560251",
    DRCM_CONFIG: "/etc/drcm/cm.cfg",
    DRCM_SEVERITY: "WARNING",
    DRCM_RECOVERY: "0",
    DRCM_DROPPED: "0",
  });
});

test("AlertDispatcher.emit() kills a hung script at the timeout and still delivers the later events", async () => {
  const out = join(dir, "hang.txt");
  const s = script(`echo "$DRCM_EVENT" >> ${out}\nif [ "$DRCM_EVENT" = takeover ]; then sleep 30; fi`);
  const { d, logged } = dispatcher([s], 300);
  for (const ev of failover) d.emit(ev, 0);
  await d.drain(15_000);
  expect(lines(out)).toEqual(["node_dead", "takeover", "node_alive", "failback"]);
  expect(logged.map((l) => l.msg)).toContain(`Alert script ${s} for takeover timed out after 300 ms and was killed`);
});

test("AlertDispatcher.emit() logs a failing script's exit code and last output line", async () => {
  const s = script(`echo "Cannot reach the mail relay" >&2; exit 3`);
  const { d, logged } = dispatcher([s], 5000);
  d.emit(failover[1]!, 0);
  await d.drain(10_000);
  expect(logged).toHaveLength(1);
  expect(logged[0]!.level).toBe("warn");
  expect(logged[0]!.msg).toMatch(new RegExp(`^Alert script ${s} for node_dead exited 3 in \\d+ ms: Cannot reach the mail relay$`));
});

/** A stand-in runner whose runs finish only when the test says so. */
function heldRunner() {
  const calls: { script: string; env: Record<string, string> }[] = [];
  const release: (() => void)[] = [];
  const run: RunShell = (command, opts) =>
    new Promise<RunResult>((resolve) => {
      calls.push({ script: command, env: opts.env ?? {} });
      release.push(() => resolve({ exitCode: 0, signal: null, timedOut: false, durationMs: 1, output: "" }));
    });
  const releaseAll = async (rounds: number) => {
    for (let i = 0; i < rounds; i++) {
      for (const r of release.splice(0)) r();
      await Bun.sleep(1);
    }
  };
  return { run, calls, releaseAll };
}

test("AlertDispatcher runs an alert_script path with a space or a metacharacter as one literal word", async () => {
  const dir = mkdtempSync(join(tmpdir(), "drcm-alert-q-"));
  try {
    const script = join(dir, "my alerts;touch pwned.sh");
    writeFileSync(script, `#!/bin/sh\necho "$DRCM_EVENT" > "${dir}/got"\n`, { mode: 0o755 });
    const d = new AlertDispatcher({ scripts: [script], timeoutMs: 5000, self: "n1", clusterFile: "/x/cm.cfg", log: () => {} });
    d.emit({ type: "node_dead", node: "n2", message: "Node n2 is dead" }, 0);
    await d.drain(5000);
    expect(readFileSync(join(dir, "got"), "utf8")).toBe("node_dead\n");
    expect(existsSync(join(process.cwd(), "pwned.sh"))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("AlertDispatcher.emit() returns at once and keeps one script from delaying another", async () => {
  const { run, calls, releaseAll } = heldRunner();
  const { d } = dispatcher(["/slow.sh", "/fast.sh"], 1000, { run });
  d.emit(failover[1]!, 0);
  d.emit(failover[2]!, 0);
  // One run in flight per script, the second event waits behind it.
  expect(calls.map((c) => `${c.script} ${c.env.DRCM_EVENT}`)).toEqual(["'/slow.sh' node_dead", "'/fast.sh' node_dead"]);
  await releaseAll(5);
  expect(calls.map((c) => `${c.script} ${c.env.DRCM_EVENT}`).slice(2)).toEqual(["'/slow.sh' takeover", "'/fast.sh' takeover"]);
});

test("AlertDispatcher.emit() drops the oldest beyond the queue bound, counts them and says so", async () => {
  const { run, calls, releaseAll } = heldRunner();
  const { d, logged } = dispatcher(["/a.sh"], 1000, { run, queueLimit: 3 });
  for (let i = 0; i < 10; i++) d.emit({ type: "resource_failed", resource: `service:s${i}`, message: `s${i} failed` }, 0);
  await releaseAll(12);
  await d.drain(1000);
  // s0 was running; s1..s6 were dropped; s7..s9 delivered, the first of them told about the 6 before it.
  expect(calls.map((c) => c.env.DRCM_RESOURCE)).toEqual(["service:s0", "service:s7", "service:s8", "service:s9"]);
  expect(calls.map((c) => c.env.DRCM_DROPPED)).toEqual(["0", "6", "0", "0"]);
  const warns = logged.filter((l) => l.level === "warn").map((l) => l.msg);
  expect(warns).toEqual(["Alert queue of /a.sh is full (3 events): dropping the oldest until it catches up", "Dropped 6 alerts for /a.sh: queue full"]);
});

test("AlertDispatcher.drain() gives up at its timeout and logs what was left", async () => {
  const { run } = heldRunner();
  const { d, logged } = dispatcher(["/a.sh"], 1000, { run });
  d.emit(failover[1]!, 0);
  d.emit(failover[2]!, 0);
  await d.drain(50);
  expect(logged.map((l) => l.msg)).toEqual(["2 alerts not delivered at shutdown: still running after 50 ms"]);
});

test("AlertDispatcher.emit() skips the chatty kinds and alerts all the others", () => {
  const { run, calls } = heldRunner();
  const { d } = dispatcher(["/a.sh"], 1000, { run, queueLimit: 100 });
  const types = Object.keys(ALERT_KINDS) as ClusterEvent["type"][];
  for (const type of types) d.emit({ type, message: type }, 0);
  expect(calls).toHaveLength(1);
  expect(types.filter((t) => ALERT_KINDS[t] === null).sort()).toEqual(["acquire", "node_ready", "node_suspect", "release"]);
  for (const t of ["node_dead", "node_alive", "node_leaving", "node_standby", "node_unstandby", "takeover", "failback", "resource_failed", "resource_recovered", "quorum_lost", "quorum_regained", "config_mismatch", "duplicate_holder", "fence", "ping_lost", "ping_regained"] as const) {
    expect(ALERT_KINDS[t]).not.toBeNull();
  }
});

test("alertEnv() leaves DRCM_CAUSE and DRCM_CAUSE_TEXT empty for an event without a cause", () => {
  const env = alertEnv(failover[1]!, 0, "cmnode2", "/etc/drcm/cm.cfg");
  expect([env.DRCM_CAUSE, env.DRCM_CAUSE_TEXT]).toEqual(["", ""]);
  const back = alertEnv({ ...failover[4]!, cause: { kind: "failback", owner: "cmnode1", from: "cmnode2" } }, 0, "cmnode2", "/etc/drcm/cm.cfg");
  expect([back.DRCM_CAUSE, back.DRCM_CAUSE_TEXT]).toEqual(["failback", "failback from cmnode2"]);
});

test("alertEnv() marks the back-to-normal kinds as recovery with severity OK", () => {
  const recovery = (Object.keys(ALERT_KINDS) as ClusterEvent["type"][]).filter((t) => alertEnv({ type: t, message: "" }, 0, "n", "f").DRCM_RECOVERY === "1");
  expect(recovery.sort()).toEqual(["failback", "link_up", "maintenance_off", "node_alive", "node_unstandby", "ping_regained", "quorum_regained", "resource_recovered"]);
  for (const t of recovery) expect(alertEnv({ type: t, message: "" }, 0, "n", "f").DRCM_SEVERITY).toBe("OK");
  expect(alertEnv({ type: "node_dead", message: "" }, 0, "n", "f").DRCM_SEVERITY).toBe("CRITICAL");
});
