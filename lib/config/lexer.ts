// cm.cfg text -> sections with line numbers. Hand-written rather than the `ini` package because
// `[CM_NODE]` repeats (ini merges repeated sections), the resource sections are CSV rather than
// key = value, and every value must keep the line it came from.
import type { Finding } from "./model.ts";
import { suggest } from "./suggest.ts";

const SECTION_NAMES = [
  "CM_SERVER",
  "CM_NODE",
  "CM_CRONTABS",
  "CM_IPADDRS",
  "CM_SERVICES",
  "CM_APPLICATIONS",
  "CM_FILESYSTEMS",
] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

/** One meaningful line of a section: comments removed, `\#` unescaped, trimmed. */
export interface Line {
  readonly text: string;
  /** 1-based line number in the file. */
  readonly line: number;
}

export interface Section {
  readonly name: SectionName;
  /** Line of the `[NAME]` header. */
  readonly line: number;
  readonly lines: readonly Line[];
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/** Removes a comment (`#` to end of line) and turns `\#` into a literal `#`. */
function stripComment(raw: string): string {
  const t = raw.trim();
  if (t.startsWith("#")) return "";
  let out = "";
  for (let i = 0; i < t.length; i++) {
    const ch = t[i]!;
    if (ch === "\\" && t[i + 1] === "#") {
      out += "#";
      i++;
      continue;
    }
    if (ch === "#") break;
    out += ch;
  }
  return out.trim();
}

/** Splits the file at section headers; text outside known sections is reported, not silently dropped. */
export function lexConfig(text: string, file: string): { sections: Section[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const sections: Section[] = [];
  const raw = text.split("\n");
  let current: { name: SectionName; line: number; lines: Line[] } | null = null;
  let inUnknown = false;
  let reportedPreamble = false;
  for (let i = 0; i < raw.length; i++) {
    const lineNo = i + 1;
    const body = stripComment(raw[i]!.replace(/\r/g, ""));
    if (body === "") continue;
    if (body.startsWith("[")) {
      if (current) sections.push(current);
      current = null;
      const squeezed = body.replace(/\s+/g, "");
      if (!squeezed.includes("]")) {
        // The whole block is dropped, so an error: a lost "]" must not silently lose a node.
        inUnknown = true;
        findings.push(error(file, lineNo, `Malformed section header "${body}" (missing "]")`));
        continue;
      }
      const name = squeezed.match(/^\[([^\]]*)\]/)?.[1] ?? body;
      const known = SECTION_NAMES.find((s) => s === name);
      if (known) {
        current = { name: known, line: lineNo, lines: [] };
        inUnknown = false;
        const rest = body.replace(/\s+/g, "").slice(name.length + 2);
        if (rest !== "") findings.push(warn(file, lineNo, `Text after the section header is ignored: "${rest}"`));
      } else {
        inUnknown = true;
        const hint = suggest(name.toUpperCase(), SECTION_NAMES);
        findings.push(
          warn(file, lineNo, `Unknown section "[${name}]" is ignored with its lines${hint ? `: did you mean "[${hint}]"?` : ""}`),
        );
      }
      continue;
    }
    if (current) current.lines.push({ text: body, line: lineNo });
    else if (!inUnknown && !reportedPreamble) {
      reportedPreamble = true;
      findings.push(warn(file, lineNo, `Text before the first section is ignored: "${body}"`));
    }
  }
  if (current) sections.push(current);
  return { sections, findings };
}

/** Reads `key = value` lines; the value is everything after the first `=`, one trailing `;` removed. */
export function keyValues(section: Section, file: string, findings: Finding[]): KeyValue[] {
  const out: KeyValue[] = [];
  for (const l of section.lines) {
    const eq = l.text.indexOf("=");
    if (eq < 0) {
      findings.push(warn(file, l.line, `Line in [${section.name}] is not "key = value" and is ignored: "${l.text}"`));
      continue;
    }
    const key = l.text.slice(0, eq).trim();
    let value = l.text.slice(eq + 1).trim();
    if (value.endsWith(";")) value = value.slice(0, -1).trim();
    out.push({ key, value, line: l.line });
  }
  return out;
}

export const warn = (file: string, line: number, message: string): Finding => ({ severity: "WARNING", file, line, message });
export const error = (file: string, line: number, message: string): Finding => ({ severity: "ERROR", file, line, message });
export const info = (file: string, line: number, message: string): Finding => ({ severity: "INFO", file, line, message });
