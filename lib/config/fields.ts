// Reading typed values out of one key = value block, each failure a finding that names file:line.
import { error, warn, type KeyValue } from "./lexer.ts";
import type { Finding } from "./model.ts";
import { didYouMean } from "./suggest.ts";
import { parseBool, parseWith } from "./values.ts";
import type { z } from "zod";

export class Block {
  /** Last value of each key (1.x: later values win). */
  private readonly values = new Map<string, KeyValue>();

  constructor(
    readonly file: string,
    public label: string,
    entries: readonly KeyValue[],
    known: readonly string[],
    readonly findings: Finding[],
  ) {
    for (const e of entries) {
      if (!known.includes(e.key)) {
        findings.push(warn(file, e.line, `Unknown key "${e.key}" in ${label} is ignored${didYouMean(e.key, known)}`));
        continue;
      }
      const prev = this.values.get(e.key);
      if (prev) findings.push(warn(file, e.line, `Key "${e.key}" is set again in ${label} (first at line ${prev.line}); the later value wins`));
      this.values.set(e.key, e);
    }
  }

  has(key: string): boolean {
    return this.values.has(key);
  }
  entry(key: string): KeyValue | undefined {
    return this.values.get(key);
  }
  line(key: string): number {
    return this.values.get(key)?.line ?? 0;
  }
  /** key -> line for every key written. */
  lines(): Record<string, number> {
    return Object.fromEntries([...this.values].map(([k, v]) => [k, v.line]));
  }

  str(key: string, def: string): string {
    const e = this.values.get(key);
    return e === undefined || e.value === "" ? def : e.value;
  }

  /** A typed value; a bad value is an ERROR and the default is used so the rest can still be checked. */
  typed<T>(key: string, schema: z.ZodType<T, string>, def: T): T {
    const e = this.values.get(key);
    if (e === undefined) return def;
    const r = parseWith(schema, e.value);
    if (r.ok) return r.value;
    this.findings.push(error(this.file, e.line, `Cannot parse "${key}" in ${this.label}: ${r.reason}, got "${e.value}"`));
    return def;
  }

  bool(key: string, def: boolean): boolean {
    const e = this.values.get(key);
    if (e === undefined || e.value === "") return def;
    const b = parseBool(e.value);
    if (!b.recognized)
      this.findings.push(
        warn(this.file, e.line, `Cannot parse "${key}" in ${this.label} as a yes/no value: expected 1, 0, yes, no, true or false, got "${e.value}"; read as ${b.value ? 1 : 0}`),
      );
    return b.value;
  }
}
