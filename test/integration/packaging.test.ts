// The RPM and `drcm --install` ship the same tree. Needs dist/drcm (npm run build; test/run.ts builds it)
// and rpmbuild (Debian package "rpm"); each test skips with one line saying why when they are missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { $ } from "bun";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { EMBEDDED } from "../../lib/embedded.ts";

const repo = join(import.meta.dir, "..", "..");
const binary = process.env.DRCM_BINARY ?? join(repo, "dist", "drcm");
const haveBinary = existsSync(binary);
const haveRpm = Bun.which("rpmbuild") !== null && Bun.which("rpm") !== null;
const canRun = haveBinary && haveRpm;
if (!haveBinary) console.log("packaging tests skipped: dist/drcm is missing (run npm run build)");
if (!haveRpm) console.log("packaging tests skipped: rpmbuild/rpm not installed (apt-get install rpm)");

const work = mkdtempSync(join(tmpdir(), `drcm-pkg-${process.pid}-`));
const rpms: { main: string; sysvinit: string } = { main: "", sysvinit: "" };
const rpmRoot = join(work, "rpmroot");
const installRoot = join(work, "installroot");
let buildError = "";

beforeAll(async () => {
  if (!canRun) return;
  const out = join(work, "rpms");
  const r = await $`bun packaging/build-rpm.ts --binary=${binary} --out=${out} --topdir=${join(work, "top")}`.cwd(repo).nothrow().quiet();
  if (r.exitCode !== 0) {
    buildError = r.stderr.toString();
    return;
  }
  for (const f of readdirSync(out)) {
    if (f.startsWith("drcm-sysvinit-")) rpms.sysvinit = join(out, f);
    else if (f.startsWith("drcm-")) rpms.main = join(out, f);
  }
  // The db inside the root, whoever runs the tests (as an ordinary user rpm defaults to ~/.rpmdb, which
  // would then show up in the tree compared below).
  const db = "/var/lib/rpm";
  await $`rpm --root ${rpmRoot} --dbpath ${db} --initdb`.quiet();
  await $`rpm -i --root ${rpmRoot} --dbpath ${db} --nodeps --noscripts ${rpms.main} ${rpms.sysvinit}`.quiet();
  await $`${binary} --install --root=${installRoot}`.quiet();
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const q = async (fmt: string, file: string): Promise<string> => (await $`rpm -qp --qf ${fmt} ${file}`.quiet().nothrow()).stdout.toString();

/** path -> "mode type detail" for every entry under root, skipping the rpm database. */
function tree(root: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name);
      const rel = `/${relative(root, abs)}`;
      if (rel === "/root/.rpmdb" || rel === "/var/lib/rpm" || rel === "/usr/lib/sysimage" || rel === "/root") continue;
      const st = lstatSync(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) m.set(rel, `link ${readlinkSync(abs)}`);
      else if (st.isDirectory()) {
        m.set(rel, `dir ${mode} ${st.uid}:${st.gid}`);
        walk(abs);
      } else m.set(rel, `file ${mode} ${st.uid}:${st.gid} ${createHash("sha256").update(readFileSync(abs)).digest("hex")}`);
    }
  };
  walk(root);
  return m;
}

