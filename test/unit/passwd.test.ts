import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { groupName, passwdEntry, primaryGroup } from "../../lib/io/passwd.ts";

const etc = mkdtempSync(join(tmpdir(), "drcm-passwd-"));
afterAll(() => rmSync(etc, { recursive: true, force: true }));
writeFileSync(join(etc, "passwd"), "root:x:0:0:root:/root:/bin/bash\nalice:x:4711:4712:Alice:/home/alice:/bin/zsh\nbroken:x::\n");
writeFileSync(join(etc, "group"), "root:x:0:\nstaff:x:4712:alice\nempty:x::\n");

describe("passwd", () => {
  test("passwdEntry() finds a local user by uid and by name", () => {
    expect(passwdEntry(4711, etc)).toEqual(["alice", "x", "4711", "4712", "Alice", "/home/alice", "/bin/zsh"]);
    expect(passwdEntry("alice", etc)?.[2]).toBe("4711");
  });

  test("groupName() and primaryGroup() read the group database and skip lines without a gid", () => {
    expect(groupName(4712, etc)).toBe("staff");
    expect(groupName(4999, etc)).toBeNull();
    expect(primaryGroup("alice", etc)).toEqual({ gid: 4712, name: "staff" });
    expect(primaryGroup("nobody-here", etc)).toBeNull();
  });

  test("groupName() and primaryGroup() are null without readable files", () => {
    expect(groupName(0, join(etc, "missing"))).toBeNull();
    expect(primaryGroup("alice", join(etc, "missing"))).toBeNull();
  });
});
