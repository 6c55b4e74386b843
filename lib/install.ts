// `drcm --install [--root=DIR] [--dry-run] [--force]`: writes the files embedded in the binary where the RPM
// puts them, with the RPM's modes, so copying one binary to a node is enough. Like RPM's %config(noreplace),
// a file the admin changed is never overwritten: the new version goes beside it as FILE.new. To tell an admin
// edit from an older shipped version, the checksum of every shipped file is kept in INSTALL_RECORD.
import { createHash } from "node:crypto";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CliOptions } from "./cli/args.ts";
import { EMBEDDED, type EmbeddedEntry } from "./embedded.ts";
import { errorMessage } from "./error.ts";

const RECORD_PATH = "/var/lib/drcm/installed.sha256";

/** keep-mode: content as shipped, but the admin changed the mode of a config file: left as it is. */
export type StepKind = "create" | "update" | "unchanged" | "keep-mode" | "beside" | "replace-edited" | "skip";

export interface Step {
  readonly path: string;
  readonly kind: StepKind;
  /** The mode the path has afterwards. */
  readonly mode: number;
  /** keep-mode: the mode the package ships (the admin's mode was kept instead). */
  readonly packageMode?: number;
  /** What the admin should know (where the new version went, why a file was skipped). */
  readonly note?: string;
}

export interface InstallOptions {
  root: string;
  dryRun: boolean;
  force: boolean;
  /** The compiled binary to copy to /usr/sbin/drcm; null when running from source (`bun drcm.ts`). */
  self: string | null;
  entries?: readonly EmbeddedEntry[];
}

const sha256 = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const octal = (m: number): string => `0${m.toString(8).padStart(3, "0")}`;
const isRoot = (): boolean => process.getuid?.() === 0;

/** The running compiled binary, or null when drcm runs from source (argv[1] is then a real script path). */
export function compiledSelf(argv: readonly string[] = process.argv, execPath: string = process.execPath): string | null {
  const script = argv[1] ?? "";
  return script.startsWith("/$bunfs/") || script.startsWith("B:/~BUN") ? execPath : null;
}

/** `sha256  /path` lines, the format sha256sum -c reads. */
export function parseRecord(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const r = /^([0-9a-f]{64}) {2}(\/.*)$/.exec(line);
    if (r) m.set(r[2]!, r[1]!);
  }
  return m;
}

/** Permission bits of a path, null when it does not exist. */
function modeOf(p: string): number | null {
  try {
    return statSync(p).mode & 0o7777;
  } catch {
    return null;
  }
}

function readOrNull(p: string): Uint8Array | null {
  try {
    return readFileSync(p);
  } catch {
    return null;
  }
}

function setOwnerMode(p: string, mode: number): void {
  chmodSync(p, mode);
  if (isRoot()) chownSync(p, 0, 0);
}

/** Writes through a temp file and rename, so a running daemon or script never reads half a file. */
function writeAtomic(p: string, data: Uint8Array, mode: number): void {
  mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
  const tmp = `${p}.drcm-tmp`;
  writeFileSync(tmp, data, { mode });
  setOwnerMode(tmp, mode);
  renameSync(tmp, p);
}

async function content(e: EmbeddedEntry, self: string | null): Promise<Uint8Array | null> {
  if (e.type === "self") return self === null ? null : readFileSync(self);
  return new Uint8Array(await Bun.file(e.data!).arrayBuffer());
}

