// Issue 16: the rows of the demo's live view (lib/demo/screen.ts): tabs expanded as the terminal
// would, nothing wider than the terminal, story lines wrapped, each row cleared and written at its
// own address (test/integration/demo-tmux.test.ts checks the same on a real terminal).
import { describe, expect, test } from "bun:test";
import { cut, expandTabs, frameBytes, frameRows, wrap } from "../../lib/demo/screen.ts";

const STAT = [
  "",
  "Cluster Manager Status Monitor                                  Dec 03 16:41:42",
  "",
  "========================= M e m b e r   S t a t u s ===========================",
  "",
  "  CM Node     Hostname     Status     IP address",
  "  -------     --------     -------    ----------",
  "  node1\tnode1.demo\tDown\t127.0.0.61",
  "  node2\tnode2.demo\tUp\t127.0.0.62",
  "",
  "   Application:\tledger\tnode2.demo\tOK-Backup\tDec 03 16:41:43",
  "     Resource: root:root watching /tmp/drcm-demo-abcdef/apps/demo-app.sh ledger watch and a long tail that goes on",
  "",
  "================================ N o d e   D e t a i l =========================",
  ...Array.from({ length: 30 }, (_, i) => `  detail ${i}`),
].join("\n");

describe("demo screen rows", () => {
  test("tabs go to the next multiple of 8, control characters are dropped", () => {
    expect(expandTabs("  node2\tnode2.demo\tUp\t127.0.0.62")).toBe("  node2 node2.demo      Up      127.0.0.62");
    expect(expandTabs("a\x1b[31mb\rc\x07")).toBe("a[31mbc");
    expect(cut("abcdefghij", 5)).toBe("abcde");
    expect(cut("ab\tc", 80)).toBe("ab      c");
  });

  test("wrap breaks at blanks, indents continuations, never exceeds the width", () => {
    const rows = wrap("[+  6.58s] node1 crashes: SIGKILL to its drcm (pid 16681) and its applications, as if the machine died", 40);
    for (const r of rows) expect(r.length).toBeLessThanOrEqual(40);
    expect(rows[0]).toBe("[+  6.58s] node1 crashes: SIGKILL to its");
    expect(rows.slice(1).every((r) => r.startsWith("           "))).toBe(true);
    expect(rows.map((r) => r.trim()).join(" ")).toBe("[+  6.58s] node1 crashes: SIGKILL to its drcm (pid 16681) and its applications, as if the machine died");
    expect(wrap("x".repeat(50), 20).every((r) => r.length <= 20)).toBe(true);
  });

  for (const [cols, rows] of [
    [80, 24],
    [200, 50],
    [40, 10],
  ] as const) {
    test(`${cols}x${rows}: at most ${rows} rows, none wider than ${cols}, no tab`, () => {
      const steps = Array.from({ length: 20 }, (_, i) => `[+ ${i}.00s] step ${i}: ${"word ".repeat(i * 3)}`);
      const out = frameRows({ steps, status: "waiting for node2 to take over ledger and jobs (a peer is dead after 800 ms without heartbeats)...  (0.3 s)", stat: STAT, cols, rows });
      expect(out.length).toBeLessThanOrEqual(rows);
      for (const r of out) {
        expect(r.text.length).toBeLessThanOrEqual(cols);
        expect(r.text).not.toContain("\t");
      }
      expect(out.some((r) => r.bold === true)).toBe(true);
      // The newest story line is shown (its last row at least); on a short screen cm_stat loses its detail part first.
      const blank = out.findIndex((r) => r.text === "");
      expect(out[blank - 1]!.text).toMatch(/word$/);
      if (cols >= 80) expect(out.some((r) => r.text.includes("step 19"))).toBe(true);
      if (rows <= 24) expect(out.some((r) => r.text.includes("N o d e   D e t a i l"))).toBe(false);
      if (rows >= 10 && cols >= 80) expect(out.some((r) => r.text === "  node1 node1.demo      Down    127.0.0.61")).toBe(true);
    });
  }

  test("frameBytes addresses each row, clears it whole first, writes no newline, clears below", () => {
    const b = frameBytes([{ text: "one" }, { text: "two", bold: true }], 24);
    expect(b).toBe("\x1b[1;1H\x1b[2Kone\x1b[2;1H\x1b[2K\x1b[1mtwo\x1b[0m\x1b[3;1H\x1b[J");
    expect(b).not.toContain("\n");
    // A full screen: nothing cleared after the last row (that would erase it).
    expect(frameBytes([{ text: "a" }, { text: "b" }], 2)).toBe("\x1b[1;1H\x1b[2Ka\x1b[2;1H\x1b[2Kb");
  });
});
