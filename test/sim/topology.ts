// Cluster models for the simulation and unit tests: n nodes in a ring, each primary for one floating IP,
// one crontab and one service, backed up by the next two nodes (config order).
import { perKind, type BackupEntry, type Cluster, type NodeConfig, type Resource, type ResourceKind, type ServerConfig } from "../../lib/config/model.ts";

export interface TopologyOptions {
  readonly nodes: number;
  /** Backups per resource (ring order), default min(2, nodes - 1). */
  readonly backups?: number;
  readonly kinds?: readonly ResourceKind[];
  readonly server?: Partial<ServerConfig>;
  readonly inactive?: readonly string[];
  readonly keep?: Partial<Pick<NodeConfig, "keepServices" | "keepApplications" | "keepFilesystems">>;
  readonly checkMs?: number;
  readonly fingerprint?: string;
}

export const nodeName = (i: number): string => `cmnode${i + 1}`;

/** drcm defaults (lib/config/server-section.ts) unless overridden. */
export function serverConfig(nodes: number, over: Partial<ServerConfig> = {}): ServerConfig {
  return {
    udpport: 53897,
    tcpport: 53898,
    httpPort: null,
    httpBind: "keep_alive_ip",
    alertOn: "one",
    bindToKeepAliveIp: false,
    runDir: "/run/drcm",
    logDir: "/var/log/drcm",
    spoolDir: "/var/spool/drcm",
    clusterUser: "root",
    clusterGroup: "root",
    sudoCommand: "sudo",
    serviceName: "drcm_server",
    logfileName: "drcm.log",
    numLogsToKeep: 3,
    maxLogSize: 5000000,
    enableLogging: true,
    clearLog: false,
    logLevel: 0,
    debug: false,
    debugLevel: 0,
    verbose: false,
    verboseLevel: 0,
    deadNodeCount: null,
    keepAliveIntervalMs: 50,
    deadTimeMs: 800,
    failbackDelayMs: 5000,
    failureTimeoutMs: null,
    autoFailback: true,
    quorum: nodes >= 3 ? "majority" : "none",
    pingTargets: [],
    fenceScript: null,
    alertScripts: [],
    maxFailures: 3,
    actionTimeoutMs: perKind(() => 10000),
    alertTimeoutMs: 10000,
    fenceTimeoutMs: 30000,
    lines: {},
    ...over,
  };
}

function resource(kind: ResourceKind, nickname: string, i: number): Resource {
  switch (kind) {
    case "ipaddr":
      return { kind, nickname, line: i, ip: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`, netmask: "24", iface: "eth0", script: "ipv4addr.sh" };
    case "crontab":
      return { kind, nickname, line: i, template: `${nickname}.cron`, installDir: "/etc/cron.d", script: "crontab.sh" };
    case "service":
      return { kind, nickname, line: i, serviceName: nickname, script: "service.sh" };
    case "application":
      return { kind, nickname, line: i, user: "app", group: "app", start: "start", stop: "stop", ensure: null };
    case "filesystem":
      return { kind, nickname, line: i, source: `nfs:/${nickname}`, target: `/mnt/${nickname}`, script: "nfs.sh" };
  }
}

const NICK: Record<ResourceKind, string> = { ipaddr: "vip", crontab: "cron", service: "svc", application: "app", filesystem: "fs" };

export function makeCluster(o: TopologyOptions): Cluster {
  const n = o.nodes;
  const kinds = o.kinds ?? (["ipaddr", "crontab", "service"] as const);
  const backups = Math.min(o.backups ?? 2, n - 1);
  const resources: Resource[] = [];
  for (const k of kinds) for (let i = 0; i < n; i++) resources.push(resource(k, `${NICK[k]}${i + 1}`, resources.length + 1));
  const nodes: NodeConfig[] = [];
  for (let i = 0; i < n; i++) {
    const name = nodeName(i);
    const primaries = perKind((k) => (kinds.includes(k) ? [`${NICK[k]}${i + 1}`] : []));
    const bk = perKind((k): BackupEntry[] => {
      if (!kinds.includes(k)) return [];
      const out: BackupEntry[] = [];
      // node i backs up the `backups` nodes before it in the ring
      for (let d = 1; d <= backups; d++) {
        const owner = (i - d + n) % n;
        out.push({ node: nodeName(owner), nickname: `${NICK[k]}${owner + 1}`, line: 0 });
      }
      return out;
    });
    nodes.push({
      nodename: name,
      hostname: `host${i + 1}`,
      keepAliveIp: `127.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      active: !(o.inactive ?? []).includes(name),
      keepServices: o.keep?.keepServices ?? false,
      keepFilesystems: o.keep?.keepFilesystems ?? true,
      keepApplications: o.keep?.keepApplications ?? false,
      checkMs: perKind(() => o.checkMs ?? 1000),
      primaries,
      backups: bk,
      line: 100 + i,
      lines: {},
    });
  }
  return {
    file: "/etc/drcm/cm.cfg",
    etcDir: "/etc/drcm",
    server: serverConfig(n, o.server),
    nodes,
    resources,
    fingerprint: o.fingerprint ?? "f".repeat(64),
  };
}
