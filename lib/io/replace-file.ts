// Writes a small state file so that a crash leaves the old copy or the new one, never half of one, and so
// that nothing planted beside it is written through: the temporary `<path>.<tag>.tmp` is created with
// O_CREAT|O_EXCL ("wx", which follows no symlink) after removing any leftover by that name (which unlinks
// the name, not what a link points to), flushed, then renamed over `path`. Throws what the file system said.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";

export function replaceFile(path: string, text: string, opts: { mode: number; tag?: string | number }): void {
  const tmp = `${path}.${opts.tag ?? process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, "wx", opts.mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
