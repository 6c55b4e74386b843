// The init.d script drives a real drcm daemon: start (drcm --daemon), status from the pidfile, reload (HUP),
// stop that waits for the graceful release. One node on 127.0.0.1 with an application resource whose
// start/stop create/remove a marker file, so "stop releases its resources" is visible.
import { afterAll, describe, expect, test } from "bun:test";
import { $ } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pidAlive, readPidfile } from "../../lib/io/daemon.ts";

const repo = join(import.meta.dir, "..", "..");
const binary = process.env.DRCM_BINARY ?? join(repo, "dist", "drcm");
const script = join(repo, "packaging", "drcm.init");
const haveBinary = existsSync(binary);
if (!haveBinary) console.log("init.d tests skipped: dist/drcm is missing (run npm run build)");

const work = mkdtempSync(join(tmpdir(), `drcm-initd-${process.pid}-`));
const etc = join(work, "etc");
const cfg = join(etc, "cm.cfg");
const pidfile = join(work, "run", "drcm.pid");
const marker = join(work, "app-running");
const logDir = join(work, "log");
// A port per test process so parallel runs do not collide.
const port = 40000 + (process.pid % 20000);

function writeConfig(extra = ""): void {
  mkdirSync(etc, { recursive: true });
  const user = (process.env.USER ?? "root").trim() || "root";
  writeFileSync(
    cfg,
    `[CM_SERVER]
udpport = ${port}
log_dir = ${logDir}
run_dir = ${join(work, "run")}
spool_dir = ${join(work, "spool")}
${extra}
[CM_APPLICATIONS]
app, ${user}:${user}, touch ${marker}, rm -f ${marker}

[CM_NODE]
nodename = n1
hostname = initd-test-host
keep_alive_ip = 127.0.0.1
node_applications = app
`,
  );
}

const sysconfig = join(work, "sysconfig");
writeFileSync(
  sysconfig,
  `DRCM=${binary}\nCFGFILE=${cfg}\nPIDFILE=${pidfile}\nLOCKFILE=${join(work, "lock", "drcm")}\nSTOP_TIMEOUT=30\nARGS="--node=n1"\n`,
);

async function initd(action: string): Promise<{ code: number; out: string }> {
  const r = await $`sh ${script} ${action}`.env({ ...process.env, DRCM_SYSCONFIG: sysconfig }).quiet().nothrow();
  return { code: r.exitCode, out: r.stdout.toString() + r.stderr.toString() };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (let i = 0; i < 1000 && Date.now() < until; i++) {
    if (cond()) return true;
    await Bun.sleep(100);
  }
  return cond();
}

