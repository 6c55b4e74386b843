// Maps the core's actions on slots to 1.x resource command lines and runs them with runShell.
// Every config value drcm puts on a command line (script path, template, interface, service name,
// mount source and target, user, group, node name) is one single-quoted, literal argument: 1.x
// pasted them into `sh -c` unquoted, so `service_name = httpd$(touch x)` ran as root. The 1.x
// spelling of an interface list, `'ens192|eno8303'`, still gives the agent ens192|eno8303: one
// surrounding pair of quotes is removed first (stripOuterQuotes), as the 1.x shell removed it.
// Only the application programs (start_program, stop_program, ensure_script) stay shell text.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ApplicationResource, Cluster, FilesystemResource, NodeConfig, Resource, ResourceKind } from "../config/model.ts";
import type { Action, ActionResult, Slot } from "../core/types.ts";
import { appendRunLog, describeResult, lastLines, runShell, type RunResult } from "./runner.ts";
import { currentDaemonUser, groupName, primaryGroup, type DaemonUser } from "./passwd.ts";
import { errorMessage } from "../error.ts";
import { stripOuterQuotes } from "../config/names.ts";

/** 1.x resource log names in log_dir. */
const RESOURCE_LOGS: Readonly<Record<ResourceKind, string>> = {
  crontab: "crontab_resource.log",
  ipaddr: "ipv4addr_resource.log",
  service: "service_resource.log",
  application: "application_resource.log",
  filesystem: "filesystem_resource.log",
};
const FENCE_LOG = "fence.log";

export type SlotVerb = "start" | "stop" | "watch" | "probe";

/** A POSIX single-quoted word; embedded quotes survive (1.x broke on them). */
export const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** A cm.cfg value as one literal shell word: outer 1.x quotes removed, then quoted. */
export const literalArg = (value: string): string => shellQuote(stripOuterQuotes(value));

/** A non-root cluster_user runs every command through sudo_command, as 1.x did. */
export function wrapForClusterUser(cluster: Cluster, command: string): string {
  const { clusterUser, sudoCommand } = cluster.server;
  if (clusterUser === "root" || clusterUser === "") return command;
  return `${sudoCommand} ${shellQuote(command)}`;
}

/**
 * `su` as the user with a login shell (profile sourced, `~` is the user's home). The group is
 * honoured with `su -g` when it is not the user's primary group (or the user is not local, so
 * we cannot tell).
 */
export function suCommand(res: ApplicationResource, program: string, etc = "/etc"): string {
  return `su ${suGroupOption(res, etc)}-c ${shellQuote(program)} - ${shellQuote(res.user)}`;
}

function suGroupOption(res: ApplicationResource, etc: string): string {
  if (res.group === "") return "";
  const pg = primaryGroup(res.user, etc);
  const isPrimary = pg !== null && (pg.name === res.group || String(pg.gid) === res.group);
  return isPrimary ? "" : `-g ${shellQuote(res.group)} `;
}

/** What an application program learns about the run; passed explicitly because `su -` wipes the environment. */
export interface AppRunVars {
  /** This node's nodename (DRCM_NODE). */
  readonly node: string;
  /** `application:<nickname>` (DRCM_RESOURCE). */
  readonly resource: string;
  /** start | stop | watch | probe (DRCM_ACTION). */
  readonly action: string;
}

/**
 * The program with the drcm variables set and exported in front of it. The program itself stays
 * shell text as written (`;` lists, `~`, `$VARS` are the user's shell's business); only the values
 * are quoted. POSIX shell syntax: the user's login shell must be sh-compatible.
 */
export function withDrcmVars(program: string, v: AppRunVars): string {
  return `DRCM_NODE=${shellQuote(v.node)} DRCM_RESOURCE=${shellQuote(v.resource)} DRCM_ACTION=${shellQuote(v.action)}; export DRCM_NODE DRCM_RESOURCE DRCM_ACTION; ${program}`;
}

/** Is the application's user:group the non-root daemon's own user and primary group (no su needed)? */
export function runsAsDaemonUser(res: ApplicationResource, daemon: DaemonUser, etc = "/etc"): boolean {
  if (daemon.uid === 0) return false;
  if (res.user !== daemon.username && res.user !== String(daemon.uid)) return false;
  return res.group === "" || res.group === String(daemon.gid) || res.group === groupName(daemon.gid, etc);
}

