// This run's sender incarnation (lib/wire/guard.ts): it must be higher than that of every earlier run of
// this node, because peers never accept a lower one again (a copy of an old run's packets must not pass
// for the node). The wall clock gives that between runs, except when it was set back; the last
// incarnation kept in spool_dir/incarnation-<node> covers that case. The file is written before the
// first packet goes out (lib/io/replace-file.ts: a crash leaves one or the other).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../error.ts";
import { replaceFile } from "./replace-file.ts";

export function nextIncarnation(spoolDir: string, nodename: string, wallMs: number, log: { warn(msg: string): void; error(msg: string): void }): number {
  const file = join(spoolDir, `incarnation-${nodename}`);
  let last = 0;
  try {
    const text = readFileSync(file, "utf8").trim();
    if (/^\d{1,16}$/.test(text)) last = Number(text);
    else log.warn(`Ignoring ${file}: not an incarnation number`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.warn(`Cannot read ${file}: ${errorMessage(e)}`);
  }
  const inc = Math.max(Math.floor(wallMs), last + 1);
  if (last >= Math.floor(wallMs)) log.warn(`The clock (${new Date(wallMs).toISOString()}) is behind the last run of this node: incarnation ${inc} continues from ${file}`);
  try {
    replaceFile(file, `${inc}\n`, { mode: 0o600 });
  } catch (e) {
    log.error(`Cannot record the incarnation in ${file}: ${errorMessage(e)}; if the clock is ever set back before the next start, peers will refuse this node until they restart`);
  }
  return inc;
}
