// drcm --import-heartbeat[=/etc/ha.d] [--config-file=OUT] [--force] [--dry-run]: reads ha.cf,
// haresources and authkeys, writes a cm.cfg draft, prints what was mapped and what was not.
// This file is the I/O edge (files, DNS, this machine's name); import.ts decides everything.
import { lookup } from "node:dns/promises";
import { existsSync, statSync } from "node:fs";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { hostname, networkInterfaces } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { CliOptions } from "../cli/args.ts";
import { formatFinding } from "../config/report.ts";
import type { ImportFinding } from "./finding.ts";
import { importHeartbeat, namesToResolve, type HeartbeatFile, type HeartbeatFiles } from "./import.ts";
import { errnoCode, unreadableReason } from "../error.ts";

export { importHeartbeat, namesToResolve } from "./import.ts";
export type { HeartbeatFiles, ImportOptions } from "./import.ts";
export type { ImportFinding } from "./finding.ts";

/**
 * Where drcm's agents live once installed (drcm --install, the RPM). The draft points there unless
 * --config-file names a directory that already has a resources/ dir of its own.
 */
const INSTALLED_ETC = "/etc/drcm";
const DNS_TIMEOUT_MS = 1000;

const errText = (e: unknown): string => {
  if (errnoCode(e) === "ENOENT") return "its directory does not exist";
  return unreadableReason(e);
};

async function readOptional(path: string, problems: ImportFinding[]): Promise<HeartbeatFile | null> {
  try {
    return { path, text: await readFile(path, "utf8") };
  } catch (e) {
    if (errnoCode(e) !== "ENOENT")
      problems.push({ severity: "ERROR", file: path, line: 0, message: `Cannot read "${path}": ${errText(e)}` });
    return null;
  }
}

/** IPv4 address of a name, or null when DNS (or /etc/hosts) has none within the time limit. */
async function resolve4(name: string): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), DNS_TIMEOUT_MS)));
  try {
    return await Promise.race([lookup(name, { family: 4 }).then((a) => a.address).catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const localIps = (): string[] =>
  Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === "IPv4" && !a.internal)
    .map((a) => a!.address);

export async function runImportHeartbeat(o: CliOptions): Promise<number> {
  const haDir = resolve(o.haDir);
  const out = o.configFileGiven ? resolve(o.configFile) : resolve("cm.cfg");
  const etcDir = o.configFileGiven && isDir(join(dirname(out), "resources")) ? dirname(out) : INSTALLED_ETC;
  const say = (s: string): boolean => process.stdout.write(`${s}\n`);

  if (!existsSync(haDir)) {
    process.stderr.write(`drcm: ERROR - Cannot import from "${haDir}": it does not exist (give the Heartbeat directory as --import-heartbeat=DIR)\n`);
    return 1;
  }
  const problems: ImportFinding[] = [];
  const files: HeartbeatFiles = {
    haCf: await readOptional(join(haDir, "ha.cf"), problems),
    haresources: await readOptional(join(haDir, "haresources"), problems),
    authkeys: await readOptional(join(haDir, "authkeys"), problems),
  };
  const haScripts = await readdir(join(haDir, "resource.d")).catch(() => [] as string[]);
  const names = namesToResolve(files);
  const answers = await Promise.all(names.map(resolve4));
  const resolved = Object.fromEntries(names.map((n, i) => [n, answers[i] ?? null]));

  const r = importHeartbeat(files, { etcDir, haDir, haScripts, resolved, localHostname: hostname(), localIps: localIps() });
  const findings = [...problems, ...r.findings];
  const errors = findings.filter((x) => x.severity === "ERROR").length;
  const warnings = findings.filter((x) => x.severity === "WARNING").length;

  if (errors === 0 && o.dryRun) process.stdout.write(r.config);
  let written = false;
  if (errors === 0 && !o.dryRun) {
    if (existsSync(out) && !o.force) {
      findings.push({ severity: "ERROR", file: out, line: 0, message: `Not overwriting "${out}": it exists (add --force to replace it, or --config-file=OTHER)` });
    } else {
      try {
        await writeFile(out, r.config, { mode: 0o644 });
        written = true;
      } catch (e) {
        findings.push({ severity: "ERROR", file: out, line: 0, message: `Cannot write "${out}": ${errText(e)}` });
      }
    }
  }

  // With --dry-run the config goes to stdout, so the report goes to stderr and the two can be split.
  const report = o.dryRun ? (s: string) => process.stderr.write(`${s}\n`) : say;
  if (written) report(`Wrote ${out} from ${haDir}`);
  for (const x of findings) report(formatFinding(x));
  if (findings.some((x) => x.severity === "ERROR")) {
    report(`Nothing written: fix the ERROR lines above and run the import again`);
    return 1;
  }
  const edit = `Edit ${o.dryRun ? "the config" : out}: replace every CHANGE_ME and act on each WARNING above`;
  const keyNote = "(Heartbeat's authkeys is not reused: its keys are weak)";
  const steps =
    etcDir !== INSTALLED_ETC
      ? [edit, `drcm --keygen --config-file=${out}   then copy ${etcDir}/.auth to every node ${keyNote}`, `drcm --check-config --config-file=${out}`]
      : [
          edit,
          `On every node: drcm --install (or install the drcm RPM), which puts the agents in ${INSTALLED_ETC}/resources`,
          ...(out === `${INSTALLED_ETC}/cm.cfg` ? [] : [`Copy ${o.dryRun ? "the config" : out} to ${INSTALLED_ETC}/cm.cfg on every node`]),
          `drcm --keygen   then copy ${INSTALLED_ETC}/.auth to every node ${keyNote}`,
          `drcm --check-config   on every node`,
        ];
  report("");
  report(`${warnings} warning(s). Next steps:`);
  steps.forEach((s, i) => report(`  ${i + 1}. ${s}`));
  return warnings > 0 ? 2 : 0;
}
