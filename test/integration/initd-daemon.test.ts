// daemonize() with real child processes: a fixture script stands in for the server (run as `bun script.ts`,
// the source-run path), writing its pidfile or failing like a server with a bad config would.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemonize, pidAlive, readPidfile, removePidfile, selfCommand, writePidfile } from "../../lib/io/daemon.ts";

const work = mkdtempSync(join(tmpdir(), `drcm-daemon-${process.pid}-`));
const started: number[] = [];
afterAll(() => {
  for (const pid of started) if (pidAlive(pid)) process.kill(pid, "SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

const fixture = join(work, "fake-server.ts");
writeFileSync(
  fixture,
  `const arg = (n: string) => process.argv.find((a) => a.startsWith("--" + n + "="))?.split("=")[1];
if (process.argv.includes("--daemon")) { console.error("ERROR - --daemon was passed on"); process.exit(3); }
if (process.argv.includes("--fail")) { console.error("drcm: ERROR - Cannot bind UDP port 53897: address in use"); process.exit(1); }
if (!process.argv.includes("--silent")) await Bun.write(arg("pidfile")!, process.pid + "\\n");
process.on("SIGTERM", () => process.exit(0));
setInterval(() => {}, 1000);
`,
);

const bunArgv = (...args: string[]): string[] => [process.execPath, fixture, "--daemon", ...args];

describe("daemonize", () => {
  test("daemonize() returns 0 once the detached child wrote its pid, and the child outlives the call", async () => {
    const pidfile = join(work, "ok.pid");
    const code = await daemonize(bunArgv(`--pidfile=${pidfile}`), pidfile);
    expect(code).toBe(0);
    const pid = readPidfile(pidfile)!;
    started.push(pid);
    expect(pid).not.toBe(process.pid);
    expect(pidAlive(pid)).toBe(true);
    // setsid: the child leads its own session and process group.
    const stat = await Bun.file(`/proc/${pid}/stat`).text();
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    expect(Number(fields[3])).toBe(pid); // session id
    // A second daemonize refuses while the first runs.
    expect(await daemonize(bunArgv(`--pidfile=${pidfile}`), pidfile)).toBe(1);
    process.kill(pid, "SIGTERM");
  });

  test("daemonize() returns 1 when the child exits first, passing on the child's own error text", async () => {
    const pidfile = join(work, "fail.pid");
    const errs: string[] = [];
    const orig = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
    let code: number;
    try {
      code = await daemonize(bunArgv(`--pidfile=${pidfile}`, "--fail"), pidfile);
    } finally {
      process.stderr.write = orig;
    }
    expect(code).toBe(1);
    expect(errs.join("")).toContain("Cannot bind UDP port 53897");
    expect(readPidfile(pidfile)).toBeNull();
  });

  test("selfCommand() drops --daemon and keeps the script path only when running from source", () => {
    expect(selfCommand(["bun", "/$bunfs/root/drcm", "--daemon", "--pidfile=/p"], "/usr/sbin/drcm")).toEqual(["/usr/sbin/drcm", "--pidfile=/p"]);
    expect(selfCommand([process.execPath, fixture, "--daemon", "-d"], process.execPath)).toEqual([process.execPath, fixture, "-d"]);
  });

  test("writePidfile() takes over a pidfile whose pid now runs another program, even one that names drcm", async () => {
    const p = join(work, "reused.pid");
    const other = Bun.spawn(["sh", "-c", "sleep 30", "/usr/sbin/drcm", "--daemon", `--pidfile=${p}`], { detached: true, stdio: ["ignore", "ignore", "ignore"] });
    try {
      writeFileSync(p, `${other.pid}\n`);
      writePidfile(p);
      expect(readPidfile(p)).toBe(process.pid);
      removePidfile(p);
    } finally {
      // The whole group: sh's sleep child too.
      process.kill(-other.pid, "SIGKILL");
    }
  });

  test("writePidfile() refuses a pidfile held by another live drcm and removePidfile() removes only its own", () => {
    const p = join(work, "own.pid");
    writePidfile(p, 4242424);
    expect(readPidfile(p)).toBe(4242424);
    // A dead pid does not block: the file is taken over.
    writePidfile(p);
    expect(readPidfile(p)).toBe(process.pid);
    removePidfile(p, 1);
    expect(readPidfile(p)).toBe(process.pid);
    removePidfile(p);
    expect(readPidfile(p)).toBeNull();
  });
});
