// An application run through AgentRunner as a real unprivileged user the test creates (root only).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApplicationResource } from "../../lib/config/model.ts";
import { AgentRunner, applicationCommand } from "../../lib/io/agents.ts";
import { passwdEntry, type DaemonUser } from "../../lib/io/passwd.ts";
import { slotOf, testCluster, testNode } from "../fixtures/agents/cluster.ts";

const canRun = process.getuid?.() === 0 && Bun.which("useradd") !== null && Bun.which("su") !== null && Bun.which("runuser") !== null;
if (!canRun) console.log("agents-application.test.ts: needs root with useradd, su and runuser, skipping the real-user application tests");

const user = `drcmt${process.pid}`;
const extraGroup = `drcmg${process.pid}`;
const home = `/home/${user}`;
const dir = mkdtempSync(join(tmpdir(), `drcm-app-${process.pid}-`));
const sh = (cmd: string): number => Bun.spawnSync(["/bin/sh", "-c", cmd], { stdout: "ignore", stderr: "ignore" }).exitCode ?? -1;

beforeAll(() => {
  if (!canRun) return;
  sh(`groupadd ${extraGroup}`);
  sh(`useradd -m -d ${home} -s /bin/sh ${user}`);
});
afterAll(() => {
  if (canRun) {
    try {
      const pid = Number(readFileSync(join(home, "app.pid"), "utf8").trim());
      if (pid > 1) process.kill(pid, "SIGKILL");
    } catch {}
    sh(`userdel -r ${user}`);
    sh(`groupdel ${extraGroup}`);
  }
  rmSync(dir, { recursive: true, force: true });
});

// The "daemon" is a sleep; its pid lives in ~/app.pid. ensure_script restarts it when gone (a
// zombie counts as gone: test containers may have no init that reaps orphans).
const startDaemon = "sleep 300 </dev/null >/dev/null 2>&1 & echo $! > ~/app.pid";
const app = (group: string): ApplicationResource => ({
  kind: "application",
  nickname: "app",
  line: 1,
  user,
  group,
  start: `${startDaemon}; id -gn > ~/group.txt; echo $HOME > ~/home.txt; echo "$DRCM_NODE $DRCM_RESOURCE $DRCM_ACTION" > ~/drcm.txt`,
  stop: "kill $(cat ~/app.pid)",
  ensure: `case "$(ps -o stat= -p "$(cat ~/app.pid)")" in ""|Z*) ${startDaemon} ;; esac`,
});
const procOwner = (pid: number): { uid: number; zombie: boolean } | null => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return { uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), zombie: /^State:\s+Z/m.test(status) };
  } catch {
    return null;
  }
};
const running = (pid: number): boolean => {
  const o = procOwner(pid);
  return o !== null && !o.zombie;
};
const daemonPid = (): number => Number(readFileSync(join(home, "app.pid"), "utf8").trim());
const uidOf = (): number => Number(Bun.spawnSync(["id", "-u", user]).stdout.toString().trim());
const waitGone = (pid: number): void => {
  for (let i = 0; i < 200 && running(pid); i++) Bun.sleepSync(10);
};

describe("AgentRunner.perform() application", () => {
  test.skipIf(!canRun)("perform() starts an application as the user with a login environment and ;-separated commands", async () => {
    const a = app(user);
    const agents = new AgentRunner(testCluster([a], { logDir: dir }, dir), testNode());
    const r = await agents.perform({ id: 1, type: "start", slot: "application:app@cmnode1", reason: "t" }, slotOf(a));
    expect(r.ok).toBe(true);
    expect(readFileSync(join(home, "home.txt"), "utf8").trim()).toBe(home);
    expect(readFileSync(join(home, "group.txt"), "utf8").trim()).toBe(user);
    // su - wipes the environment: the drcm variables reach the program only because drcm sets them inside.
    expect(readFileSync(join(home, "drcm.txt"), "utf8").trim()).toBe("cmnode1 application:app start");
    const pid = daemonPid();
    expect(running(pid)).toBe(true);
    expect(procOwner(pid)!.uid).toBe(uidOf());
  });

  test.skipIf(!canRun)("perform() watch runs ensure_script, which brings the killed application back", async () => {
    const a = app(user);
    const agents = new AgentRunner(testCluster([a], { logDir: dir }, dir), testNode());
    const first = daemonPid();
    process.kill(first, "SIGKILL");
    waitGone(first);
    const r = await agents.perform({ id: 2, type: "watch", slot: "application:app@cmnode1", reason: "t" }, slotOf(a));
    expect(r.ok).toBe(true);
    const second = daemonPid();
    expect(second).not.toBe(first);
    expect(running(second)).toBe(true);
    expect(procOwner(second)!.uid).toBe(uidOf());
    expect((await agents.perform({ id: 3, type: "probe", slot: "application:app@cmnode1", reason: "t" }, slotOf(a))).ok).toBe(true);
  });

  test.skipIf(!canRun)("perform() stop runs the stop program as the user", async () => {
    const a = app(user);
    const agents = new AgentRunner(testCluster([a], { logDir: dir }, dir), testNode());
    const pid = daemonPid();
    const r = await agents.perform({ id: 4, type: "stop", slot: "application:app@cmnode1", reason: "t" }, slotOf(a));
    expect(r.ok).toBe(true);
    waitGone(pid);
    expect(running(pid)).toBe(false);
    expect(readFileSync(join(dir, "application_resource.log"), "utf8")).toContain("kill $(cat ~/app.pid)");
  });

  test.skipIf(!canRun)("perform() honours a group that is not the user's primary group", async () => {
    const a = app(extraGroup);
    const agents = new AgentRunner(testCluster([a], { logDir: dir }, dir), testNode());
    const r = await agents.perform({ id: 5, type: "start", slot: "application:app@cmnode1", reason: "t" }, slotOf(a));
    expect(r.ok).toBe(true);
    expect(readFileSync(join(home, "group.txt"), "utf8").trim()).toBe(extraGroup);
    await agents.perform({ id: 6, type: "stop", slot: "application:app@cmnode1", reason: "t" }, slotOf(a));
  });

  test.skipIf(!canRun)("applicationCommand() of a non-root daemon, run as that user, starts its own application without su", () => {
    // The daemon is the test user itself (runuser drops root first): no su, no sudo, no password.
    const pw = passwdEntry(user)!;
    const daemon: DaemonUser = { uid: Number(pw[2]), gid: Number(pw[3]), username: user, homedir: pw[5]!, shell: pw[6]! };
    const own: ApplicationResource = { ...app(user), start: `cd /; echo "$DRCM_NODE $DRCM_ACTION $(id -un)" > ~/self.txt; echo ~ >> ~/self.txt` };
    const cmd = applicationCommand(testCluster([own], { logDir: dir }, dir), own, own.start, { node: "cmnode2", resource: "application:app", action: "start" }, daemon);
    expect(cmd).not.toMatch(/\bsu\b|sudo/);
    const r = Bun.spawnSync(["runuser", "-u", user, "--", "/bin/sh", "-c", cmd], { cwd: "/", stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(home, "self.txt"), "utf8")).toBe(`cmnode2 start ${user}\n${home}\n`);
  });
});
