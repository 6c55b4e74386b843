// How the demo shows itself. Not on a terminal: a plain transcript (timestamped steps and cm_stat
// snapshots) that tests and CI logs can read. On a terminal: the same steps above a cm_stat that is
// redrawn every 500 ms, so the takeover can be watched as it happens.

import { errorMessage } from "../error.ts";
import { expandTabs, frameBytes, frameRows } from "./screen.ts";

export interface Ui {
  /** A step of the story (kept in the transcript). */
  step(text: string): void;
  /** A detail line under the current step. */
  note(text: string): void;
  /** A titled cm_stat snapshot. */
  snapshot(title: string, text: string): void;
  /** What the live view shows below the steps while a step is waiting. */
  status(text: string): void;
  /** Stops redrawing; the screen keeps its last picture. */
  stop(): void;
  readonly live: boolean;
}

const since = (t0: number): string => `[+${((performance.now() - t0) / 1000).toFixed(2).padStart(6)}s]`;

export function transcriptUi(out: (s: string) => void, t0: number): Ui {
  return {
    live: false,
    step: (t) => out(`${since(t0)} ${t}\n`),
    note: (t) => out(`           ${t}\n`),
    snapshot: (title, text) => out(`\n----- ${title} -----\n${text}\n-----\n\n`),
    status: () => {},
    stop: () => {},
  };
}

/** The terminal's size now (it may change while the demo runs); 80x24 when it does not say. */
const screenSize = (): { cols: number; rows: number } => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 });

/**
 * Redraws the whole screen: steps so far, a status line, and the latest cm_stat from `poll`, every
 * `everyMs` and when the terminal is resized. Each row is plain text fitted to the width
 * (screen.ts), so a redraw leaves nothing of the previous frame behind.
 */
export function liveUi(out: (s: string) => void, t0: number, poll: () => Promise<string>, everyMs = 500): Ui {
  const lines: string[] = [];
  let statusLine = "";
  let statusAt = performance.now();
  let latest = "(asking the cluster...)";
  let lastSnapshot = "";
  let running = true;
  const draw = (): void => {
    if (!running) return;
    const { cols, rows } = screenSize();
    const waited = ((performance.now() - statusAt) / 1000).toFixed(1);
    out(frameBytes(frameRows({ steps: lines, status: `${statusLine}  (${waited} s)`, stat: latest, cols, rows }), rows));
  };
  const onResize = (): void => {
    // After a resize the terminal may have reflowed the old picture: start from a clear screen.
    out("\x1b[H\x1b[2J");
    draw();
  };
  const loop = async (): Promise<void> => {
    for (let i = 0; running && i < 100_000; i++) {
      const started = performance.now();
      try {
        latest = await poll();
      } catch (e) {
        latest = `(cm_stat failed: ${errorMessage(e)})`;
      }
      if (!running) break;
      draw();
      await Bun.sleep(Math.max(50, everyMs - (performance.now() - started)));
    }
  };
  // Clear the screen and hide the cursor while the picture is redrawn.
  out("\x1b[H\x1b[2J\x1b[?25l");
  process.stdout.on("resize", onResize);
  void loop();
  const plain = (text: string): string => text.split("\n").map(expandTabs).join("\n");
  return {
    live: true,
    step: (t) => {
      lines.push(`${since(t0)} ${t}`);
      if (running) draw();
      else out(`${plain(lines.at(-1)!)}\n`);
    },
    note: (t) => {
      lines.push(`           ${t}`);
      if (running) draw();
      else out(`${plain(lines.at(-1)!)}\n`);
    },
    snapshot: (title, text) => {
      lastSnapshot = `----- ${title} -----\n${text}\n-----`;
    },
    status: (t) => {
      statusLine = t;
      statusAt = performance.now();
      draw();
    },
    stop: () => {
      if (!running) return;
      running = false;
      process.stdout.off("resize", onResize);
      // Leave the whole story in the scrollback, with the last cm_stat snapshot, as plain text
      // (tabs expanded: the terminal wraps long lines itself, nothing is redrawn over them).
      out(`\x1b[H\x1b[2J\x1b[?25h${plain(`${lastSnapshot !== "" ? `${lastSnapshot}\n\n` : ""}${lines.join("\n")}`)}\n`);
    },
  };
}