describe("packaging", () => {
  test.skipIf(!canRun)("build-rpm.ts builds gzip-payload drcm and drcm-sysvinit RPMs that require glibc 2.17", async () => {
    expect(buildError).toBe("");
    expect(rpms.main).toMatch(/drcm-\d+\.\d+\.\d+-1\.\w+\.rpm$/);
    expect(rpms.sysvinit).not.toBe("");
    expect(await q("%{PAYLOADCOMPRESSOR}", rpms.main)).toBe("gzip");
    const requires = (await $`rpm -qp --requires ${rpms.main}`.quiet()).stdout.toString();
    expect(requires).toContain("glibc >= 2.17");
    expect((await $`rpm -qp --obsoletes ${rpms.main}`.quiet()).stdout.toString()).toContain("drcm_server < 2");
    // Upgrades must not restart the daemon (that would fail this node over).
    const scripts = (await $`rpm -qp --scripts ${rpms.main}`.quiet()).stdout.toString();
    expect(scripts).toContain("daemon-reload");
    expect(scripts).not.toMatch(/try-restart|condrestart|systemctl\s+restart/);
  });

  test.skipIf(!canRun)("rpm -qlp lists every manifest entry with its mode and config flag", async () => {
    const listed = new Map<string, { mode: string; flags: string }>();
    for (const f of [rpms.main, rpms.sysvinit]) {
      for (const line of (await q("[%{FILEMODES:octal} %{FILEFLAGS:fflags} %{FILENAMES}\\n]", f)).trim().split("\n")) {
        const [mode, flags, path] = line.split(" ");
        listed.set(path!, { mode: mode!, flags: flags ?? "" });
      }
    }
    const lines = (await $`rpm -qlp ${rpms.main}`.quiet()).stdout.toString().trim().split("\n");
    expect(lines).toContain("/usr/sbin/drcm");
    expect(lines).toContain("/etc/drcm/.auth");
    for (const e of EMBEDDED) {
      const got = listed.get(e.path);
      expect(got === undefined ? `${e.path} missing` : e.path).toBe(e.path);
      if (e.type === "symlink") expect(got!.mode).toBe("120777");
      else expect(got!.mode).toBe(`${e.type === "dir" ? "40" : "100"}${e.mode.toString(8).padStart(3, "0")}`);
      if (e.config === "noreplace") expect(got!.flags).toBe("cn");
      if (e.config === "config") expect(got!.flags).toBe("c");
    }
    expect(listed.size).toBe(EMBEDDED.length);
    expect(listed.get("/etc/drcm/.auth")!.mode).toBe("40700");
  });

  test.skipIf(!canRun)("drcm --install --root and the RPMs installed into --root give the same files, modes and contents", () => {
    const a = tree(rpmRoot);
    const b = tree(installRoot);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [p, v] of a) expect(`${p} ${b.get(p)}`).toBe(`${p} ${v}`);
    // The binary in the RPM is the unstripped build, byte for byte.
    expect(a.get("/usr/sbin/drcm")).toContain(createHash("sha256").update(readFileSync(binary)).digest("hex"));
  });

  test.skipIf(!canRun)("the RPM-installed binary runs from its --root: --version and --check-config on an example", async () => {
    const drcm = join(rpmRoot, "usr/sbin/drcm");
    const v = await $`${drcm} --version`.quiet().nothrow();
    expect(v.exitCode).toBe(0);
    expect(v.stdout.toString()).toMatch(/^drcm \d+\.\d+\.\d+/);
    const link = await $`${join(rpmRoot, "usr/sbin/drcm_server")} --version`.quiet().nothrow();
    expect(link.stdout.toString()).toBe(v.stdout.toString());
    // The example points at /etc/drcm: point it at the installed root so its scripts and templates are checked.
    const etc = join(rpmRoot, "etc/drcm");
    const cfg = join(etc, "cm.cfg");
    const text = readFileSync(join(etc, "cm_2_node_example.cfg"), "utf8")
      .replaceAll("/etc/drcm/", `${etc}/`)
      .replaceAll("/var/", `${rpmRoot}/var/`)
      .replaceAll("/etc/cron.d", `${rpmRoot}/etc/cron.d`);
    writeFileSync(cfg, text);
    mkdirSync(join(rpmRoot, "etc/cron.d"), { recursive: true });
    const key = await $`${drcm} --keygen --config-file=${cfg}`.quiet().nothrow();
    expect(key.exitCode).toBe(0);
    const c = await $`${drcm} --check-config --config-file=${cfg} --node=cmnode1`.quiet().nothrow();
    const out = c.stdout.toString() + c.stderr.toString();
    expect(out).not.toContain("ERROR");
    expect([0, 2]).toContain(c.exitCode);
  });

  test.skipIf(!canRun)("rpm -V stays quiet about installed.sha256 after drcm --install rewrote it, and /run/drcm comes from tmpfiles.d", async () => {
    const rec = join(rpmRoot, "var/lib/drcm/installed.sha256");
    writeFileSync(rec, `${readFileSync(rec, "utf8")}${"0".repeat(64)}  /etc/drcm/added-later\n`);
    const v = await $`rpm -V --root ${rpmRoot} --dbpath /var/lib/rpm drcm`.quiet().nothrow();
    expect(v.stdout.toString()).not.toContain("installed.sha256");
    const conf = readFileSync(join(rpmRoot, "usr/lib/tmpfiles.d/drcm.conf"), "utf8");
    expect(conf).toMatch(/^d \/run\/drcm 0755 root root -$/m);
    const scripts = (await $`rpm -qp --scripts ${rpms.main}`.quiet()).stdout.toString();
    expect(scripts).toContain("systemd-tmpfiles --create /usr/lib/tmpfiles.d/drcm.conf");
  });

  test.skipIf(!existsSync(join(repo, "packaging/drcm.service")) || Bun.which("systemd-analyze") === null)(
    "systemd-analyze verify accepts drcm.service",
    async () => {
      const root = mkdtempSync(join(work, "unit-"));
      const unit = join(root, "drcm.service");
      // verify checks that ExecStart exists: point it at a real executable, keep everything else.
      writeFileSync(unit, readFileSync(join(repo, "packaging/drcm.service"), "utf8").replace("/usr/sbin/drcm", haveBinary ? binary : "/bin/true"));
      // --man=no: the man page is not installed on this build host.
      const r = await $`systemd-analyze verify --man=no ${unit}`.quiet().nothrow();
      const msg = (r.stdout.toString() + r.stderr.toString())
        .split("\n")
        .filter((l) => l.includes("drcm.service"))
        .join("\n");
      expect(msg).toBe("");
      expect(r.exitCode).toBe(0);
    },
  );

  test.skipIf(!haveBinary || Bun.which("readelf") === null)("the binary needs no glibc symbol newer than 2.17 (RHEL 7)", async () => {
    const syms = (await $`readelf --dyn-syms -W ${binary}`.quiet()).stdout.toString();
    const versions = [...new Set([...syms.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => Number(m[1]) * 1000 + Number(m[2])))];
    expect(versions.length).toBeGreaterThan(0);
    expect(Math.max(...versions)).toBeLessThanOrEqual(2017);
  });
});
