// The driver's Store on disk: spool_dir/state-<node>.json holds what an operator set (standby, node and
// cluster maintenance, moves) so a restarted daemon keeps it. Written to a temporary file and renamed,
// so a crash mid-write leaves the old copy. A file that cannot be read is reported and ignored: the
// cluster-wide part comes back from the peers' heartbeats anyway.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { replaceFile } from "./replace-file.ts";
import { join } from "node:path";
import { z } from "zod";
import { NOTHING_PERSISTED } from "../core/operator.ts";
import type { Persisted } from "../core/types.ts";
import { errorMessage } from "../error.ts";
import type { Store } from "../node/ports.ts";

const stateSchema = z.object({
  standby: z.boolean(),
  maintenance: z.boolean(),
  operator: z.object({
    gen: z.int().min(0),
    maintenance: z.boolean(),
    pins: z.array(z.object({ resource: z.string().min(1), node: z.string().min(1), since: z.number(), until: z.number().nullable() })),
  }),
});

export function stateFile(spoolDir: string, nodename: string, log: { error(msg: string): void }): Store {
  const file = join(spoolDir, `state-${nodename}.json`);
  // drcm 2.0.0 kept only standby, as the presence of this file.
  const legacy = join(spoolDir, `standby-${nodename}`);
  return {
    load(): Persisted {
      if (!existsSync(file)) return { ...NOTHING_PERSISTED, standby: existsSync(legacy) };
      try {
        const parsed = stateSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
        if (parsed.success) return parsed.data;
        log.error(`Ignoring ${file}: not a drcm state file (${parsed.error.issues[0]?.message ?? "invalid"}); standby, maintenance and moves start cleared here`);
      } catch (e) {
        log.error(`Ignoring ${file}: ${errorMessage(e)}; standby, maintenance and moves start cleared here`);
      }
      return NOTHING_PERSISTED;
    },
    save(p: Persisted): void {
      try {
        replaceFile(file, `${JSON.stringify(p, null, 1)}\n`, { mode: 0o600 });
        rmSync(legacy, { force: true });
      } catch (e) {
        log.error(`Cannot record operator state in ${file}: ${errorMessage(e)}`);
      }
    },
  };
}