/** PATH of a fresh login before the profile adds to it (util-linux su's default for non-root users). */
export const LOGIN_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * What `su - <self>` would do, without su (a non-root daemon cannot su, even to itself): a clean
 * environment (HOME, SHELL, USER, LOGNAME, PATH), the home directory as working directory and the
 * user's login shell reading its profile. A shell that refuses logins (nologin, false) or an
 * unknown one is replaced by /bin/sh so a service account's applications still run.
 */
export function loginShellCommand(daemon: DaemonUser, program: string): string {
  const shell = daemon.shell !== null && daemon.shell !== "" && !/(^|\/)(nologin|false)$/.test(daemon.shell) ? daemon.shell : "/bin/sh";
  const vars = [`HOME=${shellQuote(daemon.homedir)}`, `SHELL=${shellQuote(shell)}`, `USER=${shellQuote(daemon.username)}`, `LOGNAME=${shellQuote(daemon.username)}`, `PATH=${LOGIN_PATH}`];
  return `cd ${shellQuote(daemon.homedir)} 2>/dev/null; exec env -i ${vars.join(" ")} ${shellQuote(shell)} -l -c ${shellQuote(program)}`;
}

/**
 * The complete command line of an application program (after any sudo wrapping):
 * - the daemon is root: `su [-g group] -c '<vars>; <program>' - <user>` (1.x), wrapped in
 *   sudo_command when cluster_user is not root, as every command;
 * - the daemon is not root and the application is its own user: the login shell, no su, no sudo;
 * - the daemon is not root and the user is another one: su through sudo_command (only root may su).
 */
export function applicationCommand(cluster: Cluster, res: ApplicationResource, program: string, vars: AppRunVars, daemon: DaemonUser, etc = "/etc"): string {
  const inner = withDrcmVars(program, vars);
  if (runsAsDaemonUser(res, daemon, etc)) return loginShellCommand(daemon, inner);
  const su = suCommand(res, inner, etc);
  if (daemon.uid !== 0 && (cluster.server.clusterUser === "root" || cluster.server.clusterUser === "")) return `${cluster.server.sudoCommand} ${shellQuote(su)}`;
  return wrapForClusterUser(cluster, su);
}

/** The program of an application verb: start_program, stop_program, or ensure_script for watch and probe (null if none). */
export function applicationProgram(res: ApplicationResource, verb: SlotVerb): string | null {
  if (verb === "start") return res.start;
  if (verb === "stop") return res.stop;
  return res.ensure === null || res.ensure === "" ? null : res.ensure;
}

/**
 * The shell command for one verb on one resource of the script kinds, before the sudo wrapper;
 * null for a filesystem probe (drcm reads the mounts table). Applications: applicationCommand.
 */
export function agentCommand(res: Exclude<Resource, ApplicationResource>, verb: SlotVerb): string | null {
  const q = literalArg;
  switch (res.kind) {
    case "crontab":
      return `${q(res.script)} ${q(res.template)} ${q(res.installDir)} ${verb === "probe" ? "watch" : verb}`;
    case "ipaddr":
      return `${q(res.script)} ${q(res.ip)} ${q(res.netmask)} ${q(res.iface)} ${verb === "probe" ? "watch" : verb}`;
    case "service":
      return `${q(res.script)} ${q(res.serviceName)} ${verb === "probe" ? "status" : verb}`;
    case "filesystem":
      if (verb === "probe") return null;
      return `${q(res.script)} ${q(res.source)} ${q(res.target)} ${verb === "start" ? "mount" : verb === "stop" ? "unmount" : "watch"}`;
  }
}

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
const trimSlash = (s: string): string => (s.length > 1 ? s.replace(/\/+$/, "") : s);

/** Is `source` mounted on `target` according to a mounts table (/proc/mounts format)? */
export function isMounted(mountsText: string, source: string, target: string): boolean {
  const src = trimSlash(source);
  const tgt = trimSlash(target);
  return mountsText.split("\n").some((line) => {
    const [dev, dir] = line.split(" ");
    if (dev === undefined || dir === undefined) return false;
    return trimSlash(unescapeMount(dev)) === src && trimSlash(unescapeMount(dir)) === tgt;
  });
}

export class AgentRunner {
  private cluster: Cluster;
  private self: NodeConfig;
  private readonly env: Record<string, string>;
  private readonly daemon: DaemonUser;
  private readonly etc: string;

