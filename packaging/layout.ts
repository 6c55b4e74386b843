// The install layout: which repo file goes where, with which mode and RPM flag. This is the ONE list that both
// `drcm --install` (through the generated lib/embedded.ts) and the RPM spec (through build-rpm.ts) are made
// from, so a node set up from the binary alone matches one set up from the RPM.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** noreplace: the admin's edited copy stays (new one beside it); config: examples, replaced on upgrade. */
/** license: %license, the LGPL/GPL texts. */
export type ConfigFlag = "noreplace" | "config" | "doc" | "license" | null;
/** main = drcm RPM; sysvinit = drcm-sysvinit RPM (init.d script for hosts without systemd). */
export type Pkg = "main" | "sysvinit";

export interface LayoutEntry {
  /** Absolute install path. */
  path: string;
  /** self = the running drcm binary; record = the INSTALL_RECORD checksum list written by the installer. */
  type: "file" | "dir" | "symlink" | "self" | "record";
  mode: number;
  config: ConfigFlag;
  pkg: Pkg;
  /** Repo-relative source (type file). */
  src?: string;
  /** Link target (type symlink). */
  target?: string;
}

/** Where `drcm --install` remembers the checksum of every file it shipped, to tell an admin edit from an old version. */
export const INSTALL_RECORD = "/var/lib/drcm/installed.sha256";
/** Where the resource agents ship; /etc/drcm/resources/X links here (packaging/drcm-link-agents). */
export const AGENT_DIR = "/usr/libexec/drcm/resources";

const isExec = (abs: string, name: string): boolean => name.endsWith(".sh") || (statSync(abs).mode & 0o111) !== 0;

/** Plain files of a repo dir, sorted, skipping dot files, editor leftovers and sub-directories. */
function filesIn(repo: string, rel: string, filter: (name: string) => boolean = () => true): string[] {
  const abs = join(repo, rel);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((n) => !n.startsWith(".") && !n.endsWith("~") && !n.endsWith(".swp") && filter(n))
    .filter((n) => statSync(join(abs, n)).isFile())
    .sort();
}

const dir = (path: string, mode = 0o755, pkg: Pkg = "main"): LayoutEntry => ({ path, type: "dir", mode, config: null, pkg });

