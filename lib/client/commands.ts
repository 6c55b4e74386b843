// The client command set: names, arguments, help texts and parsing of one command line.
// The same table drives `--command=`, the console, its help and its tab completion.

/** onoff: the word on or off; lifetime: `--lifetime=DURATION`; all: a NICK or `--all`. */
export type ArgKind = "node" | "nick" | "json" | "onoff" | "lifetime" | "nickOrAll" | "interval";

export interface CommandSpec {
  readonly name: string;
  /** Positional arguments in order; a trailing `?` in `usage` marks the optional ones. */
  readonly args: readonly ArgKind[];
  readonly required: number;
  readonly usage: string;
  readonly summary: string;
  /** Changes the cluster: needs a valid key, logged with who asked. */
  readonly operator: boolean;
}

export const COMMANDS: readonly CommandSpec[] = [
  { name: "help", args: [], required: 0, usage: "help", summary: "this list", operator: false },
  { name: "cm_stat", args: [], required: 0, usage: "cm_stat", summary: "cluster status monitor (1.x layout plus node and resource detail)", operator: false },
  { name: "status", args: ["json"], required: 0, usage: "status [--json]", summary: "cm_stat, or with --json the documented JSON document", operator: false },
  { name: "health", args: [], required: 0, usage: "health", summary: "one line and exit code for Nagios/Icinga: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", operator: false },
  { name: "rstats", args: ["node"], required: 0, usage: "rstats [NODE]", summary: "raw resource list of every node (or NODE)", operator: false },
  { name: "ping", args: ["node"], required: 0, usage: "ping [NODE]", summary: "reach every node (or NODE, -cN times) over the control channel", operator: false },
  { name: "printcfg", args: [], required: 0, usage: "printcfg", summary: "dump the local config file", operator: false },
  {
    name: "watch",
    args: ["json", "interval"],
    required: 0,
    usage: "watch [--json] [--interval=DURATION]",
    summary: "live cm_stat on a terminal, redrawn in place with changes highlighted, until Ctrl-C; else one line per cluster event",
    operator: false,
  },
  { name: "explain", args: ["nick"], required: 1, usage: "explain NICK", summary: "where resource NICK runs, why, and where it would go next", operator: false },
  { name: "standby", args: ["node"], required: 1, usage: "standby NODE", summary: "NODE keeps running but gives up and takes no resources", operator: true },
  { name: "unstandby", args: ["node"], required: 1, usage: "unstandby NODE", summary: "end standby of NODE", operator: true },
  {
    name: "move",
    args: ["nick", "node", "lifetime"],
    required: 2,
    usage: "move NICK NODE [--lifetime=DURATION]",
    summary: "pin resource NICK to NODE (one of its candidates) until clear, or for DURATION (e.g. 30m)",
    operator: true,
  },
  { name: "clear", args: ["nickOrAll"], required: 1, usage: "clear NICK|--all", summary: "remove the move (pin) of NICK, or every move: placement decides again", operator: true },
  {
    name: "maintenance",
    args: ["onoff", "node"],
    required: 1,
    usage: "maintenance on|off [NODE]",
    summary: "maintenance mode of the cluster (or NODE only): nothing is started, stopped or moved; watches report",
    operator: true,
  },
  { name: "cleanup", args: ["nick"], required: 1, usage: "cleanup NICK", summary: "forget failures of NICK so it may run again where it failed", operator: true },
  { name: "reload", args: [], required: 0, usage: "reload", summary: "re-read the config on every node (a config with errors is refused)", operator: true },
];

export const CONSOLE_ONLY = ["exit", "quit"] as const;

export type Parsed =
  | { readonly ok: true; readonly spec: CommandSpec; readonly args: readonly string[]; readonly json: boolean }
  | { readonly ok: false; readonly unknown: boolean; readonly message: string };

/** Words of one command line: `--command` split on blanks, then any further argv words. */
export function splitWords(line: string): string[] {
  return line.trim().split(/\s+/).filter((w) => w !== "");
}

export function parseCommand(words: readonly string[]): Parsed {
  const [name, ...rest] = words;
  // Names are case-sensitive, as in 1.x.
  const spec = COMMANDS.find((c) => c.name === name);
  if (name === undefined || spec === undefined) return { ok: false, unknown: true, message: `Invalid command "${name ?? ""}"` };
  const json = rest.includes("--json");
  const args = rest.filter((w) => w !== "--json");
  if (json && !spec.args.includes("json")) return { ok: false, unknown: false, message: `Command "${name}" has no --json form (try: status --json)` };
  const positional = spec.args.filter((a) => a !== "json").length;
  if (args.length < spec.required) return { ok: false, unknown: false, message: `Missing argument for "${name}": usage ${spec.usage}` };
  if (args.length > positional) return { ok: false, unknown: false, message: `Too many arguments for "${name}": usage ${spec.usage}` };
  return { ok: true, spec, args, json };
}

/** `--command=help`: the 1.x "non-interactive input args" text, with drcm and the new commands. */
export function nonInteractiveHelp(program = "drcm"): string {
  const c = `\t${program} --client --command=`;
  return [
    "DRCM non-interactive input args",
    "",
    "Cluster Manager Status Monitor:",
    `${c}cm_stat`,
    "",
    "Test connectivity to all active cluster nodes:",
    `${c}ping`,
    "",
    "Ping single node by name or IP:",
    `${c}ping -n"CMNODE_nodename"`,
    `${c}ping -n"localhost"`,
    `${c}ping -n"$(uname -n)"`,
    `${c}ping -c5 -n"$(uname -n)"`,
    "",
    "Print cluster configuration:",
    `${c}printcfg`,
    "",
    "Print raw stats buffer for each cluster node:",
    `${c}rstats`,
    "",
    "Print raw stats for single node by name or IP:",
    `${c}rstats -n"CMNODE_nodename"`,
    `${c}rstats -n"localhost"`,
    `${c}rstats -n"$(uname -n)"`,
    "",
    "Cluster status as JSON (schema drcm.status/1):",
    `${c}status --json`,
    "",
    "Live view: cm_stat redrawn in place on a terminal until Ctrl-C; piped, one line per cluster event:",
    `${c}watch`,
    `${c}"watch --interval=2s"`,
    `${c}"watch --json" | logger -t drcm-events`,
    "",
    "Where a resource runs, why, and where it would go next:",
    `${c}"explain NICKNAME"`,
    "",
    "Monitoring plugin check (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN):",
    `${c}health`,
    "",
    "Operator commands (need the cluster key; logged with who asked):",
    `${c}"standby CMNODE_nodename"`,
    `${c}"unstandby CMNODE_nodename"`,
    `${c}"move NICKNAME CMNODE_nodename"`,
    `${c}"move NICKNAME CMNODE_nodename --lifetime=30m"`,
    `${c}"clear NICKNAME"`,
    `${c}"clear --all"`,
    `${c}"maintenance on"`,
    `${c}"maintenance off CMNODE_nodename"`,
    `${c}"cleanup NICKNAME"`,
    `${c}reload`,
    "",
    "Interactive console (help, tab completion, exit or quit to leave):",
    `\t${program} --client`,
    "",
  ].join("\n");
}

/** Console `help`: a command table. */
export function consoleHelp(): string {
  const w = Math.max(...COMMANDS.map((c) => c.usage.length)) + 2;
  const rows = COMMANDS.map((c) => `  ${c.usage.padEnd(w)}${c.summary}`);
  return ["Commands:", ...rows, `  ${"exit, quit".padEnd(w)}leave the console`, "Options inside the console: -nNODE for ping/rstats, -cN for ping.", ""].join("\n");
}
