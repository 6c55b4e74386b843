// The RPM and `drcm --install` ship the same tree. Needs dist/drcm (npm run build; test/run.ts builds it)
// and rpmbuild (Debian package "rpm"); each test skips with one line saying why when they are missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { $ } from "bun";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
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
const rpms: { main: string; sysvinit: string; src: string } = { main: "", sysvinit: "", src: "" };
const haveRpmlint = Bun.which("rpmlint") !== null;
if (!haveRpmlint) console.log("rpmlint test skipped: rpmlint not installed (apt-get install rpmlint)");
const AGENTS = "/usr/libexec/drcm/resources";
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
    else if (f.endsWith(".src.rpm")) rpms.src = join(out, f);
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
    // The 1.x agent paths /etc/drcm/resources/X are links to /usr/libexec/drcm/resources/X (%posttrans
    // link-agents), absolute for the real system: outside a chroot, name the agents in the root directly.
    const text = readFileSync(join(etc, "cm_2_node_example.cfg"), "utf8")
      .replaceAll("/etc/drcm/resources/", `${rpmRoot}${AGENTS}/`)
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

  test.skipIf(!canRun)("the spec states what drcm runs, the EL7 systemd scriptlets, URL, licence files and a gzip man page", async () => {
    const reqs = (await q("[%{REQUIREFLAGS:deptype} %{REQUIRENAME}\\n]", rpms.main)).trim().split("\n");
    for (const name of ["bash", "coreutils", "iproute", "iputils", "util-linux", "procps", "logrotate", "/bin/sh"]) expect(reqs).toContain(`manual ${name}`);
    for (const phase of ["post", "preun", "postun"]) expect(reqs).toContain(`${phase} systemd`);
    expect(await q("%{URL}", rpms.main)).not.toBe("");
    expect(await q("%{LICENSE}", rpms.main)).toBe("LGPL-3.0-or-later");
    // The scriptlets %systemd_post/%systemd_preun/%systemd_postun expand to on EL7.
    const post = await q("%{POSTIN}", rpms.main);
    expect(post).toMatch(/if \[ \$1 -eq 1 \] ; then\s+# Initial installation\s+systemctl preset drcm\.service >\/dev\/null 2>&1 \|\| :\s+fi/);
    const preun = await q("%{PREUN}", rpms.main);
    expect(preun).toMatch(/if \[ \$1 -eq 0 \] ; then\s+# Package removal, not upgrade\s+systemctl --no-reload disable drcm\.service > \/dev\/null 2>&1 \|\| :\s+systemctl stop drcm\.service > \/dev\/null 2>&1 \|\| :\s+fi/);
    const postun = await q("%{POSTUN}", rpms.main);
    expect(postun).toContain("systemctl daemon-reload >/dev/null 2>&1 || :");
    // %systemd_postun, not _with_restart: an upgrade must not restart drcm (it would fail this node over).
    expect(postun).not.toMatch(/systemctl\s+(try-restart|condrestart|restart)/);
    expect(await q("%{POSTTRANS}", rpms.main)).toContain("/usr/libexec/drcm/link-agents");
    // %license: the LGPL-3.0 text and the GPL-3.0 text it builds on.
    const flags = new Map((await q("[%{FILEFLAGS:fflags} %{FILENAMES}\\n]", rpms.main)).trim().split("\n").map((l) => [l.slice(l.indexOf(" ") + 1), l.slice(0, l.indexOf(" "))]));
    expect(flags.get("/usr/share/licenses/drcm/LICENSE")).toBe("l");
    expect(flags.get("/usr/share/licenses/drcm/COPYING")).toBe("l");
    expect(readFileSync(join(rpmRoot, "usr/share/licenses/drcm/LICENSE"), "utf8")).toContain("GNU LESSER GENERAL PUBLIC LICENSE");
    expect(readFileSync(join(rpmRoot, "usr/share/licenses/drcm/COPYING"), "utf8")).toContain("GNU GENERAL PUBLIC LICENSE");
    // The man page, out of the payload: gzip of packaging/drcm.8 (so gen-embedded.ts was run after drcm.8 changed).
    const cpio = mkdtempSync(join(work, "cpio-"));
    await $`sh -c ${`rpm2cpio '${rpms.main}' | cpio -idm --quiet`}`.cwd(cpio).quiet();
    const man = readFileSync(join(cpio, "usr/share/man/man8/drcm.8.gz"));
    expect([man[0], man[1]]).toEqual([0x1f, 0x8b]);
    expect(gunzipSync(man).toString()).toBe(readFileSync(join(repo, "packaging/drcm.8"), "utf8"));
    expect(existsSync(join(cpio, "usr/share/man/man8/drcm.8"))).toBe(false);
    expect(readlinkSync(join(cpio, "usr/share/man/man8/drcm_server.8.gz"))).toBe("drcm.8.gz");
    // Agents are plain files in /usr/libexec (replaced on upgrade), root's and 0755 for the file-trust checks.
    const ipv4 = await q("[%{FILEFLAGS:fflags}|%{FILEMODES:octal}|%{FILEUSERNAME}|%{FILENAMES}\\n]", rpms.main);
    expect(ipv4).toContain(`|100755|root|${AGENTS}/ipv4addr.sh`);
    expect(ipv4).not.toMatch(/^c[^|]*\|[^|]*\|[^|]*\|\/usr\/libexec/m);
    expect(ipv4).not.toContain("/etc/drcm/resources/ipv4addr.sh");
  });

  test.skipIf(!canRun)("npm run rpm also builds the source RPM: spec, Source0 tarball of the shipped files, Source1 binary", async () => {
    expect(rpms.src).toMatch(/drcm-\d+\.\d+\.\d+-1\.src\.rpm$/);
    const files = (await $`rpm -qpl ${rpms.src}`.quiet()).stdout.toString().trim().split("\n");
    const version = (await q("%{VERSION}", rpms.src)).trim();
    expect(files.sort()).toEqual(["drcm", `drcm-${version}.tar.gz`, "drcm.spec"]);
    const x = mkdtempSync(join(work, "srpm-"));
    await $`sh -c ${`rpm2cpio '${rpms.src}' | cpio -idm --quiet`}`.cwd(x).quiet();
    const listed = (await $`tar -tzf ${join(x, `drcm-${version}.tar.gz`)}`.quiet()).stdout.toString().trim().split("\n");
    for (const e of EMBEDDED) if (e.src !== undefined) expect(listed).toContain(`drcm-${version}/${e.src}`);
    expect(listed).toContain(`drcm-${version}/LICENSE`);
    expect(listed).toContain(`drcm-${version}/packaging/drcm.spec`);
    expect(createHash("sha256").update(readFileSync(join(x, "drcm"))).digest("hex")).toBe(createHash("sha256").update(readFileSync(binary)).digest("hex"));
  });

  test.skipIf(!canRun || !haveRpmlint)("rpmlint with packaging/drcm.rpmlintrc: 0 errors and 0 warnings on the binary and source RPMs", async () => {
    const r = await $`rpmlint -r ${join(repo, "packaging/drcm.rpmlintrc")} ${rpms.main} ${rpms.sysvinit} ${rpms.src}`.quiet().nothrow();
    const out = r.stdout.toString() + r.stderr.toString();
    const findings = out.split("\n").filter((l) => /: [EW]: /.test(l));
    expect(findings).toEqual([]);
    expect(out).toMatch(/3 packages and 0 specfiles checked; 0 errors, 0 warnings/);
    expect(r.exitCode).toBe(0);
    // Every filter is explained: a comment line above each addFilter block.
    const rc = readFileSync(join(repo, "packaging/drcm.rpmlintrc"), "utf8").split("\n");
    rc.forEach((l, i) => {
      if (l.startsWith("addFilter(") && !rc[i - 1]!.startsWith("addFilter(")) expect(`${rc[i - 1]} / ${l}`).toMatch(/^# /);
    });
    // And every filter still matches something the unfiltered run reports (no stale excuses).
    const raw = await $`rpmlint ${rpms.main} ${rpms.sysvinit} ${rpms.src}`.quiet().nothrow();
    const rawText = raw.stdout.toString();
    for (const m of readFileSync(join(repo, "packaging/drcm.rpmlintrc"), "utf8").matchAll(/^addFilter\(r"(.*)"\)$/gm)) {
      expect(`${m[1]} ${new RegExp(m[1]!, "m").test(rawText)}`).toBe(`${m[1]} true`);
    }
  }, 120_000);

  test.skipIf(!canRun)("link-agents links the 1.x agent paths, never touches the admin's files, restores edited copies an upgrade saved, and --remove takes only its links", async () => {
    const root = mkdtempSync(join(work, "links-"));
    await $`sh -c ${`rpm2cpio '${rpms.main}' | cpio -idm --quiet`}`.cwd(root).quiet();
    const etc = join(root, "etc/drcm/resources");
    const helper = join(root, "usr/libexec/drcm/link-agents");
    // The admin's own edited ipv4addr.sh; service.sh was edited under the old %config package and rpm saved it
    // as .rpmsave on erase (the marker from %pre lists it); nfs.sh is a link the admin made elsewhere.
    writeFileSync(join(etc, "ipv4addr.sh"), "#!/bin/sh\n# mine\n", { mode: 0o755 });
    writeFileSync(join(etc, "service.sh.rpmsave"), "#!/bin/sh\n# my service.sh\n", { mode: 0o755 });
    symlinkSync("/opt/site/nfs.sh", join(etc, "nfs.sh"));
    mkdirSync(join(root, "var/lib/drcm"), { recursive: true });
    writeFileSync(join(root, "var/lib/drcm/agents-before-upgrade"), "/etc/drcm/resources/ipv4addr.sh\n/etc/drcm/resources/service.sh\n");
    const r = await $`sh ${helper} ${root}`.quiet().nothrow();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toContain("kept your edited /etc/drcm/resources/service.sh");
    expect(readFileSync(join(etc, "ipv4addr.sh"), "utf8")).toContain("# mine");
    expect(lstatSync(join(etc, "ipv4addr.sh")).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(etc, "service.sh"), "utf8")).toContain("# my service.sh");
    expect(existsSync(join(etc, "service.sh.rpmsave"))).toBe(false);
    expect(readlinkSync(join(etc, "nfs.sh"))).toBe("/opt/site/nfs.sh");
    expect(existsSync(join(root, "var/lib/drcm/agents-before-upgrade"))).toBe(false);
    const shipped = readdirSync(join(root, AGENTS.slice(1)));
    expect(shipped.length).toBeGreaterThan(5);
    for (const n of shipped) {
      if (["ipv4addr.sh", "service.sh", "nfs.sh"].includes(n)) continue;
      expect(`${n} -> ${readlinkSync(join(etc, n))}`).toBe(`${n} -> ${AGENTS}/${n}`);
    }
    // Idempotent.
    expect((await $`sh ${helper} ${root}`.quiet().nothrow()).stdout.toString()).toBe("");
    await $`sh ${helper} --remove ${root}`.quiet();
    expect(readdirSync(etc).sort()).toEqual(["ipv4addr.sh", "nfs.sh", "service.sh"]);
  });

  // A real rpm transaction with scriptlets needs a root to chroot into: an overlay of this host's /usr (writes go
  // to a temp dir) with fresh /etc and /var. Root only; skipped with the reason otherwise.
  const canChroot = canRun && process.getuid?.() === 0 && existsSync("/usr/bin/sh") && lstatSync("/bin").isSymbolicLink();
  if (canRun && !canChroot) console.log("rpm upgrade test skipped: needs root and a merged-/usr host for an overlay root");
  test.skipIf(!canChroot)("rpm -U from a package with %config agents in /etc/drcm/resources: unchanged ones become links, an edited one stays; rpm -e removes the links", async () => {
    const base = mkdtempSync(join(work, "ovl-"));
    const root = join(base, "root");
    for (const d of ["upper", "wrk", "root/usr", "root/etc", "root/var/lib", "root/dev", "root/tmp", "root/run", "root/proc"]) mkdirSync(join(base, d), { recursive: true });
    const mnt = await $`mount -t overlay overlay -o ${`lowerdir=/usr,upperdir=${base}/upper,workdir=${base}/wrk`} ${join(root, "usr")}`.quiet().nothrow();
    if (mnt.exitCode !== 0) {
      console.log(`rpm upgrade test skipped: cannot mount an overlay (${mnt.stderr.toString().trim()})`);
      return;
    }
    try {
      for (const l of ["bin", "sbin", "lib", "lib64"]) symlinkSync(`usr/${l}`, join(root, l));
      await $`mount --bind /dev ${join(root, "dev")}`.quiet();
      // The old package: agents as %config(noreplace) files, as drcm 2.0.0-1 and drcm_server 1.x shipped them.
      const top = join(base, "old");
      for (const d of ["SPECS", "BUILD", "RPMS", "SOURCES", "SRPMS"]) mkdirSync(join(top, d), { recursive: true });
      writeFileSync(
        join(top, "SPECS/old.spec"),
        `Name: drcm\nVersion: 1.9.0\nRelease: 1\nSummary: old\nLicense: LGPL-3.0-or-later\nBuildArch: noarch\nAutoReqProv: no\n%description\nold\n%install\nmkdir -p %{buildroot}/etc/drcm/resources\nfor a in ipv4addr.sh service.sh crontab.sh; do printf '#!/bin/sh\\n# old %s\\n' $a > %{buildroot}/etc/drcm/resources/$a; chmod 755 %{buildroot}/etc/drcm/resources/$a; done\n%files\n%dir /etc/drcm\n%dir /etc/drcm/resources\n%config(noreplace) /etc/drcm/resources/*\n`,
      );
      expect((await $`rpmbuild -bb --define ${`_topdir ${top}`} ${join(top, "SPECS/old.spec")}`.quiet().nothrow()).exitCode).toBe(0);
      const old = join(top, "RPMS/noarch", readdirSync(join(top, "RPMS/noarch"))[0]!);
      const rpmIn = (...a: string[]) => $`rpm --root ${root} --dbpath /var/lib/rpm ${a}`.quiet().nothrow();
      expect((await rpmIn("--initdb")).exitCode).toBe(0);
      expect((await rpmIn("-i", "--nodeps", old)).exitCode).toBe(0);
      const etc = join(root, "etc/drcm/resources");
      writeFileSync(join(etc, "service.sh"), "#!/bin/sh\n# edited by the admin\n");
      const up = await rpmIn("-U", "--nodeps", rpms.main);
      expect(up.stderr.toString()).not.toMatch(/scriptlet failed|error/i);
      expect(up.exitCode).toBe(0);
      expect(readlinkSync(join(etc, "ipv4addr.sh"))).toBe(`${AGENTS}/ipv4addr.sh`);
      expect(readlinkSync(join(etc, "crontab.sh"))).toBe(`${AGENTS}/crontab.sh`);
      // The link is absolute for the system the root is: follow it inside the root.
      expect(readFileSync(join(root, readlinkSync(join(etc, "ipv4addr.sh"))), "utf8")).toBe(readFileSync(join(repo, "resources/ipv4addr.sh"), "utf8"));
      expect(lstatSync(join(etc, "service.sh")).isSymbolicLink()).toBe(false);
      expect(readFileSync(join(etc, "service.sh"), "utf8")).toContain("# edited by the admin");
      expect(existsSync(join(etc, "service.sh.rpmsave"))).toBe(false);
      expect(readlinkSync(join(etc, "nfs.sh"))).toBe(`${AGENTS}/nfs.sh`);
      // The agents the links point at are the daemon's kind of trusted: root's, 0755, in root's 0755 dirs.
      for (const d of [join(root, "usr/libexec/drcm"), join(root, AGENTS.slice(1))]) expect((lstatSync(d).mode & 0o7777).toString(8)).toBe("755");
      const er = await rpmIn("-e", "--nodeps", "drcm");
      expect(er.exitCode).toBe(0);
      expect(readdirSync(etc)).toEqual(["service.sh"]);
    } finally {
      await $`umount ${join(root, "dev")}`.quiet().nothrow();
      await $`umount ${join(root, "usr")}`.quiet().nothrow();
    }
  }, 120_000);

  test.skipIf(Bun.which("logrotate") === null)("logrotate rotates every log drcm and its scripts write", async () => {
    const dir = mkdtempSync(join(work, "logs-"));
    chmodSync(dir, 0o755);
    // The log names in the code: lib/io/agents.ts (resource and fence logs), the client log, the sync scripts'.
    const agentsSrc = readFileSync(join(repo, "lib/io/agents.ts"), "utf8");
    const names = [...new Set([...agentsSrc.matchAll(/"(\w+_resource\.log|fence\.log)"/g)].map((m) => m[1]!))];
    expect(names).toContain("fence.log");
    expect(names.length).toBeGreaterThanOrEqual(6);
    names.push("drcm.log", "drcm_client.log", "node1-www-filesystem-sync.log", "cluster1-shared-storage-backup.log");
    for (const n of names) writeFileSync(join(dir, n), `${n} line\n`);
    const conf = join(dir, "drcm.logrotate");
    writeFileSync(conf, readFileSync(join(repo, "packaging/drcm.logrotate"), "utf8").replaceAll("/var/log/drcm/", `${dir}/`), { mode: 0o644 });
    const r = await $`logrotate -f -s ${join(dir, "state")} ${conf}`.quiet().nothrow();
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
    const after = readdirSync(dir);
    for (const n of names) {
      // copytruncate: the live file stays (empty), the old lines are in the rotated copy.
      expect(`${n} ${readFileSync(join(dir, n), "utf8")}`).toBe(`${n} `);
      expect(`${n} ${after.some((f) => f !== n && f.startsWith(n))}`).toBe(`${n} true`);
    }
    // drcm's own rotation names drcm.log.N: logrotate's dateext names cannot take those.
    expect(after.some((f) => /^drcm\.log\.\d+$/.test(f))).toBe(false);
  });

  test("drcm.service: fails at once on a refused config, no task limit, stops without SIGKILL, drcm_server alias", () => {
    const unit = readFileSync(join(repo, "packaging/drcm.service"), "utf8");
    const keys = new Map<string, string[]>();
    for (const l of unit.split("\n")) {
      const m = /^(\w+)=(.*)$/.exec(l);
      if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
    }
    const one = (k: string): string | undefined => keys.get(k)?.at(-1);
    expect(one("RestartPreventExitStatus")).toBe("78");
    expect(readFileSync(join(repo, "lib/server.ts"), "utf8")).toMatch(/export const EXIT_CONFIG = 78;/);
    expect(one("Restart")).toBe("on-failure");
    expect(one("TasksMax")).toBe("infinity");
    expect(one("KillMode")).toBe("process");
    expect(one("SendSIGKILL")).toBe("no");
    expect(one("TimeoutStopSec")).toBe("30min");
    expect(one("Alias")).toBe("drcm_server.service");
    // Type=notify only if drcm sent READY=1; it does not, so simple.
    const sdNotify = /READY=1/.test(readdirSync(join(repo, "lib/io")).map((f) => readFileSync(join(repo, "lib/io", f), "utf8")).join("\n"));
    expect(one("Type")).toBe(sdNotify ? "notify" : "simple");
  });

  test.skipIf(!haveBinary)("drcm.init start on a config drcm refuses (exit 78) prints FAILED with the first error and returns 6", async () => {
    const d = mkdtempSync(join(work, "initd-"));
    const cfg = join(d, "cm.cfg");
    writeFileSync(cfg, "this line is not a key\n[CM_NODE]\nnodename = broken\n");
    const direct = await $`${binary} --daemon --pidfile=${join(d, "pid")} --config-file=${cfg}`.quiet().nothrow();
    expect(direct.exitCode).toBe(78);
    const firstError = direct.stderr.toString().split("\n").find((l) => l.includes("ERROR"))!;
    writeFileSync(join(d, "sysconfig"), `DRCM=${binary}\nCFGFILE=${cfg}\nPIDFILE=${d}/drcm.pid\nLOCKFILE=${d}/lock/drcm\nRUNDIR=${d}/run\n`);
    const r = await $`sh ${join(repo, "packaging/drcm.init")} start`.env({ ...process.env, DRCM_SYSCONFIG: join(d, "sysconfig") }).quiet().nothrow();
    expect(r.exitCode).toBe(6);
    expect(r.stdout.toString()).toBe(`Starting drcm: FAILED: ${firstError}\n`);
    expect(existsSync(join(d, "drcm.pid"))).toBe(false);
  });
});
