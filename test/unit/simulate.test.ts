// drcm --simulate: golden transcripts (like Pacemaker's cts-scheduler summaries) of the real node
// drivers on the virtual cluster, the error cases, and the compiled binary.
//
// When a change in behaviour is meant, rewrite the transcripts and read the diff before committing it:
//   UPDATE_TESTDATA=1 bun test ./test/unit/simulate.test.ts
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, UsageError } from "../../lib/cli/args.ts";
import { groupEventWords } from "../../lib/simulate/events.ts";
import { runSimulation, type StatusSource } from "../../lib/simulate/run.ts";

const DIR = join(import.meta.dir, "testdata", "simulate");
const CONFIG = readFileSync(join(DIR, "cm.cfg"), "utf8");
/** Messages quote the config file as the user named it: the default one reads best. */
const FILE = "/etc/drcm/cm.cfg";
const UPDATE = process.env.UPDATE_TESTDATA === "1";

const fromFile = (name: string): StatusSource => ({ doc: JSON.parse(readFileSync(join(DIR, name), "utf8")), label: name });
const noAnswer: StatusSource = { none: "No node answered (test)" };

function sim(words: readonly string[], status: StatusSource = fromFile("status-healthy.json"), config = CONFIG, json = false) {
  return runSimulation({ configText: config, file: FILE, words, json, status: async () => status });
}

interface Scenario {
  readonly name: string;
  readonly why: string;
  readonly status: string | null;
  readonly events: readonly string[];
}

const SCENARIOS: Scenario[] = [
  { name: "kill-primary", why: "the host of vip and web dies; n2 takes both over", status: "status-healthy.json", events: ["kill n1"] },
  {
    name: "partition-heal",
    why: "n1 alone loses quorum and drops vip (its own service web keeps running there); the majority takes over; after heal web moves once, then both fail back after failback_delay",
    status: "status-healthy.json",
    events: ["partition n1 | n2,n3", "heal"],
  },
  { name: "standby", why: "n2 in standby hands jobs to n1, then takes it back", status: "status-healthy.json", events: ["standby n2", "unstandby n2"] },
  { name: "move", why: "an operator moves vip to n3: it stays there (no failback while pinned)", status: "status-healthy.json", events: ["move vip n3", "wait 10s"] },
  {
    name: "fail-max-failures",
    why: "web keeps failing on n1: restarted in place, then handed to n2 after max_failures = 3",
    status: "status-healthy.json",
    events: ["fail web"],
  },
  {
    name: "fail-on-backup",
    why: "web is broken on n2 too: when n1 dies it fails there three times and ends on n3",
    status: "status-healthy.json",
    events: ["fail web on n2", "kill n1"],
  },
  {
    name: "stop-start-failback",
    why: "a graceful stop hands over at once; the returning primary takes its resources back after failback_delay (5s)",
    status: "status-healthy.json",
    events: ["stop n1", "start n1", "wait 10s"],
  },
  {
    name: "from-degraded-status",
    why: "start from a saved status: n3 dead, n2 in standby, everything on n1; then n3 returns and n2 leaves standby",
    status: "status-n3-dead-n2-standby.json",
    events: ["start n3", "unstandby n2"],
  },
  { name: "no-status", why: "no node answered: every node up, every resource on its primary", status: null, events: ["kill n2"] },
];

const commandLine = (s: Scenario): string =>
  `drcm --simulate${s.status ? ` --from-status=${s.status}` : ""} ${s.events.map((e) => (/\s/.test(e) ? `"${e}"` : e)).join(" ")}`;

describe("simulate() golden transcripts", () => {
  for (const s of SCENARIOS) {
    test(`simulate() ${s.name}: ${s.why}`, async () => {
      const r = await sim(s.events, s.status === null ? noAnswer : fromFile(s.status));
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      const text = `# ${s.why}\n$ ${commandLine(s)}\n${r.out}`;
      const file = join(DIR, `${s.name}.txt`);
      if (UPDATE || !existsSync(file)) writeFileSync(file, text);
      expect(text).toBe(readFileSync(file, "utf8"));
    });
  }

  test("simulate() is deterministic: the same run twice gives the same transcript", async () => {
    const a = await sim(["partition n1 | n2,n3", "heal", "kill n2"]);
    const b = await sim(["partition n1 | n2,n3", "heal", "kill n2"]);
    expect(a.out).toBe(b.out);
  });

  test("simulate() --json carries the same steps as data", async () => {
    const r = await sim(["kill n1"], fromFile("status-healthy.json"), CONFIG, true);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.steps[0].event).toBe("kill n1");
    expect(doc.steps[0].changes.some((c: { type: string; slot?: string; to?: string }) => c.type === "takeover" && c.slot === "ipaddr:vip@n1" && c.to === "n2")).toBe(true);
    expect(doc.final.find((p: { slot: string }) => p.slot === "ipaddr:vip@n1").heldBy).toEqual(["n2"]);
  });
});

