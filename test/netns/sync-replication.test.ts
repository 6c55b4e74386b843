// Two-way file replication end to end: real rsync over real ssh between two network namespaces.
// Each node is a namespace (eth0 on a private veth pair) running Debian's sshd with a test host key,
// inside its own mount namespace where DIR/node is a bind mount of DIR/<node>, so the same paths
// (/…/node/testfs, the flag dir, locks, logs) hold different data on each node, as on two machines.
// The cluster state the scripts see comes from a stand-in drcm (cm_stat text and ping per address):
// the scripts only read its output, so the real daemon is not needed to test the replication rules.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { CM_STAT_FAILEDOVER, CM_STAT_HEALTHY, FSSYNC, Fixture, ME } from "../unit/utils-fixture.ts";

const have = (t: string) => Bun.spawnSync(["sh", "-c", `command -v ${t}`]).exitCode === 0;
const why =
  process.getuid?.() !== 0
    ? "not root (network namespaces need root)"
    : !existsSync("/usr/sbin/sshd")
      ? "sshd is not installed (apt-get install openssh-server)"
      : (["rsync", "ssh", "scp", "ssh-keygen", "ip", "unshare", "flock", "ping"].find((t) => !have(t)) ?? null);
const canRun = why === null;
if (!canRun) console.log(`sync-replication.test.ts: skipping, ${why.includes(" ") ? why : `${why} is not installed`}`);

const NODES = { primary: "10.218.0.11", backup: "10.218.0.12" } as const;
type Node = keyof typeof NODES;
const ns = (n: Node) => `h7${n[0]}-${process.pid}`;

let fx: Fixture;
let base = "";
const sshd: Subprocess[] = [];
let madeRunSshd = false;

const sh = (cmd: string[]) => {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`Setup command failed: ${cmd.join(" ")}: ${r.stderr.toString()}`);
};
/** Runs argv inside node n: its network namespace and its private view of DIR/node. */
const onNode = (n: Node, argv: string[]) => [
  "ip", "netns", "exec", ns(n), "unshare", "-m", "--propagation", "private",
  "sh", "-c", `mount --bind "${base}/${n}" "${base}/node" && exec "$@"`, "node-shell", ...argv,
];
const data = (n: Node, ...p: string[]) => join(base, n, ...p);

