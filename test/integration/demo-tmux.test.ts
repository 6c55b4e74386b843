// Issue 16: the live view of `drcm demo` on a real terminal (tmux, 80x24 and 200x50). Every redraw
// must show exactly one frame: no row wider than the terminal (a wrapped row shifts the frame and
// leaves pieces of the old one), no leftovers of an earlier frame between TAB-separated columns
// (`node2=node2.demo======Up`), and cm_stat's node rows intact while node1 goes down and comes back.
// Piped, the demo writes a plain transcript without a single escape sequence.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = join(import.meta.dir, "../..");
const DRCM_BIN = resolve(process.env.DRCM_BIN ?? join(REPO, "dist/drcm"));
const haveBinary = existsSync(DRCM_BIN);
const tmux = Bun.which("tmux");
if (!haveBinary) console.log(`skipping the demo terminal tests: no binary at ${DRCM_BIN} (npm run build)`);
if (tmux === null) console.log("skipping the demo terminal tests under tmux: tmux is not installed");

const sq = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** A tmux server of its own (its own socket in a temporary directory, no user config) running one demo in a cols x rows window. */
class Terminal {
  readonly dir = mkdtempSync(join(tmpdir(), "drcm-tmux-test-"));
  readonly socket = join(this.dir, "tmux.sock");
  constructor(
    public cols: number,
    public rows: number,
  ) {}

