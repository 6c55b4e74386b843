// Command-line parsing compatible with DRCM 1.x (README.md, "Command line"; OPTIONS in packaging/drcm.8), plus drcm 2 modes.
// Pure: argv in, options or a usage error out. drcm.ts decides what to run.

export type Mode =
  | "server"
  | "check-config"
  | "client"
  | "keygen"
  | "install"
  | "import-heartbeat"
  | "demo"
  | "simulate"
  | "help"
  | "version";

export interface CliOptions {
  mode: Mode;
  /** Config file; default /etc/drcm/cm.cfg. */
  configFile: string;
  configFileGiven: boolean;
  /** --command=CMD (client). */
  command: string | null;
  /** -nNODE: node selector for ping/rstats. */
  nodeSelector: string | null;
  /** -cN: ping count. */
  count: number;
  /** --node=NAME: act as that [CM_NODE] instead of matching uname -n. */
  node: string | null;
  debug: boolean | null;
  debugLevel: number | null;
  verbose: boolean | null;
  verboseLevel: number | null;
  logFile: string | null;
  logLevel: number | null;
  logFileClear: boolean;
  logDisable: boolean;
  json: boolean;
  noColor: boolean;
  force: boolean;
  dryRun: boolean;
  /** --root=DIR for --install. */
  root: string;
  /** --daemon: detach (init.d). */
  daemon: boolean;
  pidfile: string | null;
  /** --import-heartbeat[=DIR]. */
  haDir: string;
  /** demo flags. */
  netns: boolean;
  keep: boolean;
  /** --from-status=FILE for --simulate: a saved `status --json` instead of the live status. */
  fromStatus: string | null;
  /** Words that are not flags (demo, console commands, --simulate events). */
  rest: string[];
}

export const DEFAULT_CONFIG = "/etc/drcm/cm.cfg";

export class UsageError extends Error {}