/** Scans the repo and returns the layout, sorted by path (stable output for a commit-friendly manifest). */
export function scanLayout(repo: string): LayoutEntry[] {
  const out: LayoutEntry[] = [];
  const file = (src: string, path: string, mode: number, config: ConfigFlag, pkg: Pkg = "main"): void => {
    out.push({ path, type: "file", mode, config, pkg, src });
  };
  out.push({ path: "/usr/sbin/drcm", type: "self", mode: 0o755, config: null, pkg: "main" });
  out.push({ path: "/usr/sbin/drcm_server", type: "symlink", mode: 0o777, config: null, pkg: "main", target: "drcm" });
  out.push(dir("/etc/drcm"), dir("/etc/drcm/.auth", 0o700));
  for (const d of ["resources", "utils", "file_system_sync", "my_cluster_conf", "crontabs"]) out.push(dir(`/etc/drcm/${d}`));
  out.push(dir("/var/log/drcm"), dir("/var/spool/drcm"), dir("/var/lib/drcm"), dir("/usr/share/doc/drcm"), dir("/usr/share/doc/drcm/examples"));
  out.push(dir("/usr/libexec/drcm"), dir("/usr/libexec/drcm/resources"));

  // The agents are program files, replaced on every upgrade (an agent fix must not land as .rpmnew).
  // cm.cfg names them by their 1.x path /etc/drcm/resources/X.sh: link-agents makes that a symlink here
  // unless the admin has a file of their own there (packaging.md, "Resource agents").
  for (const n of filesIn(repo, "resources", (n) => n.endsWith(".sh"))) file(`resources/${n}`, `${AGENT_DIR}/${n}`, 0o755, null);
  file("packaging/drcm-link-agents", "/usr/libexec/drcm/link-agents", 0o755, null);
  for (const sub of ["utils", "file_system_sync", "my_cluster_conf"]) {
    for (const n of filesIn(repo, `resources/${sub}`)) {
      const src = `resources/${sub}/${n}`;
      file(src, `/etc/drcm/${sub}/${n}`, isExec(join(repo, src), n) ? 0o755 : 0o644, "noreplace");
    }
  }
  for (const n of filesIn(repo, "packaging/crontabs")) file(`packaging/crontabs/${n}`, `/etc/drcm/crontabs/${n}`, 0o644, "noreplace");
  for (const n of filesIn(repo, "packaging/examples", (n) => n.endsWith(".cfg"))) file(`packaging/examples/${n}`, `/etc/drcm/${n}`, 0o644, "config");

  file("packaging/drcm.sysconfig", "/etc/sysconfig/drcm", 0o644, "noreplace");
  file("packaging/drcm.logrotate", "/etc/logrotate.d/drcm", 0o644, "noreplace");
  file("packaging/drcm.service", "/usr/lib/systemd/system/drcm.service", 0o644, null);
  // /run/drcm is a tmpfs dir: recreated at every boot before drcm starts (the sync scripts' locks live there).
  file("packaging/drcm.tmpfiles", "/usr/lib/tmpfiles.d/drcm.conf", 0o644, null);
  // Compressed as EL ships man pages; gen-embedded.ts writes packaging/drcm.8.gz from drcm.8.
  file("packaging/drcm.8.gz", "/usr/share/man/man8/drcm.8.gz", 0o644, "doc");
  out.push({ path: "/usr/share/man/man8/drcm_server.8.gz", type: "symlink", mode: 0o777, config: null, pkg: "main", target: "drcm.8.gz" });
  // cm.cfg(5), generated from the key table (packaging/gen-docs.ts), compressed the same way.
  file("packaging/cm.cfg.5.gz", "/usr/share/man/man5/cm.cfg.5.gz", 0o644, "doc");
  file("packaging/drcm.bash-completion", "/usr/share/bash-completion/completions/drcm", 0o644, null);
  // bash-completion loads a completion by command name: the 1.x name gets the same one.
  out.push({ path: "/usr/share/bash-completion/completions/drcm_server", type: "symlink", mode: 0o777, config: null, pkg: "main", target: "drcm" });
  file("packaging/drcm.init", "/etc/rc.d/init.d/drcm", 0o755, null, "sysvinit");
  for (const n of filesIn(repo, "packaging/doc", (n) => n.endsWith(".md") || n.endsWith(".json"))) file(`packaging/doc/${n}`, `/usr/share/doc/drcm/${n}`, 0o644, "doc");
  // Prometheus scrape job and alerting rules (operations.md).
  for (const n of filesIn(repo, "packaging/examples", (n) => n.endsWith(".yml"))) file(`packaging/examples/${n}`, `/usr/share/doc/drcm/examples/${n}`, 0o644, "doc");
  if (existsSync(join(repo, "README.md"))) file("README.md", "/usr/share/doc/drcm/README.md", 0o644, "doc");
  // LICENSE: the LGPL-3.0 text; COPYING: the GPL-3.0 text the LGPL builds on.
  out.push(dir("/usr/share/licenses/drcm"));
  for (const n of ["LICENSE", "COPYING"]) if (existsSync(join(repo, n))) file(n, `/usr/share/licenses/drcm/${n}`, 0o644, "license");

  // noreplace so an RPM upgrade does not throw away what a later `drcm --install` wrote (the RPM's own copy
  // lands in .rpmnew, which the installer reads too); build-rpm.ts adds %verify(not md5 size mtime).
  out.push({ path: INSTALL_RECORD, type: "record", mode: 0o644, config: "noreplace", pkg: "main" });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
