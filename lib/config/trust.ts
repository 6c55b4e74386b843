// File trust, the rule of sshd's StrictModes: the daemon runs cm.cfg's scripts as root and signs with
// the auth key, so each of those files, and every directory above it up to /, must be owned by root
// (or by the daemon's own user when it does not run as root) and writable by nobody else. A directory
// that others may write is accepted only when it is root's and sticky (/tmp): there nobody can rename
// or replace another user's entry. Missing files are not this module's business (checks.ts reports them).
// Pure: the file system comes in as TrustFs (lib/io/daemon.ts has the real one), the uid as a number.
import { dirname, isAbsolute, join, normalize, resolve } from "node:path";
import { KIND_INFO, type Cluster } from "./model.ts";
import { stripOuterQuotes } from "./names.ts";

/** What the checks need of stat(2). */
export interface FileInfo {
  readonly uid: number;
  /** st_mode: type bits are ignored, permission, setuid/setgid and sticky bits are read. */
  readonly mode: number;
  readonly isDirectory: boolean;
}

export interface TrustFs {
  /** stat(2), following symlinks; null when the path does not exist or cannot be looked at. */
  stat(path: string): FileInfo | null;
  /** realpath(3), or null when it cannot be resolved. */
  realpath(path: string): string | null;
  /** The user name of a uid for messages, or null when unknown. */
  userName?(uid: number): string | null;
}

/** A file the daemon trusts, and what it is for messages ("resource script of ipaddr vip1"). */
export interface TrustTarget {
  readonly path: string;
  readonly what: string;
}

export interface TrustFinding {
  /** The file or directory that is wrong. */
  readonly path: string;
  /** What is wrong with it and how to fix it; the path is not repeated at its start. */
  readonly message: string;
}

/** Every file of the cluster the daemon reads as trusted or runs as root. */
export function clusterTrustTargets(cluster: Cluster): TrustTarget[] {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(cluster.etcDir, p));
  const out: TrustTarget[] = [
    { path: cluster.file, what: "config file" },
    // authPaths() of auth.ts, which reads files and so cannot be imported here.
    { path: join(cluster.etcDir, ".auth", "authkey"), what: "auth key" },
  ];
  for (const r of cluster.resources) {
    if (r.kind === "application") continue;
    const label = `${KIND_INFO[r.kind].label} ${r.nickname}`;
    out.push({ path: abs(r.script), what: `resource script of ${label}` });
    // The template becomes a crontab in install_location: root runs what it says.
    if (r.kind === "crontab") out.push({ path: abs(r.template), what: `crontab template of ${label}` });
  }
  const fence = cluster.server.fenceScript === null ? "" : stripOuterQuotes(cluster.server.fenceScript.trim());
  if (fence !== "") out.push({ path: abs(fence), what: "fence_script" });
  for (const a of cluster.server.alertScripts) {
    const s = stripOuterQuotes(a.trim());
    if (s !== "") out.push({ path: abs(s), what: "alert_script" });
  }
  return out;
}

const modeText = (mode: number): string => `mode ${(mode & 0o7777).toString(8).padStart(4, "0")}`;

/** `/a/b/c` -> [`/a/b`, `/a`, `/`]. */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); ; d = dirname(d)) {
    out.push(d);
    if (d === dirname(d)) return out;
  }
}

/**
 * What is wrong with the targets, one finding per path (a directory above several targets is named once).
 * `uid` is the daemon's: 0 accepts only root as owner, another uid accepts root and itself.
 */
export function trustFindings(targets: readonly TrustTarget[], opts: { readonly uid: number; readonly fs: TrustFs }): TrustFinding[] {
  const { uid, fs } = opts;
  const out: TrustFinding[] = [];
  const seen = new Set<string>();
  const owners = uid === 0 ? "root" : `root or ${fs.userName?.(uid) ?? `uid ${uid}`}`;
  const chownTo = uid === 0 ? "root" : (fs.userName?.(uid) ?? String(uid));
  const judge = (path: string, st: FileInfo, role: string): void => {
    if (st.uid !== 0 && st.uid !== uid) {
      const name = fs.userName?.(st.uid);
      out.push({ path, message: `${role} is owned by ${name ? `${name} (uid ${st.uid})` : `uid ${st.uid}`}, not ${owners}; chown ${chownTo} ${path}` });
    }
    const writable = st.mode & 0o022;
    if (writable === 0) return;
    // /tmp-like: root's and sticky, so nobody else can replace the entries in it.
    if (st.isDirectory && st.uid === 0 && (st.mode & 0o1000) !== 0) return;
    const who = writable & 0o002 ? "every user" : "its group";
    out.push({ path, message: `${role} is writable by ${who} (${modeText(st.mode)}); chmod ${writable & 0o002 ? "go-w" : "g-w"} ${path}` });
  };
  const check = (path: string, role: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    const st = fs.stat(path);
    if (st !== null) judge(path, st, role);
  };
  for (const t of targets) {
    const path = normalize(t.path);
    if (fs.stat(path) === null) continue;
    const real = fs.realpath(path) ?? path;
    check(path, t.what);
    if (real !== path) check(real, `${t.what} (${path} links to it)`);
    // The directories above the name as written (who may swap the link) and above the file itself.
    for (const p of new Set([...ancestors(path), ...(real === path ? [] : ancestors(real))])) check(p, `directory above the ${t.what} ${path}`);
  }
  return out;
}

/** `<path>: <message>`, the line the server logs. */
export const trustLine = (f: TrustFinding): string => `${f.path}: ${f.message}`;
