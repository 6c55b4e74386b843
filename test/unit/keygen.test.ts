import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "../../lib/cli/args.ts";
import { runKeygen } from "../../lib/cli/keygen.ts";
import { authFindings } from "../../lib/config/checks.ts";

const ROOT = mkdtempSync(join(tmpdir(), `drcm-h1-keygen-${process.pid}-`));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

/** Runs runKeygen with its stdout/stderr captured, so test output stays clean. */
async function keygen(...args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((out += s), true)) as typeof process.stderr.write;
  try {
    return { code: await runKeygen(parseArgs(["--keygen", ...args])), out };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

describe("runKeygen()", () => {
  test("runKeygen() writes 2048 random bytes and the sha1 token with the manual's modes", async () => {
    const dir = join(ROOT, "a");
    const r = await keygen(`--config-file=${dir}/cm.cfg`);
    expect(r.code).toBe(0);
    const key = readFileSync(join(dir, ".auth/authkey"));
    expect(key.length).toBe(2048);
    expect(readFileSync(join(dir, ".auth/authkey.sha1"), "utf8")).toBe(`${createHash("sha1").update(key).digest("hex")}\n`);
    expect(statSync(join(dir, ".auth")).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, ".auth/authkey")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, ".auth/authkey.sha1")).mode & 0o777).toBe(0o600);
    expect(authFindings(dir).filter((f) => f.severity !== "INFO")).toEqual([]);
  });

  test("runKeygen() refuses to overwrite a key without --force", async () => {
    const dir = join(ROOT, "b");
    expect((await keygen(`--config-file=${dir}/cm.cfg`)).code).toBe(0);
    const first = readFileSync(join(dir, ".auth/authkey"));
    const again = await keygen(`--config-file=${dir}/cm.cfg`);
    expect(again.code).toBe(1);
    expect(again.out).toContain("already exists; use --keygen --force");
    expect(readFileSync(join(dir, ".auth/authkey")).equals(first)).toBe(true);
    expect((await keygen(`--config-file=${dir}/cm.cfg`, "--force")).code).toBe(0);
    expect(readFileSync(join(dir, ".auth/authkey")).equals(first)).toBe(false);
  });
});
