// Which differences between the running config and a reloaded one a daemon can take without a
// restart. The rule per key lives in keys.ts (reload: "live" | "restart"); this file only compares.
import { SERVER_KEYS } from "./keys.ts";
import type { Cluster } from "./model.ts";

export interface RestartChange {
  readonly key: string;
  /** Line of the key in the reloaded file (0 when the key is now absent and its default applies). */
  readonly line: number;
  readonly was: string;
  readonly now: string;
}

const show = (v: unknown): string => (typeof v === "string" ? `"${v}"` : JSON.stringify(v));

/**
 * The restart-only keys whose effective value differs between `running` and `next`. Empty: the reload
 * may be applied. Aliases (logfile / logfile_name) that name one field are reported once.
 */
export function restartOnlyChanges(running: Cluster, next: Cluster): RestartChange[] {
  const out: RestartChange[] = [];
  const seen = new Set<string>();
  for (const k of SERVER_KEYS) {
    if (k.reload !== "restart" || !k.field || seen.has(k.field)) continue;
    const was = running.server[k.field];
    const now = next.server[k.field];
    if (JSON.stringify(was) === JSON.stringify(now)) continue;
    seen.add(k.field);
    const line = next.server.lines[k.key] ?? 0;
    // An alias the file does not use: report the key that is written.
    const written = SERVER_KEYS.find((o) => o.field === k.field && next.server.lines[o.key] !== undefined);
    out.push({ key: line === 0 && written ? written.key : k.key, line: line || (written ? next.server.lines[written.key]! : 0), was: show(was), now: show(now) });
  }
  return out;
}

/** "log_dir (cm.cfg:12: "/var/log/drcm" -> "/srv/log")" for messages. */
export function describeRestartChange(file: string, c: RestartChange): string {
  return `${c.key} (${file}${c.line > 0 ? `:${c.line}` : ""}: ${c.was} -> ${c.now})`;
}
