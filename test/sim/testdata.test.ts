// Decision traces as data: every test/sim/testdata/*.txt script runs through the sim World with a fixed
// seed, and its output must match the file. A change in behaviour shows as a diff of a readable file.
//
// To accept new behaviour, rewrite the files with the actual output and review the diff before committing:
//   UPDATE_TESTDATA=1 npm test -- sim
//   UPDATE_TESTDATA=1 bun test ./test/sim/testdata.test.ts
// The format and the commands are described in test/sim/testdata/README.md.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compareScript, formatScript, lineDiff, parseScript } from "./datadriven.ts";
import { renderEvent, runScript } from "./traces.ts";

const DIR = join(import.meta.dir, "testdata");
const UPDATE = process.env.UPDATE_TESTDATA === "1";
const files = readdirSync(DIR)
  .filter((f) => f.endsWith(".txt"))
  .sort();

describe("testdata", () => {
  test("test/sim/testdata holds the scenario scripts", () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  for (const f of files) {
    test(`runScript() ${f}`, () => {
      const path = join(DIR, f);
      const text = readFileSync(path, "utf8");
      const script = parseScript(text, f);
      const outputs = runScript(script.blocks);
      if (UPDATE) {
        const next = formatScript(script, outputs);
        if (next !== text) writeFileSync(path, next);
        return;
      }
      const failure = compareScript(`test/sim/testdata/${f}`, script, outputs);
      if (failure !== null) throw new Error(failure);
      // The same seed gives the same trace: a second run must not differ (no hidden state, no wall clock).
      expect(runScript(script.blocks)).toEqual(outputs);
    });
  }
});

describe("datadriven", () => {
  const text = ["# a comment", "cluster nodes=2 kinds=ipaddr", "----", "vip1: cmnode1 > cmnode2", "vip2: cmnode2 > cmnode1", "", "start all", "----", "", "# trailing", ""].join("\n");

  test("parseScript() and formatScript() round-trip a file", () => {
    const s = parseScript(text, "x.txt");
    expect(s.blocks.map((b) => [b.command, b.line, b.expected.length])).toEqual([
      ["cluster nodes=2 kinds=ipaddr", 2, 2],
      ["start all", 7, 0],
    ]);
    expect(s.blocks[0]!.before).toEqual(["# a comment"]);
    expect(formatScript(s)).toBe(text);
  });

  test("parseScript() names the line of a command without ----", () => {
    expect(() => parseScript("run 1s\nplacement\n", "x.txt")).toThrow('x.txt:1: expected "----" after the command "run 1s"');
  });

  test("compareScript() passes on equal output and fails with a diff on a changed one", () => {
    const s = parseScript(text, "x.txt");
    expect(compareScript("x.txt", s, [["vip1: cmnode1 > cmnode2", "vip2: cmnode2 > cmnode1"], []])).toBeNull();
    const failure = compareScript("x.txt", s, [["vip1: cmnode1 > cmnode2", "vip2: cmnode1 > cmnode2"], ["     +5ms cmnode1 node_ready"]]);
    expect(failure).not.toBeNull();
    expect(failure!.split("\n")[0]).toBe('x.txt:2: output of "cluster nodes=2 kinds=ipaddr" differs (rerun with UPDATE_TESTDATA=1 to accept the actual output, then review the diff)');
    expect(failure).toContain("--- x.txt (expected)\n+++ x.txt (actual)\n");
    expect(failure).toContain("\n-vip2: cmnode2 > cmnode1\n+vip2: cmnode1 > cmnode2\n");
    expect(failure).toContain("\n+     +5ms cmnode1 node_ready\n");
  });

  test("compareScript() fails when a real trace is edited: the runner is not vacuous", () => {
    const f = files.find((x) => x.includes("failback-delay")) ?? files[0]!;
    const script = parseScript(readFileSync(join(DIR, f), "utf8"), f);
    const outputs = runScript(script.blocks);
    const i = outputs.findIndex((o) => o.some((l) => l.includes(" failback ")));
    expect(i).toBeGreaterThan(0);
    const edited = outputs.map((o, k) => (k === i ? o.map((l) => l.replace(" failback ", " takeover ")) : o));
    const failure = compareScript(f, script, edited);
    expect(failure).toContain(`output of "${script.blocks[i]!.command}" differs`);
    expect(failure).toMatch(/\n-.* failback .*\n/);
    expect(failure).toMatch(/\n\+.* takeover .*\n/);
  });

  test("lineDiff() shows context lines and @@ hunk headers", () => {
    const a = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"].join("\n");
    const b = ["1", "2", "3", "4", "five", "6", "7", "8", "9", "10"].join("\n");
    expect(lineDiff(a, a)).toBeNull();
    expect(lineDiff(a, b)).toBe(["--- expected", "+++ actual", "@@ -2,7 +2,7 @@", " 2", " 3", " 4", "-5", "+five", " 6", " 7", " 8"].join("\n"));
  });

  test("runScript() names the command and line of a script mistake", () => {
    const blocks = parseScript("cluster nodes=2\n----\n\nkill cmnode9\n----\n", "x.txt").blocks;
    expect(() => runScript(blocks)).toThrow('Unknown node "cmnode9": expected one of cmnode1, cmnode2 (command "kill cmnode9" at line 4)');
    expect(() => runScript(parseScript("run 1s\n----\n", "x.txt").blocks)).toThrow("The script must start with a cluster line");
  });

  test("renderEvent() prints type and fields, never the message", () => {
    expect(renderEvent("cmnode2", { type: "takeover", node: "cmnode1", from: "cmnode1", to: "cmnode2", slot: "ipaddr:vip1@cmnode1", resource: "ipaddr:vip1", message: "any wording" })).toBe(
      "cmnode2 takeover vip1 from cmnode1",
    );
    expect(renderEvent("cmnode2", { type: "node_dead", node: "cmnode1", message: "x" })).toBe("cmnode2 node_dead cmnode1");
    expect(renderEvent("cmnode1", { type: "quorum_lost", node: "cmnode1", message: "x" })).toBe("cmnode1 quorum_lost");
    expect(renderEvent("cmnode3", { type: "acquire", resource: "ipaddr:vip1", node: "cmnode2", message: "x" })).toBe("cmnode3 acquire vip1 on cmnode2");
    expect(renderEvent("cmnode2", { type: "acquire", resource: "ipaddr:vip1", node: "cmnode2", message: "x" })).toBe("cmnode2 acquire vip1 on cmnode2");
    expect(renderEvent("cmnode2", { type: "acquire", slot: "ipaddr:vip1@cmnode1", resource: "ipaddr:vip1", node: "cmnode2", message: "x" })).toBe("cmnode2 acquire vip1");
  });
});
