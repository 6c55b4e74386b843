// Load cm.cfg and check it against this machine: the one sequence behind the server's start and
// reload, --check-config and the client's own reading of the config. Printing stays with the
// caller (stderr, the log, a console reply); the lines it prints come from here.
import { checkEnvironment } from "./checks.ts";
import { loadCluster } from "./load.ts";
import type { Cluster, Finding } from "./model.ts";
import { formatFinding } from "./report.ts";

export interface CheckedConfig {
  /** Null when no cluster model could be built at all. */
  readonly cluster: Cluster | null;
  /** The file's findings in file order, then those of the machine checks. */
  readonly findings: readonly Finding[];
  /** The ERRORs among them: the server neither starts nor reloads with any. */
  readonly errors: readonly Finding[];
}

/**
 * `environment: false` skips the machine checks (scripts, directories, this host, the key): the
 * client only needs the cluster's shape.
 */
export async function loadAndCheck(file: string, opts: { node: string | null; environment?: boolean }): Promise<CheckedConfig> {
  const { cluster, findings } = await loadCluster(file);
  const all: Finding[] = [...findings];
  if (cluster !== null && opts.environment !== false) all.push(...(await checkEnvironment(cluster, { node: opts.node })));
  return { cluster, findings: all, errors: all.filter((f) => f.severity === "ERROR") };
}

/** The cluster when it loaded without errors, else null. */
export const usableCluster = (c: CheckedConfig): Cluster | null => (c.errors.length === 0 ? c.cluster : null);

/** One `<file>:<line>: ERROR - <message>` line per error, each after `prefix`. */
export const errorLines = (c: CheckedConfig, prefix = ""): string[] => c.errors.map((f) => `${prefix}${formatFinding(f)}`);