function sync(n: Node, script = "sync_testfs.sh"): { code: number; out: string } {
  const r = Bun.spawnSync(onNode(n, ["bash", join(FSSYNC, script)]), {
    env: fx.env({
      IP: "ip",
      DRCM_HOST: n,
      LOGdir: join(base, "node", "log"),
      VARdir: join(base, "node", "run"),
      FLAGdir: join(base, "node", "flags"),
      SSHargs: `-F /dev/null -i ${base}/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5`,
      PINGcount: "1",
      FS_PING_COUNT: "1",
    }),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
}

/** relative name -> content of every file under DIR/<n>/<sub> (directories end in "/"). */
function tree(n: Node, sub: string): Record<string, string> {
  const root = data(n, sub);
  const out: Record<string, string> = {};
  for (const f of (readdirSync(root, { recursive: true }) as string[]).sort()) {
    const p = join(root, f);
    out[statSync(p).isDirectory() ? `${f}/` : f] = statSync(p).isDirectory() ? "" : readFileSync(p, "utf8");
  }
  return out;
}
/** Makes every file and directory under DIR/<n>/<sub> look written `ago` seconds ago. */
function age(n: Node, sub: string, ago: number): void {
  const root = data(n, sub);
  const t = Date.now() / 1000 - ago;
  for (const f of readdirSync(root, { recursive: true }) as string[]) utimesSync(join(root, f), t, t);
  utimesSync(root, t, t);
}
const put = (n: Node, sub: string, name: string, text: string) => writeFileSync(data(n, sub, name), text);
const flagOf = (n: Node) => data(n, "flags", "testfs_failback_sync_flag");

describe.skipIf(!canRun)("two-way replication in network namespaces", () => {
  beforeAll(async () => {
    fx = new Fixture();
    base = join(fx.dir, "nodes");
    for (const n of ["primary", "backup"] as Node[]) {
      for (const d of ["testfs", "archive", "flags", "run", "log"]) mkdirSync(data(n, d), { recursive: true });
    }
    mkdirSync(join(base, "node"));
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${base}/hostkey`]);
    sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", `${base}/userkey`]);
    writeFileSync(`${base}/authorized_keys`, readFileSync(`${base}/userkey.pub`));
    if (!existsSync("/run/sshd")) {
      mkdirSync("/run/sshd", { mode: 0o755 });
      madeRunSshd = true;
    }
    const [vp, vb] = [`h7vp${process.pid}`, `h7vb${process.pid}`];
    for (const n of ["primary", "backup"] as Node[]) sh(["ip", "netns", "add", ns(n)]);
    sh(["ip", "link", "add", vp, "type", "veth", "peer", "name", vb]);
    for (const [n, v] of [["primary", vp], ["backup", vb]] as [Node, string][]) {
      sh(["ip", "link", "set", v, "netns", ns(n)]);
      sh(["ip", "-n", ns(n), "link", "set", v, "name", "eth0"]);
      sh(["ip", "-n", ns(n), "addr", "add", `${NODES[n]}/24`, "dev", "eth0"]);
      sh(["ip", "-n", ns(n), "link", "set", "eth0", "up"]);
      sh(["ip", "-n", ns(n), "link", "set", "lo", "up"]);
      const conf = `${base}/sshd-${n}.conf`;
      writeFileSync(
        conf,
        [`ListenAddress ${NODES[n]}`, "Port 22", `HostKey ${base}/hostkey`, `PidFile ${base}/sshd-${n}.pid`,
          `AuthorizedKeysFile ${base}/authorized_keys`, "PermitRootLogin prohibit-password", "PasswordAuthentication no",
          "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "Subsystem sftp internal-sftp", ""].join("\n"),
      );
      sshd.push(Bun.spawn(onNode(n, ["/usr/sbin/sshd", "-D", "-e", "-f", conf]), { stdout: "ignore", stderr: "pipe" }));
    }
    // sshd is ready when the peer's port accepts connections.
    for (const n of ["primary", "backup"] as Node[]) {
      let ok = false;
      for (let i = 0; i < 100 && !ok; i++) {
        ok = Bun.spawnSync(["ip", "netns", "exec", ns(n), "bash", "-c", `exec 3<>/dev/tcp/${NODES[n]}/22`]).exitCode === 0;
        if (!ok) await Bun.sleep(50);
      }
      if (!ok) throw new Error(`sshd did not start in ${ns(n)}`);
    }
    fx.clusterInfo({
      CLUSTER_NAME: "SYNCTEST",
      BACKUP_USER: ME,
      PRIMARY_FILESYSTEMS_IP: NODES.primary,
      PRIMARY_FILESYSTEMS_ETH: "eth0",
      BACKUP_FILESYSTEMS_IP: NODES.backup,
      BACKUP_FILESYSTEMS_ETH: "eth0",
    });
    writeFileSync(
      join(fx.etc, "my_cluster_conf", "testfs_sync_list.sh"),
      `RsyncMirror ${join(base, "node", "testfs")}\nRsyncCopy ${join(base, "node", "archive")}\n`,
    );
  }, 60_000);

  afterAll(() => {
    for (const p of sshd) p.kill("SIGTERM");
    for (const n of ["primary", "backup"] as Node[]) Bun.spawnSync(["ip", "netns", "del", ns(n)]);
    if (madeRunSshd) rmSync("/run/sshd", { recursive: true, force: true });
    fx?.cleanup();
  });

  test("sync_testfs.sh mirrors and copies from the primary; the backup waits without a flag", () => {
    fx.cmStat(CM_STAT_HEALTHY);
    fx.up([NODES.primary, NODES.backup]);
    put("primary", "testfs", "a", "a1");
    put("primary", "testfs", "b", "b1");
    put("primary", "archive", "x", "x1");
    put("primary", "archive", "y", "y1");
    const first = sync("primary");
    expect(first.out).toContain("Sync of testfs to 10.218.0.12 done with 0 errors");
    expect(first.code).toBe(0);
    expect(tree("backup", "testfs")).toEqual({ a: "a1", b: "b1" });

    rmSync(data("primary", "testfs", "a"));
    rmSync(data("primary", "archive", "x"));
    expect(sync("primary").code).toBe(0);
    expect(tree("backup", "testfs")).toEqual({ b: "b1" });
    expect(tree("backup", "archive")).toEqual({ x: "x1", y: "y1" });

    const onBackup = sync("backup");
    expect(onBackup.code).toBe(1);
    expect(onBackup.out).toContain("We have no sync flag for testfs files\nNo file sync to primary cluster node will be performed");
  }, 60_000);

  test("sync_testfs.sh skips a run while another holds the lock", async () => {
    const lock = data("primary", "run", "testfs_file_system_sync.lck");
    const pidFile = join(base, "holder.pid");
    // The sleeping child keeps the lock (flock is inherited), so both it and flock are ended below.
    const holder = Bun.spawn(["flock", lock, "bash", "-c", `echo $$ > ${pidFile}; exec sleep 20`]);
    try {
      let held = false;
      for (let i = 0; i < 100 && !held; i++) {
        held = existsSync(pidFile) && Bun.spawnSync(["flock", "-n", lock, "true"]).exitCode !== 0;
        if (!held) Bun.sleepSync(20);
      }
      const r = sync("primary");
      expect(r.code).toBe(1);
      expect(r.out).toContain("testfs_file_system_sync.lck is held by");
    } finally {
      const pid = Number(readFileSync(pidFile, "utf8"));
      if (pid > 0) process.kill(pid, "SIGKILL");
      holder.kill("SIGKILL");
      await holder.exited;
    }
  }, 60_000);

  test("failover, failback with the flag: the backup's changes reach the primary first and nothing is lost", () => {
    // Failover: the primary's drcm is gone; the backup serves and its files change.
    fx.cmStat(CM_STAT_FAILEDOVER);
    fx.up([NODES.backup]);
    put("backup", "testfs", "b", "b-changed-on-backup");
    put("backup", "testfs", "c", "c-new-on-backup");
    const flagged = sync("backup");
    expect(flagged.code).toBe(0);
    expect(flagged.out).toContain("failback sync flag");
    expect(readFileSync(flagOf("backup"), "utf8")).toMatch(/^\d+\n$/);
    expect(existsSync(flagOf("primary"))).toBe(true);
    expect(sync("primary").out).toContain("the primary does not sync");
    // A primary that was down all along never got its copy of the flag.
    rmSync(flagOf("primary"));

    // The primary's drcm is back, failback pending: the primary must not push over the backup's changes.
    fx.up([NODES.primary, NODES.backup]);
    const waiting = sync("primary");
    expect(waiting.code).toBe(0);
    expect(waiting.out).toContain("The backup node has a failback sync flag");
    expect(tree("backup", "testfs")).toEqual({ b: "b-changed-on-backup", c: "c-new-on-backup" });

    put("backup", "testfs", "d", "d-new-on-backup");
    const back = sync("backup");
    expect(back.out).toContain("Failback not complete yet");
    expect(back.code).toBe(0);
    expect(tree("primary", "testfs")).toEqual({ b: "b-changed-on-backup", c: "c-new-on-backup", d: "d-new-on-backup" });
    // Still serving on the backup until failback completes.
    put("backup", "testfs", "e", "e-late-on-backup");

    // Failback done: the primary serves again and writes at once; its sync still waits for the flag.
    fx.cmStat(CM_STAT_HEALTHY);
    put("primary", "testfs", "f", "f-new-on-primary");
    expect(sync("primary").out).toContain("waiting for it to sync its changes back");
    const done = sync("backup");
    expect(done.out).toContain("Failback sync of testfs done: flag removed");
    expect(done.code).toBe(0);
    expect(existsSync(flagOf("backup"))).toBe(false);
    expect(existsSync(flagOf("primary"))).toBe(false);

    // Normal again: the primary pushes, and both sides hold everything written on either.
    expect(sync("primary").code).toBe(0);
    const all = { b: "b-changed-on-backup", c: "c-new-on-backup", d: "d-new-on-backup", e: "e-late-on-backup", f: "f-new-on-primary" };
    expect(tree("primary", "testfs")).toEqual(all);
    expect(tree("backup", "testfs")).toEqual(all);
    expect(sync("backup").code).toBe(1);
  }, 120_000);

  test("a deletion made on the backup during a failover stays deleted when the backup first syncs after HEALTHY", () => {
    // Normal state, both sides equal, the files written well before the failover.
    fx.cmStat(CM_STAT_HEALTHY);
    fx.up([NODES.primary, NODES.backup]);
    mkdirSync(data("primary", "testfs", "sub"), { recursive: true });
    put("primary", "testfs", "sub/x", "x-old");
    put("primary", "testfs", "old", "old-1");
    age("primary", "testfs", 600);
    expect(sync("primary").code).toBe(0);
    const before = tree("primary", "testfs");
    expect(tree("backup", "testfs")).toEqual(before);

    // Failover: the backup serves, deletes a file and a directory, changes and creates files.
    fx.cmStat(CM_STAT_FAILEDOVER);
    fx.up([NODES.backup]);
    rmSync(data("backup", "testfs", "c"));
    rmSync(data("backup", "testfs", "sub"), { recursive: true });
    put("backup", "testfs", "b", "b-changed-again-on-backup");
    put("backup", "testfs", "g", "g-new-on-backup");
    expect(sync("backup").code).toBe(0);

    // The primary comes back and the cluster is HEALTHY before the backup's next run; the primary
    // writes at once (a new file, a changed file) and its own sync waits for the backup.
    fx.cmStat(CM_STAT_HEALTHY);
    fx.up([NODES.primary, NODES.backup]);
    put("primary", "testfs", "h", "h-new-on-primary");
    put("primary", "testfs", "old", "old-changed-on-primary");
    expect(sync("primary").out).toContain("waiting for the backup node to sync its changes back");
    expect(existsSync(data("backup", "testfs", "c"))).toBe(false);

    const done = sync("backup");
    expect(done.out).toContain("Failback sync of testfs done: flag removed");
    expect(done.code).toBe(0);
    const expected = { ...before, b: "b-changed-again-on-backup", g: "g-new-on-backup", h: "h-new-on-primary", old: "old-changed-on-primary" };
    delete (expected as Record<string, string>).c;
    delete (expected as Record<string, string>)["sub/"];
    delete (expected as Record<string, string>)["sub/x"];
    expect(tree("primary", "testfs")).toEqual(expected);

    // The primary pushes again: both sides hold the same, nothing deleted comes back, nothing new is lost.
    expect(sync("primary").code).toBe(0);
    expect(tree("primary", "testfs")).toEqual(expected);
    expect(tree("backup", "testfs")).toEqual(expected);
  }, 120_000);

  test("backup_to_shared_storage.sh mirrors and rotates into the storage location over ssh", () => {
    const storage = join(base, "node", "storage");
    fx.clusterInfo({ CLUSTER_NAME: "SYNCTEST", BACKUP_USER: ME, BACKUP_STORAGE_SERVER: NODES.backup, BACKUP_STORAGE_LOCATION: storage });
    const src = join(base, "node", "archive");
    writeFileSync(join(fx.etc, "my_cluster_conf", "SYNCTEST_shared_storage_sync_list.sh"), `RsyncMirror ${src}\nRsyncRotate ${src} 30\n`);
    const r = sync("primary", "backup_to_shared_storage.sh");
    expect(r.out).toContain("done with 0 errors");
    expect(r.code).toBe(0);
    const day = new Date().getDate().toString().padStart(2, "0");
    expect(tree("backup", `storage${src}`)).toEqual(tree("primary", "archive"));
    expect(tree("backup", `storage/Rotating/${day}${src}`)).toEqual(tree("primary", "archive"));
  }, 60_000);
});
