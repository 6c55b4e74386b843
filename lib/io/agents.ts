// Maps the core's actions on slots to 1.x resource command lines and runs them with runShell.
// Config fields are pasted into the command with single spaces and NOT re-quoted: users' cm.cfg
// relies on the shell interpreting them (`'ens192|eno8303'`, `~`, `$VAR`) exactly as 1.x did.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ApplicationResource, Cluster, FilesystemResource, NodeConfig, Resource, ResourceKind } from "../config/model.ts";
import type { Action, ActionResult, Slot } from "../core/types.ts";
import { appendRunLog, describeResult, runShell, type RunResult } from "./runner.ts";

/** 1.x resource log names in log_dir. */
export const RESOURCE_LOGS: Readonly<Record<ResourceKind, string>> = {
  crontab: "crontab_resource.log",
  ipaddr: "ipv4addr_resource.log",
  service: "service_resource.log",
  application: "application_resource.log",
  filesystem: "filesystem_resource.log",
};
export const FENCE_LOG = "fence.log";

type SlotVerb = "start" | "stop" | "watch" | "probe";

/** A POSIX single-quoted word; embedded quotes survive (1.x broke on them). */
export const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** A non-root cluster_user runs every command through sudo_command, as 1.x did. */
export function wrapForClusterUser(cluster: Cluster, command: string): string {
  const { clusterUser, sudoCommand } = cluster.server;
  if (clusterUser === "root" || clusterUser === "") return command;
  return `${sudoCommand} ${shellQuote(command)}`;
}

/** Primary group (gid and name) of a local user from /etc/passwd and /etc/group; null if unknown. */
export function primaryGroup(user: string, etc = "/etc"): { gid: number; name: string | null } | null {
  try {
    const pw = readFileSync(join(etc, "passwd"), "utf8").split("\n").map((l) => l.split(":"));
    const entry = pw.find((f) => f[0] === user);
    if (entry === undefined || entry[3] === undefined) return null;
    const gid = Number(entry[3]);
    const groups = readFileSync(join(etc, "group"), "utf8").split("\n").map((l) => l.split(":"));
    const name = groups.find((f) => f[2] !== undefined && Number(f[2]) === gid)?.[0] ?? null;
    return { gid, name };
  } catch {
    return null;
  }
}

/**
 * `su` as the user with a login shell (profile sourced, `~` is the user's home). The group is
 * honoured with `su -g` when it is not the user's primary group (or the user is not local, so
 * we cannot tell).
 */
export function suCommand(res: ApplicationResource, program: string, etc = "/etc"): string {
  let groupOpt = "";
  if (res.group !== "") {
    const pg = primaryGroup(res.user, etc);
    const isPrimary = pg !== null && (pg.name === res.group || String(pg.gid) === res.group);
    if (!isPrimary) groupOpt = `-g ${shellQuote(res.group)} `;
  }
  return `su ${groupOpt}-c ${shellQuote(program)} - ${shellQuote(res.user)}`;
}

/**
 * The shell command for one verb on one resource, before the sudo wrapper; null when the verb
 * needs no command (application watch/probe without ensure_script, filesystem probe).
 */
export function agentCommand(res: Resource, verb: SlotVerb): string | null {
  switch (res.kind) {
    case "crontab":
      return `${res.script} ${res.template} ${res.installDir} ${verb === "probe" ? "watch" : verb}`;
    case "ipaddr":
      return `${res.script} ${res.ip} ${res.netmask} ${res.iface} ${verb === "probe" ? "watch" : verb}`;
    case "service":
      return `${res.script} ${res.serviceName} ${verb === "probe" ? "status" : verb}`;
    case "filesystem":
      if (verb === "probe") return null;
      return `${res.script} ${res.source} ${res.target} ${verb === "start" ? "mount" : verb === "stop" ? "unmount" : "watch"}`;
    case "application":
      if (verb === "start") return suCommand(res, res.start);
      if (verb === "stop") return suCommand(res, res.stop);
      return res.ensure === null || res.ensure === "" ? null : suCommand(res, res.ensure);
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

  constructor(cluster: Cluster, self: NodeConfig, opts?: { env?: Record<string, string> }) {
    this.cluster = cluster;
    this.self = self;
    this.env = { DRCM_NODE: self.nodename, ...opts?.env };
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
      return { id: action.id, ok: false, detail: `Agent error: ${(e as Error).message}` };
    }
  }

  private async fence(id: number, node: string): Promise<ActionResult> {
    const script = this.cluster.server.fenceScript;
    if (script === null || script === "") return { id, ok: true, detail: "no fence_script configured" };
    const timeoutMs = this.cluster.server.fenceTimeoutMs;
    const command = wrapForClusterUser(this.cluster, `${script} ${shellQuote(node)}`);
    const r = await this.run(command, timeoutMs, join(this.cluster.server.logDir, FENCE_LOG), true);
    return { id, ok: r.exitCode === 0 && !r.timedOut, detail: describeResult(r, timeoutMs) };
  }

  private async slotAction(id: number, verb: SlotVerb, slot: Slot): Promise<ActionResult> {
    const res = this.cluster.resources.find((r) => r.kind === slot.kind && r.nickname === slot.nickname);
    if (res === undefined) return { id, ok: false, detail: `Unknown resource ${slot.kind}:${slot.nickname}` };

    if (res.kind === "filesystem" && verb === "probe") return await this.probeMount(id, res);
    const inner = agentCommand(res, verb);
    if (inner === null) {
      // Only an application without ensure_script gets here: nothing can tell whether it runs.
      return verb === "watch" ? { id, ok: true, detail: "no ensure_script" } : { id, ok: false, detail: "no ensure_script: cannot tell" };
    }
    const timeoutMs = this.cluster.server.actionTimeoutMs[res.kind];
    const logFile = join(this.cluster.server.logDir, RESOURCE_LOGS[res.kind]);
    // Watches and probes repeat every few seconds: log them only when they fail.
    const r = await this.run(wrapForClusterUser(this.cluster, inner), timeoutMs, logFile, verb === "start" || verb === "stop");
    return { id, ok: r.exitCode === 0 && !r.timedOut, detail: describeResult(r, timeoutMs) };
  }

  /**
   * Looks in the mounts table instead of running the agent, whose watch would mount. The fields
   * are expanded by the shell first, exactly as the agent would receive them (`~`, quotes, `\ `).
   */
  private async probeMount(id: number, res: FilesystemResource): Promise<ActionResult> {
    const words = await runShell(`printf '%s\\n' ${res.source} ${res.target}`, { timeoutMs: 5000, env: this.env, cwd: this.cluster.etcDir });
    const [source, target] = words.output.split("\n");
    if (words.exitCode !== 0 || source === undefined || target === undefined) {
      return { id, ok: false, detail: `Cannot expand source and target: ${describeResult(words, 5000)}` };
    }
    const file = this.env.DRCM_MOUNTS_FILE ?? "/proc/mounts";
    const present = isMounted(readFileSync(file, "utf8"), source, target);
    return { id, ok: present, detail: present ? `${target} is mounted` : `${target} is not mounted` };
  }

  private async run(command: string, timeoutMs: number, logFile: string, always: boolean): Promise<RunResult> {
    const r = await runShell(command, { timeoutMs, env: this.env, cwd: this.cluster.etcDir, logFile: always ? logFile : undefined });
    if (!always && (r.exitCode !== 0 || r.timedOut)) appendRunLog(logFile, command, r, timeoutMs);
    return r;
  }
}
