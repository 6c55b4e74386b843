// The driver's Store on disk: what an operator set survives a restart; a 2.0.0 standby file is read;
// a damaged file is reported and ignored, never a crash.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NOTHING_PERSISTED } from "../../lib/core/operator.ts";
import { stateFile } from "../../lib/io/state-file.ts";

const dir = mkdtempSync(join(tmpdir(), "drcm-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("stateFile()", () => {
  test("stateFile() saves and loads standby, maintenance and moves, mode 0600", () => {
    const errors: string[] = [];
    const s = stateFile(dir, "n1", { error: (m) => errors.push(m) });
    expect(s.load()).toEqual(NOTHING_PERSISTED);
    const p = { standby: true, maintenance: true, operator: { gen: 2001, maintenance: true, pins: [{ resource: "ipaddr:vip", node: "n2", since: 1.7e12, until: null }] } };
    s.save(p);
    expect(stateFile(dir, "n1", { error: (m) => errors.push(m) }).load()).toEqual(p);
    expect(statSync(join(dir, "state-n1.json")).mode & 0o777).toBe(0o600);
    expect(errors).toEqual([]);
  });

  test("stateFile() reads the standby file of drcm 2.0.0 and replaces it on the next save", () => {
    writeFileSync(join(dir, "standby-n2"), "standby since 2026-01-01\n");
    const s = stateFile(dir, "n2", { error() {} });
    expect(s.load()).toEqual({ ...NOTHING_PERSISTED, standby: true });
    s.save({ ...NOTHING_PERSISTED, standby: true });
    expect(existsSync(join(dir, "standby-n2"))).toBe(false);
    expect(s.load().standby).toBe(true);
  });

  test("stateFile() reports a damaged file with its path and starts cleared", () => {
    for (const text of ["{not json", JSON.stringify({ standby: "yes" })]) {
      writeFileSync(join(dir, "state-n3.json"), text);
      const errors: string[] = [];
      expect(stateFile(dir, "n3", { error: (m) => errors.push(m) }).load()).toEqual(NOTHING_PERSISTED);
      expect(errors.length).toBe(1);
      expect(errors[0]).toContain(join(dir, "state-n3.json"));
    }
  });
});