/** Plans and (unless dryRun) performs the install; returns one step per entry. Throws on I/O errors. */
export async function install(o: InstallOptions): Promise<Step[]> {
  const entries = o.entries ?? EMBEDDED;
  const at = (p: string): string => join(o.root, p);
  const oldRecord = parseRecord(readOrNull(at(RECORD_PATH))?.toString() ?? "");
  // The record is %config(noreplace) in the RPM: when an upgrade found it rewritten by an earlier --install,
  // the package's own list (what it just shipped) is beside it as .rpmnew. Both lists are drcm's versions.
  const rpmNew = at(`${RECORD_PATH}.rpmnew`);
  const rpmRecord = parseRecord(readOrNull(rpmNew)?.toString() ?? "");
  const shipped = (path: string, hash: string): boolean => oldRecord.get(path) === hash || rpmRecord.get(path) === hash;
  const newRecord: string[] = [];
  const steps: Step[] = [];
  let recordEntry: EmbeddedEntry | null = null;
  for (const e of entries) {
    const dest = at(e.path);
    if (e.type === "record") {
      recordEntry = e;
      continue;
    }
    if (e.type === "dir") {
      const cur = modeOf(dest);
      if (!o.dryRun) {
        mkdirSync(dest, { recursive: true, mode: e.mode });
        setOwnerMode(dest, e.mode);
      }
      // Dir modes guard keys (.auth 0700): a changed one is reset, and said so.
      if (cur === null) steps.push({ path: e.path, kind: "create", mode: e.mode });
      else if (cur === e.mode) steps.push({ path: e.path, kind: "unchanged", mode: e.mode });
      else steps.push({ path: e.path, kind: "update", mode: e.mode, note: `mode ${octal(cur)} reset to ${octal(e.mode)}` });
      continue;
    }
    if (e.type === "symlink") {
      let current: string | null = null;
      try {
        current = lstatSync(dest).isSymbolicLink() ? readlinkSync(dest) : "";
      } catch {
        current = null;
      }
      if (current === e.target) {
        steps.push({ path: e.path, kind: "unchanged", mode: e.mode });
        continue;
      }
      if (!o.dryRun) {
        mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
        if (current !== null) unlinkSync(dest);
        symlinkSync(e.target!, dest);
      }
      steps.push({ path: e.path, kind: current === null ? "create" : "update", mode: e.mode, note: `-> ${e.target}` });
      continue;
    }
    const data = await content(e, o.self);
    if (data === null) {
      steps.push({ path: e.path, kind: "skip", mode: e.mode, note: "not running a compiled binary (bun drcm.ts): build it with npm run build" });
      continue;
    }
    const hash = sha256(data);
    newRecord.push(`${hash}  ${e.path}`);
    const old = readOrNull(dest);
    if (old === null) {
      if (!o.dryRun) writeAtomic(dest, data, e.mode);
      steps.push({ path: e.path, kind: "create", mode: e.mode });
      continue;
    }
    const oldHash = sha256(old);
    const isConfig = e.config === "noreplace" || e.config === "config";
    // A mode the admin gave a config file (chmod 600 on a script holding a password) is an edit too: kept
    // unless --force. Other files get the package mode back.
    const cur = modeOf(dest) ?? e.mode;
    const keepMode = isConfig && !o.force && cur !== e.mode;
    const mode = keepMode ? cur : e.mode;
    const modeNote = keepMode ? `kept mode ${octal(cur)} (package mode ${octal(e.mode)})` : cur !== e.mode ? `mode ${octal(cur)} reset to ${octal(e.mode)}` : undefined;
    if (oldHash === hash) {
      if (keepMode) {
        steps.push({ path: e.path, kind: "keep-mode", mode: cur, packageMode: e.mode });
        continue;
      }
      if (!o.dryRun) setOwnerMode(dest, e.mode);
      steps.push(modeNote === undefined ? { path: e.path, kind: "unchanged", mode: e.mode } : { path: e.path, kind: "update", mode: e.mode, note: modeNote });
      continue;
    }
    // An admin's file: differs from the new version and from what drcm last shipped there.
    const edited = isConfig && !shipped(e.path, oldHash);
    if (!edited) {
      if (!o.dryRun) writeAtomic(dest, data, mode);
      steps.push(modeNote === undefined ? { path: e.path, kind: "update", mode } : { path: e.path, kind: "update", mode, note: modeNote });
    } else if (o.force) {
      if (!o.dryRun) {
        renameSync(dest, `${dest}.orig`);
        writeAtomic(dest, data, e.mode);
      }
      steps.push({ path: e.path, kind: "replace-edited", mode: e.mode, note: `your edited copy saved as ${e.path}.orig` });
    } else {
      if (!o.dryRun) writeAtomic(`${dest}.new`, data, e.mode);
      steps.push({ path: e.path, kind: "beside", mode: e.mode, note: `kept your edited copy; new version in ${e.path}.new` });
    }
  }
  if (recordEntry !== null) {
    const text = `${newRecord.sort().join("\n")}\n`;
    const old = readOrNull(at(recordEntry.path))?.toString();
    if (!o.dryRun && old !== text) writeAtomic(at(recordEntry.path), new TextEncoder().encode(text), recordEntry.mode);
    if (!o.dryRun && rpmRecord.size > 0) unlinkSync(rpmNew);
    steps.push({ path: recordEntry.path, kind: old === undefined ? "create" : old === text ? "unchanged" : "update", mode: recordEntry.mode });
  }
  return steps;
}

