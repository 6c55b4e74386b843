// The 1.x time stamp `Mon DD HH:MM:SS` (no year), used by cm_stat, rstats and printcfg.
// Local time by default, like 1.x; tests pass utc so golden files do not depend on TZ.

import { pad2 as two, syslogStamp, syslogStampUtc } from "../stamp.ts";

export type Stamp = (wallMs: number) => string;

export const localStamp: Stamp = (ms) => syslogStamp(new Date(ms));
export const utcStamp: Stamp = (ms) => syslogStampUtc(new Date(ms));

/** Human age for status lines: `850ms`, `4.2s`, `3m12s`, `2h05m`, `3d04h`. */
export function age(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor(s / 3600) % 24)}h`;
}
