// drcm --check-config [--json]: findings one per line, a cluster summary, the 1.x closing phrases.
// Exit 0 clean, 1 errors, 2 warnings only or template written (as 1.x; packaging/doc/configuration.md, "What drcm --check-config checks").
import { configFileProblem } from "../io/config-file.ts";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { exitCodeFor, formatFinding, summarize, summaryLines } from "../config/report.ts";
import { error } from "../config/lexer.ts";
import type { Finding } from "../config/model.ts";
import { clusterTrustTargets, trustFindings } from "../config/trust.ts";
import { realTrustFs } from "../io/daemon.ts";
import { configTemplate } from "../config/template.ts";
import { loadAndCheck } from "../config/verify.ts";
import type { CliOptions } from "./args.ts";
import { errorMessage } from "../error.ts";

const print = (lines: string[]): void => {
  process.stdout.write(lines.map((l) => `${l}\n`).join(""));
};

async function writeTemplate(o: CliOptions, file: string): Promise<number> {
  const abs = resolve(file);
  let written = true;
  let why = "";
  try {
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, configTemplate(dirname(abs)), { flag: "wx", mode: 0o644 });
  } catch (e) {
    written = false;
    why = errorMessage(e);
  }
  if (o.json) {
    print([JSON.stringify({ file, templateWritten: written, findings: written ? [] : [{ severity: "ERROR", file, line: 0, message: `Cannot write to config file ${file}: ${why}` }], summary: null, exitCode: written ? 2 : 1 }, null, 2)]);
    return written ? 2 : 1;
  }
  print([`${o.configFileGiven ? "User specified config file" : "Config file"} not found: ${file}`]);
  if (!written) {
    print([`${file}: ERROR - Cannot write to config file ${file}: ${why}`]);
    return 1;
  }
  print([
    "Building default configuration file",
    `${file}: INFO - CM configuration file not found. Building default file and exiting`,
    `Edit ${file}, create the auth key with drcm --keygen, then run drcm --check-config again`,
  ]);
  return 2;
}

export async function runCheckConfig(o: CliOptions): Promise<number> {
  const file = o.configFile;
  const problem = configFileProblem(file);
  if (problem !== null && problem.missing) return writeTemplate(o, file);
  if (problem !== null) {
    print([`${file}: ERROR - ${problem.message}`]);
    return 1;
  }

  const { cluster, findings } = await loadAndCheck(file, { node: o.node });
  // Files others could change (lib/config/trust.ts): errors, the daemon refuses them as root. Checked for the
  // user running the check, as a daemon of that user would be; without a model, the config file at least.
  const targets = cluster ? clusterTrustTargets(cluster) : [{ path: resolve(file), what: "config file" }];
  const trust = trustFindings(targets, { uid: process.geteuid?.() ?? 0, fs: realTrustFs });
  const all: Finding[] = [...findings, ...trust.map((f) => error(f.path, 0, f.message))];
  const code = exitCodeFor(all);

  if (o.json) {
    print([JSON.stringify({ file, templateWritten: false, findings: all, summary: cluster ? summarize(cluster) : null, exitCode: code }, null, 2)]);
    return code;
  }
  const lines = [`Loading config file ${file}`, ...all.map(formatFinding)];
  if (cluster) lines.push(...summaryLines(cluster));
  else lines.push(`${file}: ERROR - CM config file load error: no cluster model could be built`);
  if (code === 1) lines.push("CM config file has ERRORS");
  if (all.some((f) => f.severity === "WARNING")) lines.push("CM config file has WARNINGS");
  if (cluster?.resources.some((r) => r.kind === "application")) lines.push("INFO - Check your application programs before starting CM server");
  if (code === 0) lines.push("INFO - CM config file checks good");
  print(lines);
  return code;
}
