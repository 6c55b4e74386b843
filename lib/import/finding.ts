// What an import reports: one line per mapping or problem, naming the Heartbeat file and line it came from.

export type ImportSeverity = "ERROR" | "WARNING" | "INFO";

export interface ImportFinding {
  readonly severity: ImportSeverity;
  /** The Heartbeat file the finding is about (ha.cf, haresources, authkeys), as it was read. */
  readonly file: string;
  /** 0 when the finding is not about one line. */
  readonly line: number;
  readonly message: string;
}

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

/** `ha.cf:12: WARNING - message` (the line part is left out when the finding is about the whole file). */
export function formatFinding(f: ImportFinding): string {
  return `${f.file}${f.line > 0 ? `:${f.line}` : ""}: ${f.severity} - ${f.message}`;
}
