// Issue 18, finding B: commands get a clean, documented environment, not the daemon's.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceResource } from "../../lib/config/model.ts";
import { AgentRunner } from "../../lib/io/agents.ts";
import { AlertDispatcher } from "../../lib/io/alerts.ts";
import { currentDaemonUser } from "../../lib/io/passwd.ts";
import { runShell, SCRIPT_PATH, scriptEnvironment } from "../../lib/io/runner.ts";
import { slotOf, testCluster, testNode } from "../fixtures/agents/cluster.ts";

const dir = mkdtempSync(join(tmpdir(), `drcm-runner-env-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HOME = currentDaemonUser().homedir;

/** Runs `fn` with these variables in the daemon's (this process's) environment, then restores it. */
async function withDaemonEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** `env` as a script sees it, without what the shell itself sets (PWD, SHLVL, _, OLDPWD). */
function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of text.split("\n")) {
    const i = l.indexOf("=");
    if (i <= 0) continue;
    const k = l.slice(0, i);
    if (!["PWD", "SHLVL", "_", "OLDPWD"].includes(k)) out[k] = l.slice(i + 1);
  }
  return out;
}

const SECRETS = { NOTIFY_SOCKET: "/run/systemd/notify", DRCM_TEST_SECRET: "hunter2", AWS_SECRET_ACCESS_KEY: "xyz", LD_PRELOAD: "/tmp/evil.so", PATH: "/tmp/evil:/usr/bin:/bin" };

describe("runShell() environment (issue 18 B)", () => {
  test("a command sees PATH, LANG, LC_ALL, HOME and its own variables, nothing of the daemon's", async () => {
    const r = await withDaemonEnv(SECRETS, () => runShell("env", { timeoutMs: 5000, env: { DRCM_NODE: "n1" } }));
    expect(r.exitCode).toBe(0);
    expect(parseEnv(r.output)).toEqual({ PATH: SCRIPT_PATH, LANG: "C", LC_ALL: "C", HOME, DRCM_NODE: "n1" });
  });

  test("the shipped agents' settings and the names in DRCM_PASS_ENV pass; DRCM_PASS_ENV itself does not", async () => {
    const daemon = { ...SECRETS, ARPING_COUNT: "5", NFS_MOUNT_OPTIONS: "vers=4", MY_AGENT_DIR: "/srv/x", OTHER: "no", DRCM_PASS_ENV: "MY_AGENT_DIR, $(x) NOT_SET" };
    const r = await withDaemonEnv(daemon, () => runShell("env", { timeoutMs: 5000 }));
    expect(parseEnv(r.output)).toEqual({ PATH: SCRIPT_PATH, LANG: "C", LC_ALL: "C", HOME, ARPING_COUNT: "5", NFS_MOUNT_OPTIONS: "vers=4", MY_AGENT_DIR: "/srv/x" });
  });

  test("the caller's variables win over the defaults (a test's PATH, a run's DRCM_ACTION)", () => {
    expect(scriptEnvironment({ PATH: "/x", DRCM_ACTION: "stop" }, { PATH: "/evil", ARPING_WAIT: "1" })).toEqual({ PATH: "/x", LANG: "C", LC_ALL: "C", HOME, ARPING_WAIT: "1", DRCM_ACTION: "stop" });
  });

  test("a resource agent gets DRCM_NODE, DRCM_RESOURCE, DRCM_ACTION and not the daemon's secrets", async () => {
    const out = join(dir, "agent-env.txt");
    const script = join(dir, "agent.sh");
    writeFileSync(script, `#!/bin/sh\nenv > '${out}'\n`, { mode: 0o755 });
    const svc: ServiceResource = { kind: "service", nickname: "web", line: 5, serviceName: "httpd", script };
    const a = new AgentRunner(testCluster([svc], { logDir: join(dir, "log") }, dir), testNode());
    const r = await withDaemonEnv(SECRETS, () => a.perform({ id: 1, type: "start", slot: "service:web@cmnode1", reason: "t" }, slotOf(svc)));
    expect(r.ok).toBe(true);
    expect(parseEnv(readFileSync(out, "utf8"))).toEqual({ PATH: SCRIPT_PATH, LANG: "C", LC_ALL: "C", HOME, DRCM_NODE: "cmnode1", DRCM_RESOURCE: "service:web", DRCM_ACTION: "start" });
  });

  test("an alert script gets its DRCM_* event variables and not the daemon's secrets", async () => {
    const out = join(dir, "alert-env.txt");
    const script = join(dir, "alert.sh");
    writeFileSync(script, `#!/bin/sh\nenv > '${out}'\n`, { mode: 0o755 });
    const d = new AlertDispatcher({ scripts: [script], timeoutMs: 5000, self: "cmnode2", clusterFile: "/etc/drcm/cm.cfg", log: () => {} });
    await withDaemonEnv(SECRETS, async () => {
      d.emit({ type: "node_dead", node: "cmnode1", message: "gone" }, Date.UTC(2024, 0, 1));
      await d.drain(10_000);
    });
    const env = parseEnv(readFileSync(out, "utf8"));
    expect(env).toMatchObject({ PATH: SCRIPT_PATH, HOME, DRCM_EVENT: "node_dead", DRCM_NODE: "cmnode1", DRCM_SELF: "cmnode2", DRCM_CONFIG: "/etc/drcm/cm.cfg" });
    expect(Object.keys(env).filter((k) => !k.startsWith("DRCM_")).sort()).toEqual(["HOME", "LANG", "LC_ALL", "PATH"]);
  });
});