  /** `daemon` and `etc` (where passwd and group live) are for tests; they default to this process and /etc. */
  constructor(cluster: Cluster, self: NodeConfig, opts?: { env?: Record<string, string>; daemon?: DaemonUser; etc?: string }) {
    this.cluster = cluster;
    this.self = self;
    this.env = { DRCM_NODE: self.nodename, ...opts?.env };
    this.daemon = opts?.daemon ?? currentDaemonUser();
    this.etc = opts?.etc ?? "/etc";
  }

  /** After a config reload. */
  setCluster(cluster: Cluster, self: NodeConfig): void {
    this.cluster = cluster;
    this.self = self;
    this.env.DRCM_NODE = self.nodename;
  }

  /** Runs one action; never throws. `slot` is required for every type but `fence`. */
  async perform(action: Action, slot?: Slot): Promise<ActionResult> {
    try {
      if (action.type === "fence") return await this.fence(action.id, action.node);
      if (slot === undefined) return { id: action.id, ok: false, detail: `No slot given for ${action.type} of "${action.slot}"` };
      return await this.slotAction(action.id, action.type, slot);
    } catch (e) {
      return { id: action.id, ok: false, detail: `Agent error: ${errorMessage(e)}` };
    }
  }

  private async fence(id: number, node: string): Promise<ActionResult> {
    const script = this.cluster.server.fenceScript;
    if (script === null || script === "") return { id, ok: true, detail: "no fence_script configured" };
    const timeoutMs = this.cluster.server.fenceTimeoutMs;
    const command = wrapForClusterUser(this.cluster, `${literalArg(script)} ${shellQuote(node)}`);
    const r = await this.run(command, timeoutMs, join(this.cluster.server.logDir, FENCE_LOG), true);
    return { id, ok: r.exitCode === 0 && !r.timedOut, detail: describeResult(r, timeoutMs), output: lastLines(r.output, 5) };
  }

  private async slotAction(id: number, verb: SlotVerb, slot: Slot): Promise<ActionResult> {
    const res = this.cluster.resources.find((r) => r.kind === slot.kind && r.nickname === slot.nickname);
    if (res === undefined) return { id, ok: false, detail: `Unknown resource ${slot.kind}:${slot.nickname}` };

    if (res.kind === "filesystem" && verb === "probe") return this.probeMount(id, res);
    let command: string;
    if (res.kind === "application") {
      const program = applicationProgram(res, verb);
      // Nothing can tell whether an application without ensure_script runs.
      if (program === null) return verb === "watch" ? { id, ok: true, detail: "no ensure_script" } : { id, ok: false, detail: "no ensure_script: cannot tell" };
      const vars = { node: this.env.DRCM_NODE ?? this.self.nodename, resource: slot.resource, action: verb };
      command = applicationCommand(this.cluster, res, program, vars, this.daemon, this.etc);
    } else {
      const inner = agentCommand(res, verb);
      if (inner === null) return { id, ok: false, detail: `No ${verb} command for ${slot.resource}` };
      command = wrapForClusterUser(this.cluster, inner);
    }
    const timeoutMs = this.cluster.server.actionTimeoutMs[res.kind];
    const logFile = join(this.cluster.server.logDir, RESOURCE_LOGS[res.kind]);
    // Watches and probes repeat every few seconds: log them only when they fail.
    const env = { DRCM_RESOURCE: slot.resource, DRCM_ACTION: verb };
    const r = await this.run(command, timeoutMs, logFile, verb === "start" || verb === "stop", env);
    return { id, ok: r.exitCode === 0 && !r.timedOut, detail: describeResult(r, timeoutMs), output: lastLines(r.output, 5) };
  }

  /**
   * Looks in the mounts table instead of running the agent, whose watch would mount. Source and
   * target are compared as the agent receives them: literally, 1.x outer quotes removed.
   */
  private probeMount(id: number, res: FilesystemResource): ActionResult {
    const source = stripOuterQuotes(res.source);
    const target = stripOuterQuotes(res.target);
    const file = this.env.DRCM_MOUNTS_FILE ?? "/proc/mounts";
    const present = isMounted(readFileSync(file, "utf8"), source, target);
    return { id, ok: present, detail: present ? `${target} is mounted` : `${target} is not mounted` };
  }

  private async run(command: string, timeoutMs: number, logFile: string, always: boolean, extraEnv: Record<string, string> = {}): Promise<RunResult> {
    const env = { ...this.env, ...extraEnv };
    const r = await runShell(command, { timeoutMs, env, cwd: this.cluster.etcDir, logFile: always ? logFile : undefined });
    if (!always && (r.exitCode !== 0 || r.timedOut)) appendRunLog(logFile, command, r, timeoutMs);
    return r;
  }
}
