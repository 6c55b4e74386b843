// The 1.x time stamp `Mon DD HH:MM:SS` (English month, zero-padded day, no year), local time as 1.x
// wrote it: log lines, resource logs, cm_stat, rstats and printcfg all use this one function.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
export const pad2 = (n: number): string => String(n).padStart(2, "0");

export function syslogStamp(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** The same in UTC, for golden files that must not depend on the machine's time zone. */
export function syslogStampUtc(d: Date): string {
  return `${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}