const VERB: Record<StepKind, [string, string]> = {
  create: ["created", "would create"],
  update: ["updated", "would update"],
  unchanged: ["unchanged", "unchanged"],
  "keep-mode": ["kept mode", "would keep mode"],
  beside: ["kept", "would keep"],
  "replace-edited": ["replaced", "would replace"],
  skip: ["skipped", "would skip"],
};

/** Text report: one line per file that changed (every file with --dry-run), then a summary. */
export function renderSteps(steps: readonly Step[], root: string, dryRun: boolean): string {
  const lines: string[] = [];
  for (const s of steps) {
    if (s.kind === "unchanged" && !dryRun) continue;
    const verb = VERB[s.kind][dryRun ? 1 : 0];
    if (s.kind === "keep-mode") {
      lines.push(`${verb} ${octal(s.mode)} of ${s.path} (package mode ${octal(s.packageMode ?? s.mode)})`);
      continue;
    }
    lines.push(`${verb.padEnd(13)} ${octal(s.mode)} ${s.path}${s.note ? `  (${s.note})` : ""}`);
  }
  const count = (k: StepKind): number => steps.filter((s) => s.kind === k).length;
  const where = root === "/" ? "" : ` under ${root}`;
  lines.push(
    `${dryRun ? "Dry run, nothing written" : "Installed"}${where}: ${count("create")} new, ${count("update")} updated, ${count("unchanged")} unchanged, ${count("keep-mode")} with your mode kept, ` +
      `${count("beside")} kept as edited (.new beside), ${count("replace-edited")} replaced (--force), ${count("skip")} skipped`,
  );
  return `${lines.join("\n")}\n`;
}

export async function runInstall(o: CliOptions): Promise<number> {
  try {
    const steps = await install({ root: o.root, dryRun: o.dryRun, force: o.force, self: compiledSelf() });
    process.stdout.write(renderSteps(steps, o.root, o.dryRun));
    // Like the RPM's %post: /run/drcm now, not only after the next boot (tmpfiles.d makes it at boot).
    if (o.root === "/" && !o.dryRun && existsSync("/usr/bin/systemd-tmpfiles")) {
      Bun.spawnSync(["/usr/bin/systemd-tmpfiles", "--create", "/usr/lib/tmpfiles.d/drcm.conf"], { stdio: ["ignore", "ignore", "ignore"] });
    }
    // Like the RPM's %posttrans on the running system: /etc/drcm/resources/X (the 1.x paths cm.cfg names) link
    // to the shipped agents, except where the admin keeps a file or link of their own. Under another --root
    // (an image, the RPM build root) the links are not made: they belong to the system that boots it.
    const linker = join(o.root, "usr/libexec/drcm/link-agents");
    if (!o.dryRun && existsSync(linker)) {
      if (o.root === "/") {
        const r = Bun.spawnSync(["/bin/sh", linker], { stdio: ["ignore", "pipe", "pipe"] });
        if (r.exitCode !== 0) process.stderr.write(`drcm: WARNING - ${linker} exited ${r.exitCode}: ${r.stderr.toString().trim()}\n`);
        else if (r.stdout.length > 0) process.stdout.write(r.stdout.toString());
      } else process.stdout.write(`The 1.x agent paths /etc/drcm/resources/X are not linked under ${o.root}: run /usr/libexec/drcm/link-agents ${o.root} for that tree\n`);
    }
    if (steps.some((s) => s.kind === "beside")) {
      process.stdout.write("Compare each FILE with FILE.new and merge your changes; drcm never overwrites an edited file without --force\n");
    }
    return 0;
  } catch (e) {
    process.stderr.write(`drcm: ERROR - Install under "${o.root}" failed: ${errorMessage(e)}\n`);
    return 1;
  }
}
