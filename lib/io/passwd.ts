// Who a process runs as, from the passwd database. Not os.userInfo(): Bun 1.4.5 reports the name
// "unknown" when $USER is unset (services, cron, `su -c`), and both the agents (which user runs an
// application) and the client (who asked for an operator command) need the real name.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Fields of the passwd line of `uid`: /etc/passwd, else `getent passwd` (LDAP and other NSS users). */
export function passwdEntry(uid: number, etc = "/etc"): string[] | null {
  try {
    const local = readFileSync(join(etc, "passwd"), "utf8")
      .split("\n")
      .map((l) => l.split(":"))
      .find((f) => f.length >= 7 && Number(f[2]) === uid && f[2] !== "");
    if (local !== undefined) return local;
  } catch {
    // no readable passwd file: ask NSS
  }
  try {
    const r = Bun.spawnSync(["getent", "passwd", String(uid)], { stdout: "pipe", stderr: "ignore" });
    const f = r.stdout.toString().trim().split(":");
    return r.exitCode === 0 && f.length >= 7 ? f : null;
  } catch {
    return null;
  }
}

/** This process's user name, or `uid<N>` when the passwd database does not know the uid. */
export function currentUserName(): string {
  const uid = process.getuid?.() ?? 0;
  return passwdEntry(uid)?.[0] || `uid${uid}`;
}
