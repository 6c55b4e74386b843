// Issue 10: `drcm demo` (npm start) runs a real 3-node cluster, fails node1 over to node2 and back,
// and leaves nothing behind, both when it finishes and when it is interrupted with Ctrl-C.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const REPO = join(import.meta.dir, "../..");
const DRCM_BIN = resolve(process.env.DRCM_BIN ?? join(REPO, "dist/drcm"));
const haveBinary = existsSync(DRCM_BIN);
if (!haveBinary) console.log(`skipping demo tests on the binary: no binary at ${DRCM_BIN} (npm run build)`);
const npm = Bun.which("npm");
if (npm === null) console.log("skipping the npm start demo test: npm is not on PATH");

/** Can an ordinary user run the binary (o+x on every directory above it, o+rx on it)? */
function othersCanRun(file: string): boolean {
  const parts = file.split("/").filter((p) => p !== "");
  for (let i = 1; i < parts.length; i++) if ((statSync(`/${parts.slice(0, i).join("/")}`).mode & 0o001) === 0) return false;
  return (statSync(file).mode & 0o005) === 0o005;
}
const root = process.getuid?.() === 0;
const canRunAsUser = haveBinary && root && Bun.which("useradd") !== null && Bun.which("runuser") !== null && othersCanRun(DRCM_BIN);
if (haveBinary && !canRunAsUser) console.log("skipping the demo as an ordinary user: needs root, useradd, runuser and a binary others may run");

/** Processes whose command line names `dir`. */
function processesNaming(dir: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Processes owned by `uid` (none for uid 0 or NaN: only a test user's are looked for). */
function processesOf(uid: number): number[] {
  if (!(uid > 0)) return [];
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${e}/status`, "utf8"))?.[1]) === uid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const demoDir = (transcript: string): string => {
  const m = /files in (\S*drcm-demo-\S+)/.exec(transcript);
  expect(m).not.toBeNull();
  return m![1]!;
};

/** Runs a demo command with stdout a pipe; kills its process group after `timeoutMs`. */
async function runDemo(cmd: string[], cwd: string, timeoutMs: number): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" }, detached: true });
  const timer = setTimeout(() => {
    try {
      process.kill(-p.pid, "SIGKILL");
    } catch {
      // gone
    }
  }, timeoutMs);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, out, err };
}

function checkStory(out: string): void {
  expect(out).toMatch(/Cluster up after \d+ ms/);
  expect(out).toMatch(/Takeover: ledger answered on node2 \d+ ms after the SIGKILL/);
  expect(out).toMatch(/drcm reported ledger and jobs held by node2 after \d+ ms/);
  expect(out).toMatch(/Failback: ledger and jobs back on node1 \d+ ms after its restart/);
  // The takeover snapshot shows node2 holding node1's resources as backup, the last one a healthy cluster.
  const takeover = out.split("----- cm_stat after takeover")[1]?.split("\n-----\n")[0] ?? "";
  expect(takeover).toMatch(/ledger\s+node2\S*\s+OK-Backup/);
  expect(takeover).toMatch(/jobs\s+node2\S*\s+OK-Backup/);
  const final = out.split("----- cm_stat after failback")[1]?.split("\n-----\n")[0] ?? "";
  expect(final).toMatch(/Cluster status: HEALTHY/);
  expect(final).toMatch(/ledger\s+node1\S*\s+OK-Normal/);
  expect(out.trimEnd().split("\n").at(-1)).toMatch(/demo finished, nothing left behind/);
}

describe("drcm demo", () => {
  test.skipIf(!haveBinary)("runDemo() on a pipe runs the whole story, exits 0 and leaves nothing behind", async () => {
    const r = await runDemo([DRCM_BIN, "demo"], REPO, 150_000);
    if (r.code !== 0) console.log(r.out, r.err);
    expect(r.code).toBe(0);
    checkStory(r.out);
    const dir = demoDir(r.out);
    expect(existsSync(dir)).toBe(false);
    expect(processesNaming(dir)).toEqual([]);
    for (const l of r.out.split("\n").filter((x) => /Takeover:|Failback:/.test(x))) console.log(`  ${l.trim()}`);
  }, 160_000);

  test.skipIf(npm === null)("runDemo() through `npm start` (bun drcm.ts demo) tells the same story", async () => {
    const r = await runDemo([npm!, "start", "--silent"], REPO, 150_000);
    if (r.code !== 0) console.log(r.out, r.err);
    expect(r.code).toBe(0);
    checkStory(r.out);
    const dir = demoDir(r.out);
    expect(existsSync(dir)).toBe(false);
    expect(processesNaming(dir)).toEqual([]);
  }, 160_000);

  test.skipIf(!canRunAsUser)("runDemo() as an ordinary user runs its [CM_APPLICATIONS] as that user, without su or a password", async () => {
    // The newcomer's case: `npm start` without root. A user created for the test, removed after.
    const user = `drcmdu${process.pid}`;
    const home = `/home/${user}`;
    expect(Bun.spawnSync(["useradd", "-m", "-d", home, "-s", "/bin/sh", user]).exitCode).toBe(0);
    try {
      const r = await runDemo(["runuser", "-u", user, "--", "env", `HOME=${home}`, `USER=${user}`, DRCM_BIN, "demo"], "/", 150_000);
      if (r.code !== 0) console.log(r.out, r.err);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`run as ${user}:${user} in a login shell`);
      checkStory(r.out);
      expect(r.out).toMatch(/-> "web on node3"/);
      const dir = demoDir(r.out);
      expect(existsSync(dir)).toBe(false);
      expect(processesNaming(dir)).toEqual([]);
      for (const l of r.out.split("\n").filter((x) => /Takeover:|Failback:/.test(x))) console.log(`  as ${user}: ${l.trim()}`);
    } finally {
      // Whatever the user still runs was started by this test (the user did not exist before it).
      const uid = Number(Bun.spawnSync(["id", "-u", user]).stdout.toString().trim());
      for (const pid of processesOf(uid)) process.kill(pid, "SIGKILL");
      Bun.spawnSync(["userdel", "-r", user], { stderr: "ignore" });
    }
  }, 160_000);

  test.skipIf(!haveBinary)("runDemo() stops everything promptly on Ctrl-C (SIGINT) once the cluster is up", async () => {
    const p = Bun.spawn([DRCM_BIN, "demo"], { cwd: REPO, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
    const reader = p.stdout.getReader();
    const dec = new TextDecoder();
    let out = "";
    const t0 = performance.now();
    for (let i = 0; i < 10_000 && !/Cluster up after/.test(out) && performance.now() - t0 < 30_000; i++) {
      const chunk = await Promise.race([reader.read(), Bun.sleep(30_000 - (performance.now() - t0)).then(() => null)]);
      if (chunk === null || chunk.done) break;
      out += dec.decode(chunk.value);
    }
    expect(out).toMatch(/Cluster up after/);
    const dir = demoDir(out);
    expect(processesNaming(dir).length).toBeGreaterThan(3);
    const tSig = performance.now();
    process.kill(p.pid, "SIGINT");
    const code = await Promise.race([p.exited, Bun.sleep(20_000).then(() => null)]);
    if (code === null) process.kill(-p.pid, "SIGKILL");
    for (let r = await reader.read(); !r.done; r = await reader.read()) out += dec.decode(r.value);
    expect(code).toBe(130);
    expect(out).toMatch(/demo stopped, nothing left behind/);
    console.log(`  SIGINT -> demo exited after ${Math.round(performance.now() - tSig)} ms`);
    expect(existsSync(dir)).toBe(false);
    expect(processesNaming(dir)).toEqual([]);
  }, 60_000);
});
