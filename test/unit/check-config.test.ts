import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { authFindings, checkEnvironment } from "../../lib/config/checks.ts";
import { loadCluster, parseClusterText } from "../../lib/config/load.ts";
import type { Finding } from "../../lib/config/model.ts";
import { findSelf } from "../../lib/config/self.ts";
import { readAuthKey } from "../../lib/config/auth.ts";
import { errorLines, loadAndCheck, usableCluster } from "../../lib/config/verify.ts";

const ROOT = mkdtempSync(join(tmpdir(), `drcm-h1-check-${process.pid}-`));
const DRCM = join(import.meta.dir, "../../drcm.ts");
const SAMPLE = readFileSync(join(import.meta.dir, "../fixtures/config/1.41-sample.cfg"), "utf8");
const BAD = readFileSync(join(import.meta.dir, "../fixtures/config/1.41-bad.cfg"), "utf8");
let n = 0;

afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

/** A complete etc dir for the 1.41 sample: scripts, templates, dirs and a key from the manual's recipe. */
/**
 * `npm test` may run as an ordinary user: there, cluster_user = root rightly gives a WARNING, so the
 * fixtures name the user running the tests instead (drcm's check only asks that it is root when root is named).
 */
const RUNNING_AS_ROOT = process.geteuid?.() === 0;
function asThisUser(cfg: string): string {
  if (RUNNING_AS_ROOT) return cfg;
  // (id, not os.userInfo(): Bun 1.4.5 answers "unknown" for the name when $USER is unset.)
  const me = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
  if (/^cluster_user = root$/m.test(cfg)) return cfg.replace(/^cluster_user = root$/m, `cluster_user = ${me}`);
  return cfg.replace(/^\[CM_SERVER\]$/m, `[CM_SERVER]\ncluster_user = ${me}`);
}

