// How to run drcm again from inside drcm: the demo's daemons, clients and HTTP responders run the
// very executable that runs the demo, so `npm start` (bun + drcm.ts) and the compiled binary both work.
import { existsSync } from "node:fs";
import { join } from "node:path";

/** Argv prefix that starts this drcm: [binary] when compiled, [bun, .../drcm.ts] from source. */
export function drcmCommand(): string[] {
  const entry = join(import.meta.dir, "../../drcm.ts");
  // A compiled binary's modules live under /$bunfs; from source the entry file sits two levels up.
  const fromSource = !import.meta.dir.startsWith("/$bunfs") && !import.meta.dir.startsWith("B:/~BUN") && existsSync(entry);
  return fromSource ? [process.execPath, entry] : [process.execPath];
}

/** POSIX single-quoted word. */
export const sq = (s: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/** The drcm command as a shell command line (for scripts and the lines the demo prints). */
export const drcmShell = (): string => drcmCommand().map(sq).join(" ");