describe("simulate() refuses bad input before simulating", () => {
  const cases: Array<[string, string[], string]> = [
    ["an unknown node", ["kill n1", "kill n9"], `drcm: ERROR - Cannot simulate "kill n9": no node "n9" in /etc/drcm/cm.cfg (nodes: n1, n2, n3)\n`],
    ["an unknown resource", ["fail mail"], `drcm: ERROR - Cannot simulate "fail mail": no resource "mail" in /etc/drcm/cm.cfg (nicknames: jobs, vip, web, db)\n`],
    ["an unknown verb", ["reboot n1"], 'Cannot simulate "reboot n1": unknown event "reboot": write one of "kill NODE"'],
    ["a missing argument", ["move vip"], 'Cannot simulate "move vip": expected "move NICK NODE"'],
    ["a bad duration", ["wait soon"], 'Cannot simulate "wait soon": expected a duration like "500ms", "10s" or "2m" (at most 1h), got "soon"'],
    ["a one-sided partition", ["partition n1,n2"], 'Cannot simulate "partition n1,n2": expected "partition A,B | C"'],
    ["a node in two groups", ["partition n1 | n1,n2"], 'Cannot simulate "partition n1 | n1,n2": node "n1" is in two groups'],
    ["a bad fail form", ["fail web at n2"], 'Cannot simulate "fail web at n2": expected "fail NICK" or "fail NICK on NODE"'],
  ];
  for (const [what, words, message] of cases) {
    test(`simulate() names the event with ${what}, exit 1, nothing simulated`, async () => {
      const r = await sim(words);
      expect(r.code).toBe(1);
      expect(r.out).toBe("");
      expect(r.err).toContain(message);
      expect(r.err).not.toContain("    at ");
    });
  }

  test("simulate() refuses a config with errors and prints them", async () => {
    const r = await sim(["kill n1"], noAnswer, CONFIG.replace("failback_delay = 5s", "failback_delay = soon"));
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("/etc/drcm/cm.cfg:6: ERROR");
    expect(r.err).toContain("drcm: ERROR - Cannot simulate: /etc/drcm/cm.cfg has errors (drcm --check-config lists every problem)");
  });

  test("simulate() refuses a status file that is not a status document", async () => {
    const r = await sim(["kill n1"], { doc: { hello: 1 }, label: "x.json" });
    expect(r.code).toBe(1);
    expect(r.err).toContain('drcm: ERROR - x.json is not a drcm status document (drcm --client --command="status --json"): nodes:');
  });

  test("simulate() reports a status source error as it is", async () => {
    const r = await sim(["kill n1"], { error: 'Cannot read status file "x.json": it does not exist' });
    expect(r).toEqual({ code: 1, out: "", err: 'drcm: ERROR - Cannot read status file "x.json": it does not exist\n' });
  });
});

describe("--simulate on the command line", () => {
  test("parseArgs() takes the words after --simulate as events, and --from-status", () => {
    const o = parseArgs(["--simulate", "kill n1", "partition n1 | n2,n3", "--from-status=s.json", "--config-file=/tmp/cm.cfg"]);
    expect(o.mode).toBe("simulate");
    expect(o.rest).toEqual(["kill n1", "partition n1 | n2,n3"]);
    expect(o.fromStatus).toBe("s.json");
  });
  test("parseArgs() refuses --from-status without --simulate", () => {
    expect(() => parseArgs(["--from-status=s.json"])).toThrow(UsageError);
  });
  test("groupEventWords() groups unquoted words at each verb", () => {
    expect(groupEventWords(["kill", "n1", "wait", "10s", "partition n1 | n2", "heal"])).toEqual(["kill n1", "wait 10s", "partition n1 | n2", "heal"]);
    expect(groupEventWords(["partition", "n1 | n2,n3", "kill n1", "reboot n2"])).toEqual(["partition n1 | n2,n3", "kill n1", "reboot n2"]);
  });

  const bin = process.env.DRCM_BIN ?? join(import.meta.dir, "..", "..", "dist", "drcm");
  test("the compiled binary runs --simulate --from-status", () => {
    if (!existsSync(bin)) {
      console.log(`skipped: no compiled binary at ${bin} (build it with npm run build, or set DRCM_BIN)`);
      return;
    }
    const ok = Bun.spawnSync([bin, "--simulate", `--from-status=${join(DIR, "status-healthy.json")}`, `--config-file=${join(DIR, "cm.cfg")}`, "kill n1"]);
    expect(ok.exitCode).toBe(0);
    const lines = ok.stdout.toString().split("\n");
    expect(lines[0]).toStartWith(`Starting from ${join(DIR, "status-healthy.json")} (answered by n1`);
    expect(lines.slice(1, 4)).toEqual(["", "Initial placement", "  RESOURCE  HELD BY  REASON"]);
    expect(ok.stdout.toString()).toContain("== kill n1 (t=+0.000s)");
    const bad = Bun.spawnSync([bin, "--simulate", `--from-status=${join(DIR, "status-healthy.json")}`, `--config-file=${join(DIR, "cm.cfg")}`, "kill n9"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout.toString()).toBe("");
    expect(bad.stderr.toString()).toContain('Cannot simulate "kill n9": no node "n9" in');
  });
});
