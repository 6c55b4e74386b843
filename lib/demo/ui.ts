// How the demo shows itself. Not on a terminal: a plain transcript (timestamped steps and cm_stat
// snapshots) that tests and CI logs can read. On a terminal: the same steps above a cm_stat that is
// redrawn every 500 ms, so the takeover can be watched as it happens.

import { errorMessage } from "../error.ts";

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

/** Redraws the whole screen: steps so far, a status line, and the latest cm_stat from `poll`. */
export function liveUi(out: (s: string) => void, t0: number, poll: () => Promise<string>, everyMs = 500): Ui {
  const lines: string[] = [];
  let statusLine = "";
  let statusAt = performance.now();
  let latest = "(asking the cluster...)";
  let lastSnapshot = "";
  let running = true;
  const draw = (): void => {
    const rows = process.stdout.rows ?? 40;
    const steps = lines.slice(-Math.max(6, Math.floor(rows / 3)));
    const waited = ((performance.now() - statusAt) / 1000).toFixed(1);
    let stat = latest.split("\n");
    const room = rows - 1 - steps.length - 4;
    // A short terminal: keep the 1.x part of cm_stat (members, resources, health), drop the details.
    if (stat.length > room) {
      const cut = stat.findIndex((l) => l.includes("N o d e   D e t a i l"));
      if (cut > 0) stat = stat.slice(0, cut);
    }
    const text = `${steps.join("\n")}\n\n\x1b[1m${statusLine}\x1b[0m  (${waited} s)\n\n${stat.join("\n")}`;
    // Home, overwrite each line and clear its rest, clear below: no flicker from clearing the screen.
    out(`\x1b[H${text.split("\n").slice(0, rows - 1).map((l) => `${l}\x1b[K`).join("\n")}\n\x1b[J`);
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
  out("\x1b[H\x1b[2J");
  void loop();
  return {
    live: true,
    step: (t) => {
      lines.push(`${since(t0)} ${t}`);
      if (running) draw();
      else out(`${lines.at(-1)}\n`);
    },
    note: (t) => {
      lines.push(`           ${t}`);
      if (running) draw();
      else out(`${lines.at(-1)}\n`);
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
      // Leave the whole story in the scrollback, with the last cm_stat snapshot.
      out(`\x1b[H\x1b[2J${lastSnapshot !== "" ? `${lastSnapshot}\n\n` : ""}${lines.join("\n")}\n`);
    },
  };
}
