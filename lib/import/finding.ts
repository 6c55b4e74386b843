// What an import reports: one line per mapping or problem, naming the Heartbeat file and line it came from.

import type { Finding } from "../config/model.ts";

/** A config finding whose `file` is the Heartbeat file it is about (ha.cf, haresources, authkeys), as it was read. */
export type ImportFinding = Finding;

/** Where a value came from, so the generated cm.cfg and the findings can both point back to it. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

/** Collects findings for one import; the helpers keep call sites short. */
export class Findings {
  readonly list: ImportFinding[] = [];
  error(at: SourceRef, message: string): void {
    this.list.push({ severity: "ERROR", file: at.file, line: at.line, message });
  }
  warn(at: SourceRef, message: string): void {
    this.list.push({ severity: "WARNING", file: at.file, line: at.line, message });
  }
  info(at: SourceRef, message: string): void {
    this.list.push({ severity: "INFO", file: at.file, line: at.line, message });
  }
}
