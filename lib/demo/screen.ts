// The live demo's screen as text: what goes on each terminal row. A terminal draws a TAB by moving
// the cursor, not by writing blanks, and wraps a line longer than its width onto the next row, so a
// frame that keeps either leaves pieces of the previous frame visible (`node2=node2.demo======Up`).
// Here every line is made plain: tabs expanded to spaces (stops every 8 columns, as the terminal
// would; the rule of `--command=watch`), control characters dropped, long story lines wrapped at a
// blank and cm_stat lines cut to the width, so each row holds exactly what it shows. Pure: text and
// a size in, rows out.
import { fitLine } from "../client/watch-view.ts";

/** One row of the screen; bold rows are the status line. */
export interface Row {
  readonly text: string;
  readonly bold?: boolean;
}

/** Code points of a string (what a terminal advances by, for the text the demo shows). */
const chars = (s: string): string[] => [...s];

/** Tabs expanded to spaces at stops every 8 columns; other control characters (ESC, CR, BS...) removed. */
export const expandTabs = (line: string): string => fitLine(line.replace(/\x1b/g, ""), Number.POSITIVE_INFINITY);

/** The line cut to `width` columns, tabs expanded (as `--command=watch` fits cm_stat). */
export const cut = (line: string, width: number): string => fitLine(line, width);

/** The line wrapped at blanks into rows of at most `width` columns; continuation rows are indented by `indent`. */
export function wrap(line: string, width: number, indent = 11): string[] {
  const rows: string[] = [];
  const pad = " ".repeat(Math.min(indent, Math.max(0, width - 10)));
  let rest = chars(line);
  let first = true;
  while (true) {
    const lead = first ? [] : chars(pad);
    if (lead.length + rest.length <= width) {
      rows.push([...lead, ...rest].join("").trimEnd());
      break;
    }
    const room = width - lead.length;
    let at = rest.lastIndexOf(" ", room);
    if (at <= 0) at = room; // no blank to break at: cut the word
    rows.push([...lead, ...rest.slice(0, at)].join("").trimEnd());
    rest = rest.slice(at);
    while (rest[0] === " ") rest = rest.slice(1);
    if (rest.length === 0) break;
    first = false;
  }
  return rows;
}

export interface Frame {
  /** Story lines so far (steps and notes). */
  readonly steps: readonly string[];
  /** What is being waited for, with the time waited. */
  readonly status: string;
  /** The latest cm_stat. */
  readonly stat: string;
  readonly cols: number;
  readonly rows: number;
}

/**
 * The rows of one frame, at most `rows`, none wider than `cols`: the last story lines (wrapped),
 * the status line, and cm_stat (cut to the width; on a short terminal without its detail part).
 */
export function frameRows(f: Frame): Row[] {
  const cols = Math.max(20, f.cols);
  const rows = Math.max(5, f.rows);
  const statusRows = wrap(expandTabs(f.status), cols, 2);
  let stat = f.stat.split("\n").map((l) => cut(expandTabs(l), cols).trimEnd());
  // Story lines get up to a third of the screen (at least 6 rows), the newest kept.
  const stepRoom = Math.max(6, Math.floor(rows / 3));
  const wrapped = f.steps.flatMap((l) => wrap(expandTabs(l), cols));
  const steps = wrapped.slice(-stepRoom);
  const room = rows - steps.length - statusRows.length - 2;
  // A short terminal: keep the 1.x part of cm_stat (members, resources, health), drop the details.
  if (stat.length > room) {
    const at = stat.findIndex((l) => l.includes("N o d e   D e t a i l"));
    if (at > 0) stat = stat.slice(0, at);
  }
  while (stat.length > 0 && stat.at(-1) === "") stat.pop();
  const out: Row[] = [...steps.map((text) => ({ text })), { text: "" }, ...statusRows.map((text) => ({ text, bold: true })), { text: "" }, ...stat.map((text) => ({ text }))];
  return out.slice(0, rows);
}

/**
 * The escape sequence that puts `rows` on the screen: each row addressed by its number and
 * cleared whole before it is written (so nothing of the previous frame stays), then the rest of
 * the screen cleared. No newline is written, so nothing scrolls and no row wraps.
 */
export function frameBytes(rows: readonly Row[], screenRows: number): string {
  const lines = rows.map((r, i) => `\x1b[${i + 1};1H\x1b[2K${r.bold === true && r.text !== "" ? `\x1b[1m${r.text}\x1b[0m` : r.text}`);
  return `${lines.join("")}${rows.length < screenRows ? `\x1b[${rows.length + 1};1H\x1b[J` : ""}`;
}
