import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nextIncarnation } from "../../lib/io/incarnation.ts";

const quiet = () => {
  const said: string[] = [];
  return { said, log: { warn: (m: string) => said.push(`WARN ${m}`), error: (m: string) => said.push(`ERROR ${m}`) } };
};

describe("nextIncarnation()", () => {
  test("grows from run to run even when the clock was set back, and records each run", () => {
    const dir = mkdtempSync(join(tmpdir(), "drcm-inc-"));
    try {
      const q = quiet();
      const first = nextIncarnation(dir, "n1", 1_000_000, q.log);
      expect(first).toBe(1_000_000);
      expect(readFileSync(join(dir, "incarnation-n1"), "utf8")).toBe("1000000\n");
      // Clock set back by an hour: the next run still gets a higher incarnation, and says why.
      const second = nextIncarnation(dir, "n1", 1_000_000 - 3_600_000, q.log);
      expect(second).toBe(1_000_001);
      expect(q.said.join("\n")).toContain("behind the last run");
      // A normal later start follows the clock again.
      expect(nextIncarnation(dir, "n1", 2_000_000, q.log)).toBe(2_000_000);
      // Per node: another node's file is not read.
      expect(nextIncarnation(dir, "n2", 5, q.log)).toBe(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a damaged file is reported and the clock is used; an unwritable spool dir is reported, not fatal", () => {
    const dir = mkdtempSync(join(tmpdir(), "drcm-inc-"));
    try {
      writeFileSync(join(dir, "incarnation-n1"), "garbage\n");
      const q = quiet();
      expect(nextIncarnation(dir, "n1", 777, q.log)).toBe(777);
      expect(q.said[0]).toContain("not an incarnation number");
      const q2 = quiet();
      expect(nextIncarnation(join(dir, "missing", "dir"), "n1", 778, q2.log)).toBe(778);
      expect(q2.said.join("\n")).toContain("Cannot record the incarnation");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the temporary file is created exclusively: a planted symlink is not written through", () => {
    const dir = mkdtempSync(join(tmpdir(), "drcm-inc-"));
    try {
      const victim = join(dir, "victim");
      writeFileSync(victim, "precious\n");
      // rmSync removes a planted link before the exclusive create, so the victim is untouched either way.
      symlinkSync(victim, join(dir, `incarnation-n1.${process.pid}.tmp`));
      nextIncarnation(dir, "n1", 42, quiet().log);
      expect(readFileSync(victim, "utf8")).toBe("precious\n");
      expect(readFileSync(join(dir, "incarnation-n1"), "utf8")).toBe("42\n");
      expect(existsSync(join(dir, `incarnation-n1.${process.pid}.tmp`))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
