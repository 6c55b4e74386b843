// File trust (lib/config/trust.ts): the StrictModes rule on the real file system of a temp etc dir
// (root here: chown and chmod work), on an injected one, and as drcm --check-config and the server report it.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCluster } from "../../lib/config/load.ts";
import type { Cluster } from "../../lib/config/model.ts";
import { clusterTrustTargets, trustFindings, type FileInfo, type TrustFs } from "../../lib/config/trust.ts";
import { fileTrust, realTrustFs } from "../../lib/io/daemon.ts";
import { DRCM_BIN, TestCluster, waitFor } from "../integration/harness.ts";

const ROOT = mkdtempSync(join(tmpdir(), `drcm-trust-${process.pid}-`));
const DRCM = join(import.meta.dir, "../../drcm.ts");
const SAMPLE = readFileSync(join(import.meta.dir, "../fixtures/config/1.41-sample.cfg"), "utf8").replace("dead_node_count = 1", "dead_node_count = 4");
const AS_ROOT = process.geteuid?.() === 0;
const NOBODY = 65534;
let n = 0;

afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

/** The etc dir of the 1.41 sample, every file root's and private enough. */
function makeEtc(): { dir: string; file: string } {
  const dir = join(ROOT, `etc${n++}`);
  for (const d of ["resources", "crontabs", "app", "n1/cron.d", "n1/run", "n1/log", "n1/spool", ".auth"]) mkdirSync(join(dir, d), { recursive: true });
  for (const s of ["resources/crontab.sh", "resources/ipv4addr.sh", "app/sleeper.sh"]) writeFileSync(join(dir, s), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  for (const t of ["crontabs/cx_crons", "crontabs/cx2_crons"]) writeFileSync(join(dir, t), "# nothing\n", { mode: 0o644 });
  chmodSync(join(dir, ".auth"), 0o700);
  writeFileSync(join(dir, ".auth/authkey"), "k".repeat(64), { mode: 0o600 });
  const file = join(dir, "cm.cfg");
  writeFileSync(file, SAMPLE.replaceAll("<DIR>", dir), { mode: 0o644 });
  chmodSync(dir, 0o755);
  return { dir, file };
}

async function cluster(file: string): Promise<Cluster> {
  const { cluster } = await loadCluster(file);
  expect(cluster).not.toBeNull();
  return cluster!;
}

const findings = async (file: string, uid = 0) => trustFindings(clusterTrustTargets(await cluster(file)), { uid, fs: realTrustFs });

describe("targets", () => {
  test("config file, auth key, every resource script, crontab templates, fence and alert scripts; application programs are not paths", async () => {
    const { dir, file } = makeEtc();
    writeFileSync(file, readFileSync(file, "utf8").replace("[CM_SERVER]", `[CM_SERVER]\nfence_script = ${dir}/fence.sh\nalert_script = ${dir}/a1.sh, ${dir}/a2.sh`));
    const paths = clusterTrustTargets(await cluster(file)).map((t) => `${t.what}=${t.path.slice(dir.length)}`);
    expect(paths).toEqual([
      "config file=/cm.cfg",
      "auth key=/.auth/authkey",
      "resource script of Crontab cxcron=/resources/crontab.sh",
      "crontab template of Crontab cxcron=/crontabs/cx_crons",
      "resource script of Crontab cxcron2=/resources/crontab.sh",
      "crontab template of Crontab cxcron2=/crontabs/cx2_crons",
      "resource script of IPaddr vip=/resources/ipv4addr.sh",
      "fence_script=/fence.sh",
      "alert_script=/a1.sh",
      "alert_script=/a2.sh",
    ]);
  });
});

describe.skipIf(!AS_ROOT)("the real file system (as root)", () => {
  test("a clean etc dir in a mkdtemp dir under /tmp (1777, root's) has no findings", async () => {
    const { file } = makeEtc();
    expect(await findings(file)).toEqual([]);
  });

  test("a world-writable resource script: its path, the mode and the fix", async () => {
    const { dir, file } = makeEtc();
    const script = join(dir, "resources/ipv4addr.sh");
    chmodSync(script, 0o777);
    expect(await findings(file)).toEqual([{ path: script, message: `resource script of IPaddr vip is writable by every user (mode 0777); chmod go-w ${script}` }]);
  });

  test("a group-writable config file", async () => {
    const { file } = makeEtc();
    chmodSync(file, 0o664);
    expect(await findings(file)).toEqual([{ path: file, message: `config file is writable by its group (mode 0664); chmod g-w ${file}` }]);
  });

  test("a world-writable resources dir is named once, for the first script in it", async () => {
    const { dir, file } = makeEtc();
    const res = join(dir, "resources");
    chmodSync(res, 0o777);
    const f = await findings(file);
    expect(f).toHaveLength(1);
    expect(f[0]!.path).toBe(res);
    expect(f[0]!.message).toBe(`directory above the resource script of Crontab cxcron ${res}/crontab.sh is writable by every user (mode 0777); chmod go-w ${res}`);
  });

  test("a 0777 etc dir, and a sticky one: accepted when root's (as /tmp), refused when another user's", async () => {
    const { dir, file } = makeEtc();
    chmodSync(dir, 0o777);
    expect((await findings(file)).map((f) => [f.path, f.message.includes("writable by every user (mode 0777)")])).toEqual([[dir, true]]);
    chmodSync(dir, 0o1777);
    expect(await findings(file)).toEqual([]);
    chownSync(dir, NOBODY, NOBODY);
    const f = await findings(file);
    expect(f.map((x) => x.path)).toEqual([dir, dir]);
    expect(f[0]!.message).toMatch(/^directory above the config file .* is owned by .*uid 65534.*, not root; chown root /);
    expect(f[1]!.message).toContain("writable by every user (mode 1777)");
  });

  test("a script or auth key not owned by root; a daemon of that user accepts its own files", async () => {
    const { dir, file } = makeEtc();
    const script = join(dir, "resources/crontab.sh");
    const key = join(dir, ".auth/authkey");
    chownSync(script, NOBODY, NOBODY);
    chownSync(key, NOBODY, NOBODY);
    const f = await findings(file);
    expect(f.map((x) => x.path)).toEqual([key, script]);
    expect(f[0]!.message).toMatch(/^auth key is owned by .*uid 65534.*, not root; chown root /);
    expect(f[1]!.message).toMatch(/^resource script of Crontab cxcron is owned by/);
    expect(await findings(file, NOBODY)).toEqual([]);
    // Someone else's file is still refused for that daemon, and the fix names its user.
    expect((await findings(file, 1234)).map((x) => x.message.replace(/ \S+$/, ""))).toEqual([
      expect.stringMatching(/^auth key is owned by .*, not root or .*; chown (\S+)$/),
      expect.stringMatching(/^resource script of Crontab cxcron is owned by .*, not root or /),
    ]);
  });

  test("a symlinked script: the file it names and the directories above it are checked too", async () => {
    const { dir, file } = makeEtc();
    const open = join(dir, "open");
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const real = join(open, "ip.sh");
    writeFileSync(real, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const script = join(dir, "resources/ipv4addr.sh");
    rmSync(script);
    symlinkSync(real, script);
    const f = await findings(file);
    expect(f).toEqual([{ path: open, message: `directory above the resource script of IPaddr vip ${script} is writable by every user (mode 0777); chmod go-w ${open}` }]);
  });

  test("fileTrust: as root the findings refuse, as another user they are warnings only", async () => {
    const { dir, file } = makeEtc();
    const script = join(dir, "resources/ipv4addr.sh");
    chmodSync(script, 0o757);
    const c = await cluster(file);
    const line = `${script}: resource script of IPaddr vip is writable by every user (mode 0757); chmod go-w ${script}`;
    expect(fileTrust(c, 0)).toEqual({ refuse: true, lines: [line] });
    expect(fileTrust(c, NOBODY)).toEqual({ refuse: false, lines: [line] });
    chmodSync(script, 0o755);
    expect(fileTrust(c, 0)).toEqual({ refuse: false, lines: [] });
  });
});

describe("an injected file system", () => {
  const files: Record<string, FileInfo> = {
    "/": { uid: 0, mode: 0o40755, isDirectory: true },
    "/etc": { uid: 0, mode: 0o40755, isDirectory: true },
    "/etc/drcm": { uid: 0, mode: 0o40770, isDirectory: true },
    "/etc/drcm/cm.cfg": { uid: 0, mode: 0o100644, isDirectory: false },
    "/tmp": { uid: 0, mode: 0o41777, isDirectory: true },
    "/tmp/x.sh": { uid: 0, mode: 0o100755, isDirectory: false },
  };
  const fs: TrustFs = { stat: (p) => files[p] ?? null, realpath: (p) => (p in files ? p : null), userName: (uid) => (uid === 0 ? "root" : null) };

  test("a group-writable directory above; a root file in a sticky dir is fine; a missing file is skipped", () => {
    const f = trustFindings(
      [
        { path: "/etc/drcm/cm.cfg", what: "config file" },
        { path: "/tmp/x.sh", what: "alert_script" },
        { path: "/etc/drcm/missing.sh", what: "fence_script" },
      ],
      { uid: 0, fs },
    );
    expect(f).toEqual([{ path: "/etc/drcm", message: "directory above the config file /etc/drcm/cm.cfg is writable by its group (mode 0770); chmod g-w /etc/drcm" }]);
  });
});

describe.skipIf(!AS_ROOT)("drcm --check-config and the server", () => {
  const run = (args: string[]) => Bun.spawnSync(["bun", DRCM, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });

  test("--check-config reports each untrusted file as an ERROR with its path, exit 1", () => {
    const { dir, file } = makeEtc();
    const clean = run(["--check-config", `--config-file=${file}`, "--node=cmnode1"]);
    const before = clean.stdout.toString();
    expect(before).not.toContain("writable by");
    const script = join(dir, "resources/ipv4addr.sh");
    chmodSync(script, 0o777);
    chmodSync(dir, 0o777);
    const r = run(["--check-config", `--config-file=${file}`, "--node=cmnode1"]);
    const out = r.stdout.toString();
    expect(r.exitCode).toBe(1);
    expect(out).toContain(`${script}: ERROR - resource script of IPaddr vip is writable by every user (mode 0777); chmod go-w ${script}\n`);
    expect(out).toContain(`${dir}: ERROR - directory above the config file ${file} is writable by every user (mode 0777); chmod go-w ${dir}\n`);
    expect(out).toContain("CM config file has ERRORS");
    const j = JSON.parse(run(["--check-config", "--json", `--config-file=${file}`, "--node=cmnode1"]).stdout.toString());
    expect(j.exitCode).toBe(1);
    expect(j.findings).toContainEqual({ severity: "ERROR", file: script, line: 0, message: `resource script of IPaddr vip is writable by every user (mode 0777); chmod go-w ${script}` });
  });

  test("the server refuses to start as root, each finding on stderr, no stack trace", () => {
    const { dir, file } = makeEtc();
    const key = join(dir, ".auth/authkey");
    chownSync(key, NOBODY, NOBODY);
    const r = run([`--config-file=${file}`, "--node=cmnode1"]);
    const err = r.stderr.toString();
    expect(r.exitCode).toBe(78); // EXIT_CONFIG: systemd does not restart it
    expect(err).toContain(`drcm: ERROR - ${key}: auth key is owned by`);
    expect(err).toContain("drcm: ERROR - Refusing to start as root: 1 file(s)");
    expect(err).not.toMatch(/\n\s+at /);
  });
});

describe.skipIf(!AS_ROOT || !existsSync(DRCM_BIN))("reload of a running root daemon (dist/drcm)", () => {
  test("a reload whose resource script became world-writable is refused with the finding; the daemon keeps running", async () => {
    const c = new TestCluster({
      nodes: [{ name: "solo", ip: "127.0.0.43", lines: ["node_floating_ip_addrs = vip"] }],
      resources: ["[CM_IPADDRS]", "vip, 10.99.3.100, 24, eth0, AGENT"].join("\n"),
    });
    try {
      c.start("solo");
      // Ready is enough: whether the agent could start vip is not what this test is about.
      expect(await waitFor(() => /Node solo is ready/.test(c.log("solo")), 10000)).toBeGreaterThanOrEqual(0);
      const agent = join(c.dir, "resources/fake-agent.sh");
      chmodSync(agent, 0o777);
      const r = await c.client(["--command=reload"], "solo");
      expect(r.code).not.toBe(0);
      expect(r.out).toContain(`${agent}: resource script of IPaddr vip is writable by every user (mode 0777); chmod go-w ${agent}`);
      expect(c.running("solo")).toBe(true);
      chmodSync(agent, 0o755);
      const ok = await c.client(["--command=reload"], "solo");
      expect(ok.code).toBe(0);
    } finally {
      await c.cleanup();
    }
  }, 30000);
});
