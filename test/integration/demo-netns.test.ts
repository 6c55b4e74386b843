// Issue 10, `drcm demo --netns`: the same story in network namespaces with a real floating IP and a
// client namespace that measures the outage. Root only; otherwise the demo must refuse clearly.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";

const REPO = join(import.meta.dir, "../..");
const DRCM_BIN = process.env.DRCM_BIN ?? join(REPO, "dist/drcm");
const haveBinary = existsSync(DRCM_BIN);
const root = typeof process.getuid === "function" && process.getuid() === 0;
const ipOk = Bun.spawnSync(["sh", "-c", "ip netns list"]).exitCode === 0;
if (!haveBinary) console.log(`skipping demo --netns tests: no binary at ${DRCM_BIN} (npm run build)`);
else if (!root || !ipOk) console.log("skipping demo --netns story test: needs root and ip netns");

const namespaces = (): string[] =>
  Bun.spawnSync(["ip", "netns", "list"]).stdout.toString().split("\n").filter((l) => l.startsWith("drcmdemo"));

test.skipIf(!haveBinary || !root || !ipOk)("runNetnsDemo() fails over a real floating IP, prints the client outage and removes its namespaces", async () => {
  const p = Bun.spawn([DRCM_BIN, "demo", "--netns"], { stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
  const timer = setTimeout(() => process.kill(-p.pid, "SIGKILL"), 150_000);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  clearTimeout(timer);
  if (code !== 0) console.log(out, err);
  expect(code).toBe(0);
  expect(out).toMatch(/client outage at the floating IP during the takeover: \d+ ms, then "ledger on node2"/);
  expect(out).toMatch(/client outage at the floating IP during the restart and failback: \d+ ms, then "ledger on node1"/);
  expect(out).toMatch(/IPaddr:\s+vip\s+node2\S*\s+OK-Backup/);
  expect(out).toMatch(/demo finished, nothing left behind/);
  for (const l of out.split("\n").filter((x) => /client outage/.test(x))) console.log(`  ${l.trim()}`);
  const m = /files in (\S+)/.exec(out);
  expect(existsSync(m![1]!)).toBe(false);
  expect(namespaces().filter((n) => n.includes(String(p.pid)))).toEqual([]);
}, 160_000);

// As root the refusal is checked as user nobody (setpriv, util-linux); it skips only as root without setpriv.
const setpriv = Bun.which("setpriv");
const drop = setpriv === null ? null : [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"];
// nobody must be able to run the binary where this checkout lives (a 0700 home would stop it).
const nobodyRuns = drop !== null && haveBinary && Bun.spawnSync([...drop, DRCM_BIN, "--version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
const asUser = !root ? [] : nobodyRuns ? drop : null;
if (haveBinary && asUser === null) console.log("skipping the not-root refusal of demo --netns: running as root, and user nobody cannot run the binary here (no setpriv, or the path is closed to others)");

test.skipIf(!haveBinary || asUser === null)("runNetnsDemo() refuses clearly without root", async () => {
  const r = Bun.spawnSync([...asUser!, DRCM_BIN, "demo", "--netns"], { stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(1);
  expect(r.stderr.toString()).toMatch(/drcm demo --netns cannot run: it needs root/);
});
