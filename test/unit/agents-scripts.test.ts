// The shell agents in resources/, run for real against temporary directories and stand-ins.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const res = (name: string): string => join(root, "resources", name);
const fixtures = join(root, "test/fixtures/agents");
const dir = mkdtempSync(join(tmpdir(), `drcm-agent-scripts-${process.pid}-`));
const pids: number[] = [];
afterAll(() => {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
});

function run(script: string, args: string[], env: Record<string, string> = {}): { code: number; out: string } {
  const r = Bun.spawnSync([res(script), ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

const hasShellcheck = Bun.which("shellcheck") !== null;
if (!hasShellcheck) console.log("agents-scripts.test.ts: shellcheck not installed, skipping the lint test (apt-get install shellcheck)");

describe("resources/*.sh", () => {
  test.skipIf(!hasShellcheck)("shellcheck resources/*.sh reports nothing", () => {
    const files = ["crontab.sh", "ipv4addr.sh", "ipv6addr.sh", "ipv4addr_multi.sh", "service.sh", "nfs.sh", "cifs.sh", "mount_common.sh"].map(res);
    const r = Bun.spawnSync(["shellcheck", "-x", ...files], { cwd: root });
    expect(r.stdout.toString() + r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test.each<[string, string[]]>([
    ["crontab.sh", ["only-one"]],
    ["crontab.sh", ["t", "d", "launch"]],
    ["ipv4addr.sh", ["10.0.0.1", "24", "eth0"]],
    ["ipv4addr.sh", ["10.0.0.300", "24", "eth0", "start"]],
    ["ipv4addr.sh", ["10.0.0.1", "255.0.255.0", "eth0", "start"]],
    ["service.sh", ["httpd"]],
    ["service.sh", ["httpd", "bounce"]],
    ["nfs.sh", ["srv:/d", "/mnt"]],
    ["nfs.sh", ["nocolon", "/mnt", "mount"]],
    ["cifs.sh", ["//h/s", "/mnt", "attach"]],
  ])("%s %p prints usage and exits 2", (script, args) => {
    const r = run(script, args);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`Usage: ${script}`);
  });
});

describe("crontab.sh", () => {
  const tpl = join(dir, "crontabs", "system_crons");
  const cronD = join(dir, "cron.d");
  const sysCrontab = join(dir, "crontab");
  const env = { DRCM_SYSTEM_CRONTAB: sysCrontab };
  mkdirSync(join(dir, "crontabs"), { recursive: true });
  mkdirSync(cronD, { recursive: true });
  writeFileSync(tpl, "*/5 * * * * root /usr/local/bin/job\n");
  writeFileSync(sysCrontab, "# system\n");
  const installed = join(cronD, "system_crons");

  test("crontab.sh start installs a 0644 copy and touches the system crontab", () => {
    chmodSync(tpl, 0o600);
    utimesSync(sysCrontab, new Date(2000, 0, 1), new Date(2000, 0, 1));
    const r = run("crontab.sh", [tpl, cronD, "start"], env);
    expect(r.code).toBe(0);
    expect(readFileSync(installed, "utf8")).toBe(readFileSync(tpl, "utf8"));
    expect(statSync(installed).mode & 0o777).toBe(0o644);
    expect(statSync(sysCrontab).mtime.getFullYear()).toBeGreaterThan(2000);
  });

  test("crontab.sh watch checks without changing anything", () => {
    expect(run("crontab.sh", [tpl, cronD, "watch"], env).code).toBe(0);
    writeFileSync(installed, "changed\n");
    expect(run("crontab.sh", [tpl, cronD, "watch"], env).code).toBe(1);
    expect(readFileSync(installed, "utf8")).toBe("changed\n");
  });

  test("crontab.sh stop removes the file and a second stop still succeeds", () => {
    expect(run("crontab.sh", [tpl, cronD, "stop"], env).code).toBe(0);
    expect(existsSync(installed)).toBe(false);
    expect(run("crontab.sh", [tpl, cronD, "stop"], env).code).toBe(0);
    expect(run("crontab.sh", [tpl, cronD, "watch"], env).code).toBe(1);
  });

  test("crontab.sh start fails on a missing template or install directory", () => {
    expect(run("crontab.sh", [join(dir, "nope"), cronD, "start"], env).code).toBe(1);
    expect(run("crontab.sh", [tpl, join(dir, "no-dir"), "start"], env).code).toBe(1);
  });
});

describe("service.sh (SysV init script)", () => {
  const initd = join(dir, "init.d");
  const state = join(dir, "svc-state");
  mkdirSync(initd, { recursive: true });
  mkdirSync(state, { recursive: true });
  copyFileSync(join(fixtures, "initd/demo"), join(initd, "demo"));
  copyFileSync(join(fixtures, "initd/plain"), join(initd, "plain"));
  chmodSync(join(initd, "demo"), 0o755);
  chmodSync(join(initd, "plain"), 0o755);
  const env = { DRCM_INITD_DIR: initd, DEMO_STATE: state };
  const pidOf = (name: string): number => Number(readFileSync(join(state, `${name}.pid`), "utf8").trim());
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
    } catch {
      return false;
    }
  };

  test("service.sh status exits 3 for a stopped service and start makes it 0", () => {
    const stopped = run("service.sh", ["demo", "status"], env);
    expect(stopped.code).toBe(3);
    expect(stopped.out).toContain("is stopped");
    expect(run("service.sh", ["demo", "start"], env).code).toBe(0);
    pids.push(pidOf("demo"));
    expect(alive(pidOf("demo"))).toBe(true);
    expect(run("service.sh", ["demo", "status"], env).code).toBe(0);
  });

  test("service.sh watch restarts a dead service", () => {
    const first = pidOf("demo");
    process.kill(first, "SIGKILL");
    for (let i = 0; i < 100 && alive(first); i++) Bun.sleepSync(10);
    expect(run("service.sh", ["demo", "status"], env).code).toBe(3);
    const r = run("service.sh", ["demo", "watch"], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain("restarting");
    pids.push(pidOf("demo"));
    expect(pidOf("demo")).not.toBe(first);
    expect(alive(pidOf("demo"))).toBe(true);
  });

  test("service.sh reload really reloads when the init script can", () => {
    const before = pidOf("demo");
    expect(run("service.sh", ["demo", "reload"], env).code).toBe(0);
    expect(readFileSync(join(state, "reloads"), "utf8")).toBe("reload\n");
    expect(pidOf("demo")).toBe(before);
  });

  test("service.sh reload restarts a service that has no reload", () => {
    expect(run("service.sh", ["plain", "start"], env).code).toBe(0);
    const before = pidOf("plain");
    pids.push(before);
    const r = run("service.sh", ["plain", "reload"], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain("has no reload");
    pids.push(pidOf("plain"));
    expect(pidOf("plain")).not.toBe(before);
    expect(run("service.sh", ["plain", "stop"], env).code).toBe(0);
  });

  test("service.sh stop stops the service and is idempotent", () => {
    const pid = pidOf("demo");
    expect(run("service.sh", ["demo", "stop"], env).code).toBe(0);
    for (let i = 0; i < 100 && alive(pid); i++) Bun.sleepSync(10);
    expect(alive(pid)).toBe(false);
    expect(run("service.sh", ["demo", "stop"], env).code).toBe(0);
    expect(run("service.sh", ["demo", "status"], env).code).toBe(3);
  });

  test("service.sh fails clearly for an unknown service", () => {
    const r = run("service.sh", ["nosuch", "start"], env);
    expect(r.code).toBe(1);
    expect(r.out).toContain("No init script");
  });
});

describe("nfs.sh and cifs.sh (stand-in mount)", () => {
  const fake = join(dir, "fs");
  mkdirSync(fake, { recursive: true });
  const mounts = join(fake, "mounts");
  const calls = join(fake, "calls");
  const stale = join(fake, "stale");
  const hang = join(fake, "hang");
  const etc = join(fake, "etc");
  const target = join(fake, "mnt", "data");
  const env = {
    PATH: `${join(fixtures, "fakebin")}:${process.env.PATH}`,
    DRCM_MOUNTS_FILE: mounts,
    FAKE_CALLS: calls,
    FAKE_STALE: stale,
    FAKE_HANG: hang,
    DRCM_ETC: etc,
    DRCM_STAT_TIMEOUT: "0.3",
  };
  const reset = (): void => {
    writeFileSync(mounts, "");
    writeFileSync(calls, "");
    rmSync(stale, { force: true });
    rmSync(hang, { force: true });
  };
  const callLog = (): string[] => readFileSync(calls, "utf8").trimEnd().split("\n").filter((l) => l !== "");

  test("nfs.sh mount creates the mount point, mounts once and watch then does nothing", () => {
    reset();
    expect(run("nfs.sh", ["srv:/data", target, "mount"], env).code).toBe(0);
    expect(existsSync(join(target, "not_mounted"))).toBe(true);
    expect(run("nfs.sh", ["srv:/data", target, "mount"], env).code).toBe(0);
    expect(run("nfs.sh", ["srv:/data", target, "watch"], env).code).toBe(0);
    expect(callLog()).toEqual([`mount srv:/data ${target}`]);
  });

  test("nfs.sh watch remounts on a stale file handle", () => {
    writeFileSync(calls, "");
    writeFileSync(stale, "");
    const r = run("nfs.sh", ["srv:/data", target, "watch"], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Stale file handle");
    expect(callLog()).toEqual([`umount -f -l ${target}`, `mount srv:/data ${target}`]);
  });

  test("nfs.sh watch fails when the handle stays stale after remount", () => {
    writeFileSync(stale, "");
    const r = run("nfs.sh", ["srv:/data", target, "watch"], { ...env, FAKE_STALE_STICKY: "1" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("still stale");
    rmSync(stale, { force: true });
  });

  test("nfs.sh watch treats a hanging stat as stale", () => {
    writeFileSync(calls, "");
    writeFileSync(hang, "");
    const r = run("nfs.sh", ["srv:/data", target, "watch"], { ...env, FAKE_STALE_STICKY: "1" });
    rmSync(hang, { force: true });
    expect(r.out).toContain("Stale file handle");
    expect(callLog()).toContain(`mount srv:/data ${target}`);
  });

  test("nfs.sh watch mounts an unmounted filesystem and unmount removes it", () => {
    reset();
    expect(run("nfs.sh", ["srv:/data", target, "watch"], env).code).toBe(0);
    expect(readFileSync(mounts, "utf8")).toContain(`srv:/data ${target}`);
    expect(run("nfs.sh", ["srv:/data", target, "unmount"], env).code).toBe(0);
    expect(readFileSync(mounts, "utf8")).toBe("");
    expect(run("nfs.sh", ["srv:/data", target, "umount"], env).code).toBe(0);
  });

  test("nfs.sh mount fails when mount fails", () => {
    reset();
    const r = run("nfs.sh", ["srv:/data", target, "mount"], { ...env, FAKE_MOUNT_FAIL: "1" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("Cannot mount");
  });

  const creds = join(etc, ".auth", "cifs-fileserver");
  test("cifs.sh creates a 0600 credentials template and fails without mounting", () => {
    reset();
    const r = run("cifs.sh", ["//fileserver/share", target, "mount"], env);
    expect(r.code).toBe(1);
    expect(r.out).toContain(creds);
    expect(statSync(creds).mode & 0o777).toBe(0o600);
    expect(readFileSync(creds, "utf8")).toContain("username=");
    expect(callLog()).toEqual([]);
  });

  test("cifs.sh refuses a credentials file readable by others", () => {
    writeFileSync(creds, "username=web\npassword=s3cret\n");
    chmodSync(creds, 0o644);
    const r = run("cifs.sh", ["//fileserver/share", target, "mount"], env);
    expect(r.code).toBe(1);
    expect(r.out).toContain("readable by group or others");
    expect(callLog()).toEqual([]);
  });

  test("cifs.sh mounts with credentials=FILE and never puts the password on the command line", () => {
    chmodSync(creds, 0o600);
    expect(run("cifs.sh", ["//fileserver/share", target, "mount"], { ...env, CIFS_MOUNT_OPTIONS: "uid=0,gid=100" }).code).toBe(0);
    writeFileSync(stale, "");
    expect(run("cifs.sh", ["//fileserver/share", target, "watch"], env).code).toBe(0);
    const log = callLog();
    expect(log[0]).toBe(`mount -t cifs -o credentials=${creds},uid=0,gid=100 //fileserver/share ${target}`);
    expect(log).toContain(`mount -t cifs -o credentials=${creds} //fileserver/share ${target}`);
    expect(log.join("\n")).not.toContain("s3cret");
  });
});
