// The pure parts of `--command=watch`: fitting a cm_stat frame to a terminal, finding what changed
// between frames, and the one-line-per-event form with the same event reported by several nodes
// printed once. lib/client/watch.ts runs the loop around them.

import { z } from "zod";

/** How long a changed line stays highlighted on the terminal. */
export const HIGHLIGHT_MS = 5000;
/** Two nodes reporting the same event (a peer's death, say) within this window print one line. */
export const DEDUP_WINDOW_MS = 5000;

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/y;

/**
 * One line as the terminal would show it in `columns` cells: TABs expanded to the next multiple of 8
 * (a TAB only moves the cursor, so drawn over an older line it leaves that line's characters behind),
 * cut at the width so nothing wraps and shifts the frame. SGR sequences are kept and cost no width.
 */
export function fitLine(line: string, columns: number): string {
  let out = "";
  let col = 0;
  let styled = false;
  for (let i = 0; i < line.length; ) {
    ANSI.lastIndex = i;
    const m = ANSI.exec(line);
    if (m !== null) {
      out += m[0];
      styled = m[0] !== "\x1b[0m";
      i += m[0].length;
      continue;
    }
    const ch = line[i]!;
    i++;
    if (ch === "\t") {
      const next = Math.min(columns, (Math.floor(col / 8) + 1) * 8);
      out += " ".repeat(next - col);
      col = next;
    } else if (ch >= " ") {
      if (col >= columns) break;
      out += ch;
      col++;
    }
    if (col >= columns) break;
  }
  return styled ? `${out}\x1b[0m` : out;
}

/** Visible text of a line (escape sequences removed). */
export function plain(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}

/**
 * What a line means, for change detection: ages and uptimes (`850ms ago`, `4.2s`, `2h05m`) grow on
 * every refresh (`no heartbeat for 8199 ms` too) and are not news; the report's own clock (header) neither.
 */
export function lineKey(line: string): string {
  const text = plain(line).replace(/\s+/g, " ").trim();
  if (text.startsWith("Cluster Manager Status Monitor")) return "Cluster Manager Status Monitor";
  return text.replace(/\b\d+(?:\.\d+)? ?(?:ms|s)\b|\b\d+m\d\ds\b|\b\d+h\d\dm\b|\b\d+d\d\dh\b/g, "#");
}

/**
 * Remembers when each distinct line (by lineKey) first appeared in the current run of frames, so a
 * frame can highlight what changed recently. Content based, not position based: a line inserted above
 * others does not make everything below it "changed".
 */
export class ChangeTracker {
  #since = new Map<string, number>();
  #first = true;

  /** Indexes of the lines of `lines` that changed within HIGHLIGHT_MS before `now`. */
  update(lines: readonly string[], now: number): Set<number> {
    const next = new Map<string, number>();
    const changed = new Set<number>();
    lines.forEach((l, i) => {
      const k = lineKey(l);
      if (k === "") return;
      const seen = next.get(k) ?? this.#since.get(k) ?? (this.#first ? -Infinity : now);
      next.set(k, seen);
      if (now - seen < HIGHLIGHT_MS) changed.add(i);
    });
    this.#since = next;
    this.#first = false;
    return changed;
  }
}

export interface FrameOptions {
  readonly columns: number;
  readonly rows: number;
  /** Terminal colours allowed: highlight in reverse video; else a `>` in the first column. */
  readonly color: boolean;
  /** Top line: what is shown, from where, how to leave. */
  readonly title: string;
}

/**
 * The whole screen: title, then the report lines, each fitted to the width, changed ones highlighted,
 * cut to the height with a last line saying how much did not fit. Drawn from the top-left corner with
 * every line cleared to its end and the rest of the screen cleared, so it replaces the last frame
 * exactly and nothing scrolls.
 */
export function drawFrame(lines: readonly string[], changed: ReadonlySet<number>, o: FrameOptions): string {
  const cols = Math.max(20, o.columns);
  const rows = Math.max(3, o.rows);
  const body = lines.map((l, i) => {
    if (!changed.has(i)) return fitLine(l, cols);
    if (o.color) return `\x1b[7m${fitLine(plain(l), cols)}\x1b[0m`;
    const text = plain(l);
    return fitLine(text.startsWith(" ") ? `>${text.slice(1)}` : `>${text}`, cols);
  });
  // Row 1 is the title; keep the last row for the "more" note when the report does not fit.
  let shown = body;
  if (body.length > rows - 1) {
    shown = body.slice(0, rows - 2);
    shown.push(fitLine(`  ... ${body.length - shown.length} more lines: enlarge the terminal to see them`, cols));
  }
  const screen = [fitLine(o.title, cols), ...shown];
  return `\x1b[H${screen.map((l) => `${l}\x1b[K`).join("\r\n")}\x1b[J`;
}

/** Terminal set-up and restore: alternate screen (the shell's scrollback stays as it was), no cursor. */
export const ENTER_SCREEN = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
export const LEAVE_SCREEN = "\x1b[?25h\x1b[?1049l";

/** One event as a node's `events` request returns it (lib/node/recent.ts); unknown fields pass. */
export const recentEventSchema = z.object({
  seq: z.number(),
  at: z.number(),
  event: z
    .object({
      type: z.string(),
      message: z.string(),
      node: z.string().optional(),
      slot: z.string().optional(),
      resource: z.string().optional(),
      from: z.string().optional(),
      to: z.string().optional(),
    })
    .passthrough(),
});
export type SeenEvent = z.infer<typeof recentEventSchema>;

export const eventsReplySchema = z.object({
  ok: z.literal(true),
  events: z.array(recentEventSchema),
  last: z.number(),
  missed: z.boolean(),
});

/** Identity of an event independent of which node reported it. */
export function eventKey(e: SeenEvent["event"]): string {
  return [e.type, e.node ?? "", e.slot ?? "", e.resource ?? "", e.from ?? "", e.to ?? ""].join("|");
}

/**
 * Several nodes report the same cluster event (every survivor sees a peer die): print it once. An
 * event is a repeat when the same key was printed less than DEDUP_WINDOW_MS earlier (by the event's
 * own time, whichever node reported it); the same event minutes later (a second death) is news.
 */
export class EventDeduper {
  #printed = new Map<string, number>();

  fresh(e: SeenEvent): boolean {
    const k = eventKey(e.event);
    const prev = this.#printed.get(k);
    if (prev !== undefined && Math.abs(e.at - prev) < DEDUP_WINDOW_MS) return false;
    this.#printed.set(k, e.at);
    // Bounded: forget keys whose window is long past.
    if (this.#printed.size > 1000) for (const [key, at] of this.#printed) if (e.at - at > DEDUP_WINDOW_MS) this.#printed.delete(key);
    return true;
  }
}

/** `Dec 03 09:41:02.123 node2 node_dead: node1 dead (no heartbeat for 800 ms)`: one line per event. */
export function eventLine(e: SeenEvent, reporter: string, stamp: (ms: number) => string): string {
  const ms = String(Math.floor(e.at) % 1000).padStart(3, "0");
  return `${stamp(e.at)}.${ms} ${reporter} ${e.event.type}: ${e.event.message}`;
}

/** The same event as one JSON object per line (`watch --json`). */
export function eventJson(e: SeenEvent, reporter: string): string {
  return JSON.stringify({ at: new Date(e.at).toISOString(), reporter, ...e.event });
}
