// drcm --keygen [--force]: the manual's recipe (dd 2048 random bytes, sha1sum | cut -b1-40) in one step,
// written next to the config file with the manual's modes (dir 0700, files 0600).
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { authPaths, keyToken } from "../config/auth.ts";
import type { CliOptions } from "./args.ts";
import { errorMessage } from "../error.ts";

const KEY_BYTES = 2048;

/** Writes a file whole or not at all, private from the first byte. */
function writePrivate(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export async function runKeygen(o: CliOptions): Promise<number> {
  const etcDir = dirname(resolve(o.configFile));
  const p = authPaths(etcDir);
  if (existsSync(p.key) && !o.force) {
    process.stderr.write(`drcm: ERROR - Auth key ${p.key} already exists; use --keygen --force to replace it (then copy it to every node)\n`);
    return 1;
  }
  try {
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    chmodSync(p.dir, 0o700);
    const key = new Uint8Array(randomBytes(KEY_BYTES));
    writePrivate(p.key, key);
    writePrivate(p.sha1, `${keyToken(key)}\n`);
  } catch (e) {
    process.stderr.write(`drcm: ERROR - Cannot write auth key in ${p.dir}: ${errorMessage(e)}\n`);
    return 1;
  }
  process.stdout.write(
    [
      `INFO - Wrote ${p.key} (${KEY_BYTES} random bytes, mode 0600)`,
      `INFO - Wrote ${p.sha1} (mode 0600)`,
      `Copy ${p.dir} to the same place on every node (e.g. rsync -a ${p.dir}/ othernode:${p.dir}/)`,
      "",
    ].join("\n"),
  );
  return 0;
}
