// Heartbeat's ha.cf and haresources -> directives and resource groups with line numbers.
// Heartbeat cuts every line at the first `#`; ha.cf is `directive value...` (some sites write
// `directive = value`, accepted too); haresources joins lines that end with `\`.
import type { SourceRef } from "./finding.ts";

export interface Directive {
  /** Lower-cased directive name (Heartbeat matches directives without regard to case). */
  readonly name: string;
  /** As written, e.g. the directive name in messages. */
  readonly written: string;
  readonly args: readonly string[];
  readonly at: SourceRef;
}

const uncomment = (raw: string): string => {
  const hash = raw.indexOf("#");
  return (hash < 0 ? raw : raw.slice(0, hash)).replace(/\r/g, "").trim();
};

export function parseHaCf(text: string, file: string): Directive[] {
  const out: Directive[] = [];
  text.split("\n").forEach((raw, i) => {
    const body = uncomment(raw);
    if (body === "") return;
    const eq = /^([A-Za-z_][\w-]*)\s*=\s*(.*)$/.exec(body);
    const words = eq ? [eq[1]!, ...eq[2]!.split(/\s+/)] : body.split(/\s+/);
    const written = words[0]!;
    out.push({ name: written.toLowerCase(), written, args: words.slice(1).filter((w) => w !== ""), at: { file, line: i + 1 } });
  });
  return out;
}

/** One word of a haresources line, and the physical line it was written on. */
export interface Token {
  readonly text: string;
  readonly at: SourceRef;
}

/** One haresources entry: the node that normally holds the group, then its resources in start order. */
export interface ResourceGroup {
  readonly node: Token;
  readonly resources: readonly Token[];
}

export function parseHaresources(text: string, file: string): ResourceGroup[] {
  const groups: ResourceGroup[] = [];
  let pending: Token[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let body = uncomment(lines[i]!);
    const continued = body.endsWith("\\");
    if (continued) body = body.slice(0, -1).trim();
    for (const w of body.split(/\s+/)) if (w !== "") pending.push({ text: w, at: { file, line: i + 1 } });
    if (continued && i < lines.length - 1) continue;
    if (pending.length > 0) groups.push({ node: pending[0]!, resources: pending.slice(1) });
    pending = [];
  }
  return groups;
}
