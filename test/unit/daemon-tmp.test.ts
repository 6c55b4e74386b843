// --daemon's temporary files (lib/io/daemon.ts): a symlink another user planted at a name drcm used to
// write (the /tmp stderr capture `drcm-daemon-<pid>.err`, the pidfile's `<path>.<pid>.tmp`) is never
// followed, so root does not write through it into the file it names.
import { afterAll, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemonize, readPidfile, writePidfile } from "../../lib/io/daemon.ts";

const DIR = mkdtempSync(join(tmpdir(), `drcm-daemon-tmp-${process.pid}-`));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const VICTIM_TEXT = "root:x:0:0:root:/root:/bin/sh\n";

test("the child's stderr capture does not follow a symlink planted at the old predictable /tmp path", async () => {
  const victim = join(DIR, "victim");
  writeFileSync(victim, VICTIM_TEXT);
  const planted = join(tmpdir(), `drcm-daemon-${process.pid}.err`);
  rmSync(planted, { force: true });
  symlinkSync(victim, planted);
  // A "daemon" that fails at start with a message on stderr, as drcm does with a bad config.
  const script = join(DIR, "fails.ts");
  writeFileSync(script, `process.stderr.write("drcm: ERROR - boom at start\\n"); process.exit(3);\n`);
  const mine = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith("drcm-daemon-") && !f.startsWith("drcm-daemon-tmp-"));
  const before = mine();
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await daemonize([process.execPath, script], join(DIR, "never.pid"));
  } finally {
    process.stderr.write = write;
  }
  try {
    expect(code).toBe(1);
    // The child's error still reaches the parent's stderr...
    expect(written.join("")).toContain("drcm: ERROR - boom at start");
    // ...and the file the link names is untouched, the link still a link (not replaced, not written through).
    expect(readFileSync(victim, "utf8")).toBe(VICTIM_TEXT);
    expect(lstatSync(planted).isSymbolicLink()).toBe(true);
    // The private capture dir is gone again.
    expect(mine()).toEqual(before);
  } finally {
    rmSync(planted, { force: true });
  }
});

test("writePidfile does not write through a symlink planted at <pidfile>.<pid>.tmp", () => {
  const victim = join(DIR, "victim2");
  writeFileSync(victim, VICTIM_TEXT);
  const pidfile = join(DIR, "drcm-n1.pid");
  const pid = 4_000_000;
  symlinkSync(victim, `${pidfile}.${pid}.tmp`);
  writePidfile(pidfile, pid);
  expect(readFileSync(victim, "utf8")).toBe(VICTIM_TEXT);
  expect(readPidfile(pidfile)).toBe(pid);
  expect(lstatSync(pidfile).isFile()).toBe(true);
  expect(existsSync(`${pidfile}.${pid}.tmp`)).toBe(false);
});