/** The 1.41 sample made clean: a valid dead_node_count, and a tie-breaker for its two nodes in place of a default setting (line numbers stay). */
function makeEtc(cfg: string = SAMPLE.replace("dead_node_count = 1", "dead_node_count = 4").replace("bind_to_keep_alive_ip = 1", "ping_targets = 127.0.0.1")): { dir: string; file: string } {
  const dir = join(ROOT, `etc${n++}`);
  for (const d of ["resources", "crontabs", "app", "n1/cron.d", "n1/run", "n1/log", "n1/spool", ".auth"]) mkdirSync(join(dir, d), { recursive: true });
  for (const s of ["resources/crontab.sh", "resources/ipv4addr.sh", "app/sleeper.sh"]) writeFileSync(join(dir, s), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  for (const t of ["crontabs/cx_crons", "crontabs/cx2_crons"]) writeFileSync(join(dir, t), "# nothing\n");
  chmodSync(join(dir, ".auth"), 0o700);
  const file = join(dir, "cm.cfg");
  writeFileSync(file, asThisUser(cfg.replaceAll("<DIR>", dir)));
  return { dir, file };
}

/** The manual's recipe, run by /bin/sh exactly as written there. */
async function manualKey(dir: string): Promise<void> {
  const a = join(dir, ".auth");
  const recipe = [
    `dd if=/dev/urandom bs=1024 count=2 > ${a}/authkey 2>/dev/null`,
    `sha1sum ${a}/authkey | cut -b1-40 > ${a}/authkey.sha1`,
    `chmod 600 ${a}/authkey ${a}/authkey.sha1`,
  ].join(" && ");
  const r = Bun.spawnSync(["/bin/sh", "-c", recipe]);
  expect(r.exitCode).toBe(0);
}

async function envFindings(file: string, opts: { node: string | null; hostname?: string } = { node: "cmnode1" }): Promise<Finding[]> {
  const { cluster } = await loadCluster(file);
  return checkEnvironment(cluster!, opts);
}
const bad = (fs: Finding[]) => fs.filter((f) => f.severity !== "INFO").map((f) => `${f.severity} ${f.message}`);

describe("checkEnvironment()", () => {
  let etc: { dir: string; file: string };
  beforeEach(async () => {
    etc = makeEtc();
    await manualKey(etc.dir);
  });

  test("checkEnvironment() passes a complete etc dir with a key made by the manual's recipe", async () => {
    expect(bad(await envFindings(etc.file))).toEqual([]);
  });

  test("checkEnvironment() reports a missing resource script", async () => {
    rmSync(join(etc.dir, "resources/ipv4addr.sh"));
    expect(bad(await envFindings(etc.file))).toEqual([`ERROR Missing or cannot read floating IP address resource: ${etc.dir}/resources/ipv4addr.sh`]);
  });

  test("checkEnvironment() reports a resource script that is not executable", async () => {
    chmodSync(join(etc.dir, "resources/crontab.sh"), 0o644);
    const f = bad(await envFindings(etc.file));
    expect(f).toEqual([
      `ERROR Resource script is not executable: ${etc.dir}/resources/crontab.sh (chmod 755 it)`,
      `ERROR Resource script is not executable: ${etc.dir}/resources/crontab.sh (chmod 755 it)`,
    ]);
  });

  test("checkEnvironment() reports a missing crontab template and install dir", async () => {
    rmSync(join(etc.dir, "crontabs/cx2_crons"));
    rmSync(join(etc.dir, "n1/cron.d"), { recursive: true });
    const f = bad(await envFindings(etc.file));
    expect(f).toContain(`ERROR Missing or cannot read crontab template: ${etc.dir}/crontabs/cx2_crons`);
    expect(f).toContain(`ERROR Missing or cannot read crontab DIR: ${etc.dir}/n1/cron.d`);
  });

  test("checkEnvironment() warns about missing log, run and spool dirs", async () => {
    rmSync(join(etc.dir, "n1/log"), { recursive: true });
    expect(bad(await envFindings(etc.file))).toEqual([`WARNING Missing DIR ${etc.dir}/n1/log (log_dir); the server creates it at start`]);
  });

  test("checkEnvironment() finds this host by hostname or --node and reports a stranger", async () => {
    expect(bad(await envFindings(etc.file, { node: null, hostname: "ha2.test" }))).toEqual([]);
    const f = bad(await envFindings(etc.file, { node: null, hostname: "other.test" }));
    expect(f).toHaveLength(1);
    expect(f[0]).toStartWith('ERROR The hostname of this server does not match any node hostname in config file: "other.test"');
    expect(bad(await envFindings(etc.file, { node: "cmnode3" }))[0]).toStartWith('ERROR No [CM_NODE] has nodename "cmnode3"');
  });

  test("checkEnvironment() reports a missing, empty or group-readable auth key", async () => {
    chmodSync(join(etc.dir, ".auth/authkey"), 0o640);
    expect(bad(await envFindings(etc.file))[0]).toStartWith("ERROR Auth file is readable or writable by group or others (mode ...40)");
    writeFileSync(join(etc.dir, ".auth/authkey"), "");
    expect(bad(await envFindings(etc.file))[0]).toContain("the file is empty");
    rmSync(join(etc.dir, ".auth/authkey"));
    expect(bad(await envFindings(etc.file))[0]).toContain("it does not exist (create it with drcm --keygen)");
  });

  test("checkEnvironment() finds relative alert_script and fence_script under the etc dir", async () => {
    const cfg = readFileSync(etc.file, "utf8").replace("[CM_SERVER]", "[CM_SERVER]\nalert_script = utils/mail_alert.sh\nfence_script = fence.sh");
    writeFileSync(etc.file, cfg);
    mkdirSync(join(etc.dir, "utils"));
    writeFileSync(join(etc.dir, "utils/mail_alert.sh"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(etc.dir, "fence.sh"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    expect(bad(await envFindings(etc.file))).toEqual([]);
    rmSync(join(etc.dir, "fence.sh"));
    expect(bad(await envFindings(etc.file))).toEqual([`ERROR Missing or cannot read fence_script: ${etc.dir}/fence.sh`]);
  });

  test("authFindings() warns when authkey.sha1 does not match the key", () => {
    writeFileSync(join(etc.dir, ".auth/authkey.sha1"), `${"0".repeat(40)}\n`, { mode: 0o600 });
    expect(bad(authFindings(etc.dir))[0]).toStartWith("WARNING authkey.sha1 does not match authkey");
  });
});

describe("loadCluster() unreadable files", () => {
  test("loadCluster() says a directory given as the config file is a directory", async () => {
    const dir = join(ROOT, `isdir${n++}`);
    mkdirSync(dir);
    const { cluster, findings } = await loadCluster(dir);
    expect(cluster).toBeNull();
    expect(findings.map((f) => f.message)).toEqual([`Cannot read config file "${dir}": it is a directory`]);
  });
});

describe("findSelf() and readAuthKey()", () => {
  const { cluster } = parseClusterText(SAMPLE, "/x/cm.cfg");
  test("findSelf() prefers --node and falls back to the hostname", () => {
    expect((findSelf(cluster!, "cmnode2", "ha1.test") as { nodename: string }).nodename).toBe("cmnode2");
    expect((findSelf(cluster!, null, "ha1.test") as { nodename: string }).nodename).toBe("cmnode1");
    expect(findSelf(cluster!, "cmnode", "ha1.test")).toContain('did you mean "cmnode1"?');
  });
  test("readAuthKey() returns the key bytes", async () => {
    const etc = makeEtc();
    await manualKey(etc.dir);
    const r = readAuthKey(etc.dir);
    expect("key" in r && r.key.length).toBe(2048);
    expect("error" in readAuthKey(join(ROOT, "nowhere"))).toBe(true);
  });
});

async function drcm(...args: string[]): Promise<{ code: number; out: string }> {
  const p = Bun.spawn(["bun", DRCM, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const timer = setTimeout(() => p.kill(), 20_000);
  const out = await new Response(p.stdout).text();
  const code = await p.exited;
  clearTimeout(timer);
  return { code, out };
}

describe("drcm --check-config", () => {
  test("runCheckConfig() writes a template for a missing file, exits 2, and the template then checks without errors", async () => {
    const dir = join(ROOT, `tpl${n++}`);
    const file = join(dir, "cm.cfg");
    const r = await drcm("--check-config", `--config-file=${file}`);
    expect(r.code).toBe(2);
    expect(r.out).toContain("CM configuration file not found. Building default file and exiting");
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, "utf8")).toContain(`${dir}/resources/crontab.sh`);
    const again = await drcm("--check-config", `--config-file=${file}`, "--node=cmnode1");
    const problems = again.out.split("\n").filter((l) => / (ERROR|WARNING) - /.test(l));
    // Only the machine is missing things (scripts, templates, dirs, key); the template itself is clean.
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((l) => /Missing or cannot read|Missing DIR|Cannot read auth key|not running as root|Two nodes with neither ping_targets/.test(l))).toBe(true);
    expect(again.code).toBe(1); // scripts and key do not exist yet
  });

  test("runCheckConfig() exits 0 with the 1.x closing phrase on a clean config", async () => {
    const etc = makeEtc();
    await manualKey(etc.dir);
    const r = await drcm("--check-config", `--config-file=${etc.file}`, "--node=cmnode1");
    expect(r.code).toBe(0);
    expect(r.out).toContain("cmnode2 backs up cmnode1: crontab:cxcron, ipaddr:vip, application:sleeper");
    expect(r.out.trimEnd().split("\n").at(-1)).toBe("INFO - CM config file checks good");
    const grepped = r.out.split("\n").filter((l) => /error|warn|fail|info/i.test(l));
    expect(grepped.every((l) => /INFO/.test(l))).toBe(true);
  });

  test("runCheckConfig() exits 1 with both 1.x errors for the bad sample", async () => {
    const etc = makeEtc(BAD.replace("dead_node_count = 1", "dead_node_count = 4"));
    await manualKey(etc.dir);
    const r = await drcm("--check-config", `--config-file=${etc.file}`, "--node=cmnode1");
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${etc.file}:41: ERROR - cmnode1 node has crontab not listed in global resource`);
    expect(r.out).toContain(`${etc.file}:54: ERROR - cmnode2 backup crontab with no backup nodename, bad nodename:nickname format`);
    expect(r.out).toContain("\nCM config file has ERRORS\n");
  });

  test("runCheckConfig() exits 2 on warnings only and prints JSON with --json", async () => {
    const etc = makeEtc(SAMPLE);
    await manualKey(etc.dir);
    const r = await drcm("--check-config", `--config-file=${etc.file}`, "--node=cmnode1");
    expect(r.code).toBe(2);
    expect(r.out).toContain(`${etc.file}:6: WARNING - "dead_node_count" = 1 is below the minimum`);
    expect(r.out).toContain("CM config file has WARNINGS");
    const j = await drcm("--check-config", "--json", `--config-file=${etc.file}`, "--node=cmnode1");
    expect(j.code).toBe(2);
    const doc = JSON.parse(j.out);
    expect(doc.exitCode).toBe(2);
    expect(doc.findings.filter((f: Finding) => f.severity === "WARNING")).toEqual([
      { severity: "WARNING", file: etc.file, line: 6, message: expect.stringContaining("dead_node_count") },
      { severity: "WARNING", file: etc.file, line: 45, message: expect.stringContaining("Two nodes with neither ping_targets nor fence_script") },
    ]);
    expect(doc.summary.nodes.map((x: { nodename: string }) => x.nodename)).toEqual(["cmnode1", "cmnode2"]);
    expect(doc.summary.timings.deadTimeMs).toBe(200);
  });

});

describe("loadAndCheck()", () => {
  test("loadAndCheck() gives the file's and the machine's findings, with the errors apart", async () => {
    const { file } = makeEtc();
    // No auth key yet: the machine checks find it, the file itself is fine.
    const c = await loadAndCheck(file, { node: "cmnode1" });
    expect(c.cluster).not.toBeNull();
    expect(c.errors.map((f) => f.message).join("\n")).toContain("auth key");
    expect(c.errors.every((f) => c.findings.includes(f))).toBe(true);
    expect(usableCluster(c)).toBeNull();
    expect(errorLines(c, "drcm: ")[0]).toMatch(/^drcm: \S+: ERROR - Cannot read auth key /);
  });

  test("loadAndCheck() without the environment checks only the file", async () => {
    const { file } = makeEtc();
    const c = await loadAndCheck(file, { node: "cmnode1", environment: false });
    expect(c.errors).toEqual([]);
    expect(usableCluster(c)).toBe(c.cluster);
  });

  test("loadAndCheck() of an unreadable path has no cluster and one error", async () => {
    const c = await loadAndCheck(ROOT, { node: null });
    expect(c.cluster).toBeNull();
    expect(errorLines(c)).toEqual([`${ROOT}: ERROR - Cannot read config file "${ROOT}": it is a directory`]);
  });
});
