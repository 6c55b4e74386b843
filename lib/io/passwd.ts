// Who a process runs as, and users' groups, from the passwd and group databases. Not os.userInfo():
// Bun 1.4.5 reports the name "unknown" when $USER is unset (services, cron, `su -c`), and both the
// agents (which user runs an application) and the client (who asked for an operator command) need
// the real name. `etc` is where passwd and group live: tests pass their own.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The lines of a colon-separated database (passwd, group) split into fields; throws when unreadable. */
function rows(etc: string, db: "passwd" | "group"): string[][] {
  return readFileSync(join(etc, db), "utf8")
    .split("\n")
    .map((l) => l.split(":"));
}

/** Fields of the passwd line of a uid or user name in <etc>/passwd, else from `getent passwd` (LDAP and other NSS users). */
export function passwdEntry(who: number | string, etc = "/etc"): string[] | null {
  const matches = (f: string[]): boolean => (typeof who === "number" ? f[2] !== "" && Number(f[2]) === who : f[0] === who);
  try {
    const local = rows(etc, "passwd").find((f) => f.length >= 7 && matches(f));
    if (local !== undefined) return local;
  } catch {
    // no readable passwd file: ask NSS
  }
  try {
    const r = Bun.spawnSync(["getent", "passwd", String(who)], { stdout: "pipe", stderr: "ignore" });
    const f = r.stdout.toString().trim().split(":");
    return r.exitCode === 0 && f.length >= 7 ? f : null;
  } catch {
    return null;
  }
}

/** Name of a group id from <etc>/group; null if unknown. */
export function groupName(gid: number, etc = "/etc"): string | null {
  try {
    return rows(etc, "group").find((f) => f[2] !== undefined && f[2] !== "" && Number(f[2]) === gid)?.[0] ?? null;
  } catch {
    return null;
  }
}

/** Primary group (gid and name) of a local user from <etc>/passwd and <etc>/group; null if unknown. */
export function primaryGroup(user: string, etc = "/etc"): { gid: number; name: string | null } | null {
  try {
    const entry = rows(etc, "passwd").find((f) => f[0] === user);
    if (entry === undefined || entry[3] === undefined) return null;
    const gid = Number(entry[3]);
    return { gid, name: groupName(gid, etc) };
  } catch {
    return null;
  }
}

/** The user a process (the daemon) runs as, from its passwd entry. */
export interface DaemonUser {
  readonly uid: number;
  readonly gid: number;
  readonly username: string;
  readonly homedir: string;
  /** Login shell from the passwd entry; null when unknown. */
  readonly shell: string | null;
}

/** This process's user. */
export function currentDaemonUser(etc = "/etc"): DaemonUser {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const f = passwdEntry(uid, etc);
  // No passwd entry (containers with arbitrary uids): only the numeric uid names this user.
  if (f === null) return { uid, gid, username: String(uid), homedir: process.env.HOME ?? "/", shell: null };
  return { uid, gid: Number(f[3]), username: f[0]!, homedir: f[5] || "/", shell: f[6] || null };
}

/** This process's user name, or `uid<N>` when the passwd database does not know the uid. */
export function currentUserName(): string {
  const uid = process.getuid?.() ?? 0;
  return passwdEntry(uid)?.[0] || `uid${uid}`;
}