  tmux(...args: string[]): string {
    const r = Bun.spawnSync([tmux!, "-S", this.socket, "-f", "/dev/null", ...args], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString().trim()}`);
    return r.stdout.toString();
  }

  start(command: string): void {
    // remain-on-exit keeps the pane (and what it printed last) after the demo exits.
    this.tmux("new-session", "-d", "-s", "demo", "-x", String(this.cols), "-y", String(this.rows), command, ";", "set-option", "-t", "demo", "remain-on-exit", "on");
  }

  /** The visible screen, wrapped rows joined back into the line that was written (-J). */
  capture(): string[] {
    const text = this.tmux("capture-pane", "-p", "-J", "-t", "demo");
    return text.replace(/\n$/, "").split("\n");
  }

  dead(): boolean {
    return this.tmux("display-message", "-p", "-t", "demo", "#{pane_dead}").trim() === "1";
  }

  kill(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const RULER = /^={10,} [A-Za-z ]+ ={10,}$/;

/** What must hold for every live frame; returns the node rows' states (node -> Up/Down/...). */
function checkFrame(lines: readonly string[], cols: number, rows: number): Map<string, string> {
  const at = (i: number): string => `frame line ${i + 1}: ${JSON.stringify(lines[i])}\n${lines.join("\n")}`;
  expect(lines.length).toBeLessThanOrEqual(rows);
  lines.forEach((l, i) => {
    // Longer than the width after -J: the row wrapped.
    expect(l.trimEnd().length, at(i)).toBeLessThanOrEqual(cols);
    // "==" only in cm_stat's section rulers, never left between columns by an older frame.
    if (l.includes("==")) expect(l.trim(), at(i)).toMatch(RULER);
    expect(l, at(i)).not.toContain("\t");
  });
  const states = new Map<string, string>();
  if (lines.some((l) => l.includes("M e m b e r   S t a t u s"))) {
    for (const n of [1, 2, 3]) {
      const row = lines.find((l) => new RegExp(`^\\s+node${n}\\s`).test(l));
      expect(row, `node${n} row\n${lines.join("\n")}`).toBeDefined();
      // Name, hostname, state and address, each its own blank-separated column, nothing else.
      const m = new RegExp(`^  node${n} +node${n}\\.demo +(\\S+) +127\\.0\\.0\\.6${n}$`).exec(row!.trimEnd());
      expect(m, `node${n} row ${JSON.stringify(row)}`).not.toBeNull();
      states.set(`node${n}`, m![1]!);
    }
  }
  return states;
}

/** Runs the demo at cols x rows; with `resizeTo`, the window is resized once the live view shows. */
async function liveDemo(cols: number, rows: number, resizeTo?: { cols: number; rows: number }): Promise<void> {
  const term = new Terminal(cols, rows);
  try {
    term.start(`exec env NO_COLOR=1 ${sq(DRCM_BIN)} demo`);
    const frames: string[][] = [];
    const seenStates = new Set<string>();
    let takeoverFrames = 0;
    const t0 = performance.now();
    // Frames until node2 has taken over and node1 is seen Down in a few redraws (or 45 s).
    while (performance.now() - t0 < 45_000 && takeoverFrames < 4) {
      await Bun.sleep(250);
      expect(term.dead(), "the demo exited early").toBe(false);
      const lines = term.capture();
      if (!lines.some((l) => /\(\d+\.\d s\)/.test(l))) continue; // not the live view yet
      if (resizeTo !== undefined && frames.length === 3 && term.cols !== resizeTo.cols) {
        term.tmux("resize-window", "-t", "demo", "-x", String(resizeTo.cols), "-y", String(resizeTo.rows));
        term.cols = resizeTo.cols;
        term.rows = resizeTo.rows;
        await Bun.sleep(700); // one redraw at the new size
        continue;
      }
      frames.push(lines);
      const states = checkFrame(lines, term.cols, term.rows);
      for (const [n, s] of states) seenStates.add(`${n} ${s}`);
      if (lines.some((l) => l.includes("Takeover: ledger answered on node2")) && states.get("node1") === "Down") takeoverFrames++;
    }
    expect(frames.length).toBeGreaterThan(5);
    // After a resize the view uses the new width (story lines wrap later than at the old one).
    if (resizeTo !== undefined) expect(frames.slice(3).some((f) => f.some((l) => l.trimEnd().length > cols))).toBe(true);
    expect(takeoverFrames).toBe(4);
    // The same rows showed node1 Up, then Down: a redraw over a changed row left it intact.
    expect(seenStates.has("node1 Up")).toBe(true);
    expect(seenStates.has("node1 Down")).toBe(true);
    expect(seenStates.has("node2 Up")).toBe(true);
    // The bold status line is there, on its own rows, with the time waited.
    expect(frames.at(-1)!.some((l) => /^waiting for |^node2 runs ledger|\(\d+\.\d s\)$/.test(l))).toBe(true);

    // Ctrl-C: the demo stops its cluster and says so.
    term.tmux("send-keys", "-t", "demo", "C-c");
    const t1 = performance.now();
    while (!term.dead() && performance.now() - t1 < 20_000) await Bun.sleep(200);
    expect(term.dead(), "the demo did not exit within 20 s of Ctrl-C").toBe(true);
    const last = term.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "demo");
    expect(last).toContain("SIGINT: stopping the demo cluster...");
    expect(last).toContain("demo stopped, nothing left behind");
    // The story is left in the scrollback, the demo's directory named in its first line, and removed.
    const demoDir = /files in (\S*drcm-demo-\S+)/.exec(last)?.[1];
    expect(demoDir, last).toBeDefined();
    expect(existsSync(demoDir!)).toBe(false);
  } finally {
    term.kill();
  }
}

describe.skipIf(!haveBinary || tmux === null)("drcm demo on a terminal (tmux)", () => {
  test("80x24: every redraw fits the terminal, node rows intact, Ctrl-C cleans up", () => liveDemo(80, 24), 90_000);
  test("200x50: the same", () => liveDemo(200, 50), 90_000);
  test("80x24 resized to 120x30 while it runs: the next redraws fit the new size", () => liveDemo(80, 24, { cols: 120, rows: 30 }), 90_000);
});

describe.skipIf(!haveBinary)("drcm demo piped", () => {
  test("drcm demo | cat: a plain transcript without escape sequences", async () => {
    const p = Bun.spawn(["sh", "-c", `${sq(DRCM_BIN)} demo | cat`], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
    const timer = setTimeout(() => p.kill("SIGKILL"), 80_000);
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const code = await p.exited;
    clearTimeout(timer);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).not.toContain("\x1b");
    expect(out).toMatch(/Takeover: ledger answered on node2 \d+ ms after the SIGKILL/);
    expect(out).toContain("----- cm_stat after takeover");
    expect(out).toContain("demo finished, nothing left behind");
  }, 90_000);
});
