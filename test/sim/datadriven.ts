// The datadriven file format of test/sim/testdata (after cockroachdb/datadriven, as etcd raft uses it):
//
//   # comments and blank lines before a command are kept as they are
//   command args...
//   ----
//   expected output, one or more lines (none at all is fine)
//   <blank line ends the block>
//
// Parsing, writing back, and a line diff so that a change in behaviour reads as a diff of the file.

export interface Block {
  /** Comment and blank lines between the previous block and this command, verbatim. */
  readonly before: readonly string[];
  readonly command: string;
  /** 1-based line of the command in its file, for error messages. */
  readonly line: number;
  readonly expected: readonly string[];
}

export interface Script {
  readonly blocks: readonly Block[];
  /** Comment and blank lines after the last block. */
  readonly after: readonly string[];
}

const SEPARATOR = "----";

export function parseScript(text: string, file: string): Script {
  const lines = text.replace(/\n$/, "").split("\n");
  const blocks: Block[] = [];
  let before: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === "" || l.startsWith("#")) {
      before.push(l);
      i++;
      continue;
    }
    if (lines[i + 1] !== SEPARATOR) throw new Error(`Cannot parse ${file}:${i + 1}: expected "${SEPARATOR}" after the command "${l}"`);
    const line = i + 1;
    const expected: string[] = [];
    for (i += 2; i < lines.length && lines[i] !== ""; i++) expected.push(lines[i]!);
    i++; // the blank line that ends the block
    blocks.push({ before, command: l, line, expected });
    before = [];
  }
  return { blocks, after: before };
}

/** The file text for `script` with `outputs[i]` as the output of block i (the expected output where missing). */
export function formatScript(script: Script, outputs: readonly (readonly string[])[] = []): string {
  const out: string[] = [];
  script.blocks.forEach((b, i) => {
    out.push(...b.before, b.command, SEPARATOR, ...(outputs[i] ?? b.expected), "");
  });
  out.push(...script.after);
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return `${out.join("\n")}\n`;
}

/**
 * A unified-style diff of two texts (`-` expected, `+` actual, 3 lines of context), or null when they
 * are equal. Plain LCS: the files are a few hundred lines.
 */
export function lineDiff(expected: string, actual: string, names: readonly [string, string] = ["expected", "actual"]): string | null {
  if (expected === actual) return null;
  const a = expected.split("\n");
  const b = actual.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  // The edit script as (tag, line, old line number, new line number).
  const ops: Array<{ tag: " " | "-" | "+"; text: string; ai: number; bi: number }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ tag: " ", text: a[i]!, ai: i++, bi: j++ });
    else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ tag: "-", text: a[i]!, ai: i++, bi: j });
    else ops.push({ tag: "+", text: b[j]!, ai: i, bi: j++ });
  }
  const CONTEXT = 3;
  const out = [`--- ${names[0]}`, `+++ ${names[1]}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.tag === " ") {
      k++;
      continue;
    }
    // One hunk: from CONTEXT lines before this change to CONTEXT lines after the last change within reach.
    const start = Math.max(0, k - CONTEXT);
    let end = k;
    for (let m = k; m < ops.length && m <= end + 2 * CONTEXT; m++) if (ops[m]!.tag !== " ") end = m;
    const stop = Math.min(ops.length, end + CONTEXT + 1);
    const hunk = ops.slice(start, stop);
    const oldLen = hunk.filter((o) => o.tag !== "+").length;
    const newLen = hunk.filter((o) => o.tag !== "-").length;
    out.push(`@@ -${hunk[0]!.ai + 1},${oldLen} +${hunk[0]!.bi + 1},${newLen} @@`);
    for (const o of hunk) out.push(`${o.tag}${o.text}`);
    k = stop;
  }
  return out.join("\n");
}

/**
 * Compares each block's actual output with its expected output; null when all match, else a message
 * naming the first differing command and the diff of the whole file.
 */
export function compareScript(file: string, script: Script, outputs: readonly (readonly string[])[]): string | null {
  const first = script.blocks.findIndex((b, i) => (outputs[i] ?? []).join("\n") !== b.expected.join("\n"));
  if (first < 0) return null;
  const b = script.blocks[first]!;
  const diff = lineDiff(formatScript(script), formatScript(script, outputs.map((o) => o ?? [])), [`${file} (expected)`, `${file} (actual)`]);
  return `${file}:${b.line}: output of "${b.command}" differs (rerun with UPDATE_TESTDATA=1 to accept the actual output, then review the diff)\n${diff}`;
}
