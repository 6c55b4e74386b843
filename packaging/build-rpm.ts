// `npm run rpm`: builds drcm-<version>-1.<arch>.rpm, drcm-sysvinit-... and the source RPM drcm-<version>-1.src.rpm
// into dist/ with rpmbuild (Debian package "rpm"). The spec's %files come from lib/embedded.ts and its %install
// runs `drcm --install`, so both install paths ship the same files with the same modes. Source0 is a tarball of
// the repository files the binary embeds (the layout's sources), Source1 the binary.
//   bun packaging/build-rpm.ts [--no-build] [--binary=PATH] [--release=N] [--out=DIR] [--topdir=DIR] [--url=URL]
// --binary packs an already built drcm binary (implies --no-build). --url: the spec's URL (default: package.json
// "homepage", else the README the package installs).
import { $ } from "bun";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import type { EmbeddedEntry } from "../lib/embedded.ts";

const repo = join(import.meta.dir, "..");

/** One %files line: the RPM flags of a manifest entry. */
export function fileLine(e: EmbeddedEntry): string {
  const attr = `%attr(0${e.mode.toString(8)},root,root)`;
  switch (e.type) {
    case "dir":
      return `%dir ${attr} ${e.path}`;
    case "symlink":
      return e.path;
    default: {
      const flag = e.config === "noreplace" ? "%config(noreplace) " : e.config === "config" ? "%config " : e.config === "doc" ? "%doc " : e.config === "license" ? "%license " : "";
      // `drcm --install` rewrites its checksum record: that is no tampering for rpm -V to report.
      const verify = e.type === "record" ? "%verify(not md5 size mtime) " : "";
      return `${flag}${verify}${attr} ${e.path}`;
    }
  }
}

/** No project web site is recorded yet (package.json has no "homepage"): the spec points at the shipped README. */
export const DEFAULT_URL: string = (pkg as { homepage?: string }).homepage ?? "file:///usr/share/doc/drcm/README.md";

/** Repo-relative files of Source0: every shipped file's source, plus what builds the manifest and the package. */
export function sourceFiles(entries: readonly EmbeddedEntry[]): string[] {
  const extra = ["package.json", "packaging/drcm.spec", "packaging/layout.ts", "packaging/gen-embedded.ts", "packaging/build-rpm.ts", "packaging/drcm.rpmlintrc", "packaging/drcm.8"];
  return [...new Set([...entries.flatMap((e) => (e.src === undefined ? [] : [e.src])), ...extra])].sort();
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The spec from the template and the manifest. */
export function renderSpec(template: string, entries: readonly EmbeddedEntry[], version: string, release: string, date: Date, url = DEFAULT_URL): string {
  const files = (p: "main" | "sysvinit"): string =>
    entries
      .filter((e) => e.pkg === p)
      .map(fileLine)
      .join("\n");
  const day = `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, "0")} ${date.getUTCFullYear()}`;
  return template
    .replaceAll("@VERSION@", version)
    .replaceAll("@RELEASE@", release)
    .replaceAll("@DATE@", day)
    .replaceAll("@URL@", url)
    .replace("@FILES_MAIN@", files("main"))
    .replace("@FILES_SYSVINIT@", files("sysvinit"));
}

/** Architecture name rpm uses for this machine (the Bun binary is built for the host). */
const rpmArch = (): string => (process.arch === "arm64" ? "aarch64" : "x86_64");

async function main(argv: string[]): Promise<number> {
  const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const release = flag("release") ?? "1";
  const out = flag("out") ?? join(repo, "dist");
  const binary = flag("binary") ?? join(repo, "dist", "drcm");
  if (!argv.includes("--no-build") && flag("binary") === undefined) {
    const gen = await $`bun packaging/gen-embedded.ts`.cwd(repo).nothrow();
    if (gen.exitCode !== 0) return 1;
    const b = await $`bun build --compile --no-compile-autoload-dotenv --no-compile-autoload-bunfig drcm.ts --outfile dist/drcm`.cwd(repo).nothrow();
    if (b.exitCode !== 0) {
      process.stderr.write("build-rpm: ERROR - Building dist/drcm failed\n");
      return 1;
    }
  }
  if (Bun.which("rpmbuild") === null) {
    process.stderr.write('build-rpm: ERROR - rpmbuild not found: install it with "apt-get install rpm" (Debian) or "dnf install rpm-build"\n');
    return 1;
  }
  // Import after gen-embedded ran, so the manifest is the one the binary was built from.
  const { EMBEDDED } = await import("../lib/embedded.ts");
  const top = flag("topdir") ?? join(repo, "dist", "rpmbuild");
  rmSync(top, { recursive: true, force: true });
  for (const d of ["SOURCES", "SPECS", "BUILD", "RPMS", "SRPMS", "BUILDROOT"]) mkdirSync(join(top, d), { recursive: true });
  copyFileSync(binary, join(top, "SOURCES", "drcm"));
  chmodSync(join(top, "SOURCES", "drcm"), 0o755);
  // Reproducible: sorted names, root owner, the commit-independent mtime 0.
  const base = `drcm-${pkg.version}`;
  const tar = await $`tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --transform ${`s,^,${base}/,`} -czf ${join(top, "SOURCES", `${base}.tar.gz`)} ${sourceFiles(EMBEDDED)}`
    .cwd(repo)
    .nothrow()
    .quiet();
  if (tar.exitCode !== 0) {
    process.stderr.write(`${tar.stderr.toString()}build-rpm: ERROR - Making the source tarball failed\n`);
    return 1;
  }
  const spec = renderSpec(readFileSync(join(import.meta.dir, "drcm.spec"), "utf8"), EMBEDDED, pkg.version, release, new Date(), flag("url") ?? DEFAULT_URL);
  const specPath = join(top, "SPECS", "drcm.spec");
  writeFileSync(specPath, spec);
  const arch = rpmArch();
  // --nodeps: BuildRequires names EL packages (systemd, for its rpm macros), which a Debian build host has no rpm
  // database entries for; the spec defines the EL7 macros itself when they are missing.
  const r = await $`rpmbuild -ba --nodeps --target ${arch} --define ${`_topdir ${top}`} ${specPath}`.nothrow().quiet();
  if (r.exitCode !== 0) {
    const err = r.stderr.toString();
    process.stderr.write(err);
    const stale = /File not found|Installed \(but unpackaged\) file/.test(err);
    process.stderr.write(
      stale
        ? `build-rpm: ERROR - rpmbuild failed: "${binary}" embeds other files than lib/embedded.ts lists; rebuild it (npm run build)\n`
        : "build-rpm: ERROR - rpmbuild failed\n",
    );
    return 1;
  }
  mkdirSync(out, { recursive: true });
  // drcm-sysvinit is noarch (a shell script).
  for (const d of [join(top, "RPMS", arch), join(top, "RPMS", "noarch"), join(top, "SRPMS")]) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).filter((f) => f.endsWith(".rpm"))) {
      copyFileSync(join(d, f), join(out, f));
      process.stdout.write(`${join(out, f)}\n`);
    }
  }
  return 0;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