const unquote = (v: string): string => {
  const t = v.trim();
  if (t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")))) return t.slice(1, -1).trim();
  return t;
};

const int = (flag: string, v: string): number => {
  if (!/^-?\d+$/.test(v)) throw new UsageError(`Bad value for ${flag}: expected a whole number, got "${v}"`);
  return Number.parseInt(v, 10);
};

/** Flags that take a value; the value may follow as `--flag=V` or as the next word `--flag V`. */
const VALUE_FLAGS = new Set(["config-file", "command", "debug-level", "verbose-level", "log-file", "log-level", "node", "root", "pidfile", "from-status"]);

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = {
    mode: "server",
    configFile: DEFAULT_CONFIG,
    configFileGiven: false,
    command: null,
    nodeSelector: null,
    count: 1,
    node: null,
    debug: null,
    debugLevel: null,
    verbose: null,
    verboseLevel: null,
    logFile: null,
    logLevel: null,
    logFileClear: false,
    logDisable: false,
    json: false,
    noColor: false,
    force: false,
    dryRun: false,
    root: "/",
    daemon: false,
    pidfile: null,
    haDir: "/etc/ha.d",
    netns: false,
    keep: false,
    fromStatus: null,
    rest: [],
  };
  const modes: Mode[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") continue;
    if (arg.startsWith("--")) {
      const body = arg.replace(/^-+/, "");
      const eq = body.indexOf("=");
      const name = (eq < 0 ? body : body.slice(0, eq)).toLowerCase();
      let value: string | null = eq < 0 ? null : unquote(body.slice(eq + 1));
      if (value === null && VALUE_FLAGS.has(name)) {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith("-")) throw new UsageError(`Missing value for --${name}`);
        value = unquote(next);
        i++;
      }
      const need = (): string => {
        if (value === null || value === "") throw new UsageError(`Missing value for --${name}`);
        return value;
      };
      switch (name) {
        case "help":
        case "?":
          modes.push("help");
          break;
        case "version":
        case "ver":
          modes.push("version");
          break;
        case "check-config":
          modes.push("check-config");
          break;
        case "client":
          modes.push("client");
          break;
        case "keygen":
          modes.push("keygen");
          break;
        case "install":
          modes.push("install");
          break;
        case "import-heartbeat":
          modes.push("import-heartbeat");
          if (value !== null && value !== "") o.haDir = value;
          break;
        case "config-file":
          o.configFile = need();
          o.configFileGiven = true;
          break;
        case "command":
          o.command = need();
          break;
        case "node":
          o.node = need();
          break;
        case "debug":
          o.debug = true;
          break;
        case "debug-level":
          o.debug = true;
          o.debugLevel = Math.max(1, int("--debug-level", need()));
          break;
        case "verbose":
          o.verbose = true;
          break;
        case "verbose-level":
          o.verboseLevel = Math.max(1, int("--verbose-level", need()));
          break;
        case "log-file":
          o.logFile = need().split("/").pop()!;
          break;
        case "log-level":
          o.logLevel = Math.max(0, int("--log-level", need()));
          break;
        case "log-file-clear":
          o.logFileClear = true;
          break;
        case "log-disable":
          o.logDisable = true;
          break;
        case "json":
          o.json = true;
          break;
        case "no-color":
          o.noColor = true;
          break;
        case "force":
          o.force = true;
          break;
        case "dry-run":
          o.dryRun = true;
          break;
        case "root":
          o.root = need();
          break;
        case "daemon":
          o.daemon = true;
          break;
        case "pidfile":
          o.pidfile = need();
          break;
        case "netns":
          o.netns = true;
          break;
        case "keep":
          o.keep = true;
          break;
        case "simulate":
          modes.push("simulate");
          if (value !== null && value !== "") o.rest.push(value);
          break;
        case "from-status":
          o.fromStatus = need();
          break;
        default:
          throw new UsageError(`Unknown option --${name}: use --help to list valid options`);
      }
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const ch = arg[1]!;
      const v = unquote(arg.slice(2));
      switch (ch) {
        case "c":
          if (v === "") throw new UsageError("Missing value for -c: write -cN, e.g. -c5");
          o.count = Math.max(1, int("-c", v));
          break;
        case "n":
          if (v === "") throw new UsageError('Missing value for -n: write -nNODE, e.g. -ncmnode1 or -n"$(uname -n)"');
          o.nodeSelector = v;
          break;
        case "v":
        case "V":
          o.verbose = true;
          break;
        case "d":
        case "D":
          o.debug = true;
          break;
        case "?":
        case "h":
          modes.push("help");
          break;
        default:
          throw new UsageError(`Unknown command line arg ${arg}: use --help to list valid options`);
      }
      continue;
    }
    if (o.rest.length === 0 && arg === "demo") modes.push("demo");
    else o.rest.push(arg);
  }
  // 1.x precedence: --check-config, then --client, otherwise server; help and version win over all.
  const order: Mode[] = ["help", "version", "check-config", "keygen", "install", "import-heartbeat", "demo", "simulate", "client"];
  o.mode = order.find((m) => modes.includes(m)) ?? "server";
  // 1.x ignored stray words silently; a typo like `drcm check-config` then started a server.
  // Words after --command= belong to the command (`--command=move ledger node1`, as the manual writes it).
  const commandWords = o.mode === "client" && o.command !== null;
  // Words after --simulate are its events.
  if (o.mode !== "demo" && o.mode !== "simulate" && !commandWords && o.rest.length > 0) {
    const hint = o.mode === "client" ? ` (client commands go in --command="${o.rest.join(" ")}")` : "";
    throw new UsageError(`Unexpected argument "${o.rest[0]}"${hint}: use --help to list valid options`);
  }
  if (o.fromStatus !== null && o.mode !== "simulate") throw new UsageError("--from-status=FILE only goes with --simulate");
  return o;
}