afterAll(() => {
  const pid = readPidfile(pidfile);
  if (pid !== null && pidAlive(pid)) process.kill(pid, "SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

describe("init.d", () => {
  test.skipIf(Bun.which("shellcheck") === null)("shellcheck accepts drcm.init", async () => {
    const r = await $`shellcheck ${script}`.quiet().nothrow();
    expect(r.stdout.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test("drcm.init carries chkconfig and LSB headers", () => {
    const text = readFileSync(script, "utf8");
    expect(text).toMatch(/^# chkconfig: 345 \d+ \d+$/m);
    expect(text).toContain("### BEGIN INIT INFO");
    expect(text).toMatch(/^# Provides: drcm$/m);
  });

  test.skipIf(!haveBinary)(
    "drcm.init start, status, reload and stop drive a real daemon that releases its resources",
    async () => {
      writeConfig();
      const key = await $`${binary} --keygen --config-file=${cfg}`.quiet().nothrow();
      expect(key.exitCode).toBe(0);

      expect((await initd("status")).code).toBe(3);
      const start = await initd("start");
      expect(start.out).toContain("started");
      expect(start.code).toBe(0);
      const pid = readPidfile(pidfile);
      expect(pid).not.toBeNull();
      expect(pidAlive(pid!)).toBe(true);

      const st = await initd("status");
      expect(st.code).toBe(0);
      expect(st.out).toContain(`pid ${pid}`);
      // A second start does not start a second daemon.
      expect((await initd("start")).out).toContain("already running");

      expect(await waitFor(() => existsSync(marker), 20_000)).toBe(true);

      const rl = await initd("reload");
      expect(rl.code).toBe(0);
      await Bun.sleep(300);
      expect(pidAlive(pid!)).toBe(true);

      const stop = await initd("stop");
      expect(stop.out).toContain("stopped");
      expect(stop.code).toBe(0);
      expect(pidAlive(pid!)).toBe(false);
      // The graceful stop ran the application's stop command.
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(pidfile)).toBe(false);
      expect((await initd("status")).code).toBe(3);
      // The log has 1.x lines with a level word.
      expect(readFileSync(join(logDir, "drcm.log"), "utf8")).toMatch(/^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} drcm_server: (INFO|WARNING|ERROR|DEBUG) - /m);
    },
    60_000,
  );

  test.skipIf(!haveBinary)("drcm.init status reports a dead daemon with a pidfile as 1 and stop clears it", async () => {
    mkdirSync(join(work, "run"), { recursive: true });
    // A pid that exited: a finished child.
    const p = Bun.spawn(["true"]);
    await p.exited;
    writeFileSync(pidfile, `${p.pid}\n`);
    const st = await initd("status");
    expect(st.code).toBe(1);
    expect(st.out).toContain("dead but pidfile");
    expect((await initd("stop")).code).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
  });

  test.skipIf(!haveBinary)(
    "drcm.init never trusts or signals a pidfile whose pid now belongs to another program, and then starts drcm",
    async () => {
      writeConfig();
      if (!existsSync(join(etc, ".auth", "authkey"))) expect((await $`${binary} --keygen --config-file=${cfg}`.quiet().nothrow()).exitCode).toBe(0);
      mkdirSync(join(work, "run"), { recursive: true });
      // The impostor even names the drcm binary, the pidfile and the config on its command line; only its
      // executable tells it apart.
      const other = Bun.spawn(["sh", "-c", "sleep 300", binary, `--pidfile=${pidfile}`, `--config-file=${cfg}`], { detached: true, stdio: ["ignore", "ignore", "ignore"] });
      try {
        writeFileSync(pidfile, `${other.pid}\n`);
        const st = await initd("status");
        expect(st.out).toContain("dead but pidfile");
        expect(st.code).toBe(1);
        const stop = await initd("stop");
        expect(stop.code).toBe(0);
        expect(existsSync(pidfile)).toBe(false);
        expect(pidAlive(other.pid)).toBe(true);

        writeFileSync(pidfile, `${other.pid}\n`);
        const start = await initd("start");
        expect(start.out).toContain("started");
        expect(start.code).toBe(0);
        const pid = readPidfile(pidfile);
        expect(pid).not.toBeNull();
        expect(pid).not.toBe(other.pid);
        expect((await initd("status")).code).toBe(0);
        expect((await initd("stop")).code).toBe(0);
        expect(pidAlive(pid!)).toBe(false);
        expect(pidAlive(other.pid)).toBe(true);
      } finally {
        try {
          process.kill(-other.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    },
    60_000,
  );

  test.skipIf(!haveBinary)(
    "drcm.init reload refuses a config with errors: prints them, sends no SIGHUP and exits 1",
    async () => {
      writeConfig();
      if (!existsSync(join(etc, ".auth", "authkey"))) expect((await $`${binary} --keygen --config-file=${cfg}`.quiet().nothrow()).exitCode).toBe(0);
      const start = await initd("start");
      expect(start.code).toBe(0);
      const pid = readPidfile(pidfile)!;
      const log = join(logDir, "drcm.log");
      const hups = (): number => (existsSync(log) ? readFileSync(log, "utf8").split("Received SIGHUP").length - 1 : 0);
      // The log dir is shared with the other tests: count from here.
      const before = hups();
      try {
        const ok = await initd("reload");
        expect(ok.code).toBe(0);
        expect(await waitFor(() => hups() === before + 1, 10_000)).toBe(true);

        writeFileSync(cfg, readFileSync(cfg, "utf8").replace(/^udpport = \d+$/m, "udpport = banana"));
        const bad = await initd("reload");
        expect(bad.code).toBe(1);
        expect(bad.out).toContain("FAILED");
        expect(bad.out).toContain('ERROR - Cannot parse "udpport"');
        expect(bad.out).not.toContain("done");
        await Bun.sleep(500);
        expect(hups()).toBe(before + 1);
        expect(pidAlive(pid)).toBe(true);
      } finally {
        writeConfig();
        await initd("stop");
      }
      expect(pidAlive(pid)).toBe(false);
    },
    60_000,
  );

  test.skipIf(!haveBinary)("drcm.init start fails with drcm's own message when the daemon cannot start", async () => {
    writeConfig("this line is not a key\n[CM_NODE]\nnodename = broken\n");
    const r = await initd("start");
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("FAILED");
    expect(r.out).toMatch(/ERROR/);
    expect(readPidfile(pidfile)).toBeNull();
  });
});
