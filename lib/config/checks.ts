// Checks that look at this machine: scripts, templates, directories, this host, the auth key.
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { authPaths, groupOrOtherBits, keyToken, readAuthKey } from "./auth.ts";
import { error, info, warn } from "./lexer.ts";
import type { Cluster, Finding } from "./model.ts";
import { KIND_WORDS } from "./node-section.ts";
import { findSelf } from "./self.ts";
import { readFileSync } from "node:fs";

async function kindOf(path: string): Promise<"file" | "dir" | "other" | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? "file" : s.isDirectory() ? "dir" : "other";
  } catch {
    return null;
  }
}
const can = async (path: string, mode: number): Promise<boolean> =>
  access(path, mode).then(
    () => true,
    () => false,
  );

/** ERROR unless `path` is an executable file. `what` names it as 1.x did ("crontab resource: X"). */
async function executable(path: string, what: string, file: string, line: number): Promise<Finding | null> {
  const k = await kindOf(path);
  if (k !== "file") return error(file, line, `Missing or cannot read ${what}: ${path}${k === "dir" ? " (it is a directory)" : ""}`);
  if (!(await can(path, constants.X_OK))) return error(file, line, `Resource script is not executable: ${path} (chmod 755 it)`);
  return null;
}

export async function checkEnvironment(cluster: Cluster, opts: { node: string | null; hostname?: string }): Promise<Finding[]> {
  const file = cluster.file;
  const out: Finding[] = [];
  const push = (f: Finding | null) => {
    if (f) out.push(f);
  };
  const s = cluster.server;

  for (const r of cluster.resources) {
    if (r.kind === "application") {
      out.push(info(file, r.line, `${r.nickname} application user: ${r.user} group: ${r.group}; start: ${r.start}; stop: ${r.stop}${r.ensure ? `; ensure: ${r.ensure}` : ""}`));
      continue;
    }
    push(await executable(r.script, `${KIND_WORDS[r.kind]} resource`, file, r.line));
    if (r.kind === "crontab") {
      if ((await kindOf(r.template)) !== "file" || !(await can(r.template, constants.R_OK)))
        out.push(error(file, r.line, `Missing or cannot read crontab template: ${r.template}`));
      if ((await kindOf(r.installDir)) !== "dir") out.push(error(file, r.line, `Missing or cannot read crontab DIR: ${r.installDir}`));
    }
  }
  if (s.fenceScript) push(await executable(s.fenceScript, "fence_script", file, s.lines.fence_script ?? 0));
  for (const a of s.alertScripts) push(await executable(a, "alert_script", file, s.lines.alert_script ?? 0));

  for (const [key, dir] of [
    ["log_dir", s.logDir],
    ["run_dir", s.runDir],
    ["spool_dir", s.spoolDir],
  ] as const)
    if ((await kindOf(dir)) !== "dir") out.push(warn(file, s.lines[key] ?? 0, `Missing DIR ${dir} (${key}); the server creates it at start`));

  if (s.clusterUser === "root" && typeof process.geteuid === "function" && process.geteuid() !== 0)
    out.push(warn(file, s.lines.cluster_user ?? 0, "cluster_user is root but this check is not running as root"));

  const self = findSelf(cluster, opts.node, opts.hostname);
  if (typeof self === "string") out.push(error(file, 0, self));
  else out.push(info(file, self.line, `This host is node ${self.nodename} (${self.hostname}, ${self.keepAliveIp})`));

  out.push(...authFindings(cluster.etcDir));
  return out;
}

/** The auth key: present, non-empty, private; the 1.x token beside it should match it. */
export function authFindings(etcDir: string): Finding[] {
  const p = authPaths(etcDir);
  const out: Finding[] = [];
  const key = readAuthKey(etcDir);
  if ("error" in key) return [error(p.key, 0, key.error)];
  for (const path of [p.key, p.sha1]) {
    const bits = groupOrOtherBits(path);
    if (bits !== null) out.push(error(path, 0, `Auth file is readable or writable by group or others (mode ...${bits.toString(8).padStart(2, "0")}): chmod 600 ${path}`));
  }
  const dirBits = groupOrOtherBits(p.dir);
  if (dirBits !== null) out.push(warn(p.dir, 0, `Auth directory is open to group or others: chmod 700 ${p.dir}`));
  if (key.key.length < 32) out.push(warn(p.key, 0, `Auth key is only ${key.key.length} bytes; use at least 32 (drcm --keygen --force makes 2048)`));
  try {
    const token = readFileSync(p.sha1, "utf8").trim().slice(0, 40);
    if (token !== keyToken(key.key)) out.push(warn(p.sha1, 0, `authkey.sha1 does not match authkey; remake it: sha1sum ${p.key} | cut -b1-40 > ${p.sha1}`));
  } catch {
    out.push(info(p.sha1, 0, "authkey.sha1 is missing; drcm only needs authkey (drcm --keygen writes both)"));
  }
  return out;
}
