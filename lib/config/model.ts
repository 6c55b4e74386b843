// The typed, immutable cluster model that every other part of drcm reads.
// lib/config/load.ts builds it from cm.cfg; nothing else constructs it except tests.
// Every value a user wrote keeps the line it came from, so findings can name file:line.

/** Resource kinds in the order resources are started on a node (stop in reverse). */
export const RESOURCE_KINDS = ["filesystem", "service", "application", "crontab", "ipaddr"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** A record with one entry per resource kind. */
export const perKind = <T>(f: (k: ResourceKind) => T): Record<ResourceKind, T> =>
  Object.fromEntries(RESOURCE_KINDS.map((k) => [k, f(k)])) as Record<ResourceKind, T>;

/** Exclusive kinds have exactly one holder in the cluster; the others may run on several nodes. */
export const EXCLUSIVE_KINDS: ReadonlySet<ResourceKind> = new Set(["crontab", "ipaddr"]);

/** Config section of each kind, and the node keys that list it (1.x names). */
export const KIND_INFO: Readonly<
  Record<ResourceKind, { section: string; primaryKey: string; backupKey: string; checkKey: string; statsKind: string; label: string }>
> = {
  crontab: { section: "CM_CRONTABS", primaryKey: "node_crontabs", backupKey: "node_backup_crontabs", checkKey: "crontabs_check", statsKind: "cron", label: "Crontab" },
  ipaddr: { section: "CM_IPADDRS", primaryKey: "node_floating_ip_addrs", backupKey: "node_backup_floating_ip_addrs", checkKey: "ipaddr_check", statsKind: "ip", label: "IPaddr" },
  service: { section: "CM_SERVICES", primaryKey: "node_services", backupKey: "node_backup_services", checkKey: "services_check", statsKind: "service", label: "Service" },
  application: { section: "CM_APPLICATIONS", primaryKey: "node_applications", backupKey: "node_backup_applications", checkKey: "applications_check", statsKind: "application", label: "Application" },
  filesystem: { section: "CM_FILESYSTEMS", primaryKey: "node_filesystems", backupKey: "node_backup_filesystems", checkKey: "filesystems_check", statsKind: "filesystem", label: "FileSystem" },
};

interface ResourceBase {
  /** Unique within its kind; different kinds may share a nickname (1.x template: `web`). */
  readonly nickname: string;
  /** Line of the CSV entry in the config file. */
  readonly line: number;
}
export interface CrontabResource extends ResourceBase {
  readonly kind: "crontab";
  readonly template: string;
  readonly installDir: string;
  readonly script: string;
}
export interface IpResource extends ResourceBase {
  readonly kind: "ipaddr";
  readonly ip: string;
  /** As written: dotted (255.255.255.0) or prefix length (24). */
  readonly netmask: string;
  /** As written, quotes kept: `eth0`, `eth0:1`, `'ens192|eno8303'`. */
  readonly iface: string;
  readonly script: string;
}
export interface ServiceResource extends ResourceBase {
  readonly kind: "service";
  readonly serviceName: string;
  readonly script: string;
}
export interface ApplicationResource extends ResourceBase {
  readonly kind: "application";
  readonly user: string;
  readonly group: string;
  /** Shell text, may hold `;`-separated commands, `~`, `$VARS`. */
  readonly start: string;
  readonly stop: string;
  readonly ensure: string | null;
}
export interface FilesystemResource extends ResourceBase {
  readonly kind: "filesystem";
  readonly source: string;
  readonly target: string;
  readonly script: string;
}
export type Resource = CrontabResource | IpResource | ServiceResource | ApplicationResource | FilesystemResource;

/** `kind:nickname`, unique in the cluster. */
export type ResourceId = string;
export const resourceId = (kind: ResourceKind, nickname: string): ResourceId => `${kind}:${nickname}`;

export interface BackupEntry {
  /** The node whose resource this is (text before the first `:`). */
  readonly node: string;
  readonly nickname: string;
  readonly line: number;
}

export interface NodeConfig {
  readonly nodename: string;
  readonly hostname: string;
  /** As written (IPv4 address or resolvable name). */
  /** The first heartbeat link's address (1.x: the only one). */
  readonly keepAliveIp: string;
  /** One address per heartbeat link, keepAliveIp first; every node lists the same number (absent: just keepAliveIp). Read it with linksOf(). */
  readonly keepAliveIps?: readonly string[];
  readonly active: boolean;
  readonly keepServices: boolean;
  readonly keepFilesystems: boolean;
  readonly keepApplications: boolean;
  /** Watch interval per kind, milliseconds (`*_check` keys are seconds in the file). */
  readonly checkMs: Readonly<Record<ResourceKind, number>>;
  readonly primaries: Readonly<Record<ResourceKind, readonly string[]>>;
  readonly backups: Readonly<Record<ResourceKind, readonly BackupEntry[]>>;
  /** Line of this block's `[CM_NODE]` header. */
  readonly line: number;
  /** Line of each key written in this block. */
  readonly lines: Readonly<Record<string, number>>;
}

export type QuorumPolicy = "majority" | "none";

export interface ServerConfig {
  readonly udpport: number;
  readonly tcpport: number;
  /** HTTP port of /metrics, /status.json and the live page; null: off (the default). */
  readonly httpPort: number | null;
  /** Where the HTTP side listens: this node's first keep_alive_ip, 127.0.0.1, or every address. */
  readonly httpBind: "keep_alive_ip" | "localhost" | "all";
  /** one: each cluster event alerts once (the node that acts, or the lowest live node); all: every node that sees it. */
  readonly alertOn: "one" | "all";
  readonly bindToKeepAliveIp: boolean;
  readonly runDir: string;
  readonly logDir: string;
  readonly spoolDir: string;
  readonly clusterUser: string;
  readonly clusterGroup: string;
  readonly sudoCommand: string;
  readonly serviceName: string;
  readonly logfileName: string;
  readonly numLogsToKeep: number;
  readonly maxLogSize: number;
  readonly enableLogging: boolean;
  readonly clearLog: boolean;
  readonly logLevel: number;
  readonly debug: boolean;
  readonly debugLevel: number;
  readonly verbose: boolean;
  readonly verboseLevel: number;
  /** 1.x key, kept valid: consecutive missed keep-alive intervals before a peer is dead. */
  readonly deadNodeCount: number | null;
  // --- drcm 2 keys ---
  /** Heartbeat period to every peer. */
  readonly keepAliveIntervalMs: number;
  /** A peer is dead when no valid heartbeat arrived for this long. */
  readonly deadTimeMs: number;
  /** A returning primary must be alive this long before it takes its resources back. */
  readonly failbackDelayMs: number;
  /** Failed actions are forgotten this long after their last occurrence; null: kept until cleanup. */
  readonly failureTimeoutMs: number | null;
  readonly autoFailback: boolean;
  /** Effective policy: `majority` by default for 3+ nodes, `none` for 1-2. */
  readonly quorum: QuorumPolicy;
  /** Two-node tie-breaker: a node that reaches none of these neither takes over nor keeps exclusive resources. */
  readonly pingTargets: readonly string[];
  /** Run with the dead peer's nodename before taking over its exclusive resources; takeover only on exit 0. */
  readonly fenceScript: string | null;
  readonly alertScripts: readonly string[];
  /** Consecutive failed watches/starts before a resource is marked failed on a node and handed on. */
  readonly maxFailures: number;
  /** Script timeout per kind, milliseconds. */
  readonly actionTimeoutMs: Readonly<Record<ResourceKind, number>>;
  readonly alertTimeoutMs: number;
  /** Time limit of one fence_script run. */
  readonly fenceTimeoutMs: number;
  /** Line of each key written in `[CM_SERVER]`. */
  readonly lines: Readonly<Record<string, number>>;
}

export interface Cluster {
  /** Absolute path of the config file. */
  readonly file: string;
  /** Directory holding the config file: `.auth/`, relative resource paths. */
  readonly etcDir: string;
  readonly server: ServerConfig;
  /** In config order: this order is "node order" for status and placement. */
  readonly nodes: readonly NodeConfig[];
  /** Every resource in section order, then line order. */
  readonly resources: readonly Resource[];
  /** sha256 hex of the normalized config; equal on nodes whose configs mean the same. */
  readonly fingerprint: string;
}

export type Severity = "ERROR" | "WARNING" | "INFO";
export interface Finding {
  readonly severity: Severity;
  /** Config file path (or other file the finding is about). */
  readonly file: string;
  /** 0 when the finding is not about one line. */
  readonly line: number;
  readonly message: string;
}

/** Every heartbeat link address of a node, in link order (the first is keepAliveIp). */
export const linksOf = (n: Pick<NodeConfig, "keepAliveIp" | "keepAliveIps">): readonly string[] => n.keepAliveIps ?? [n.keepAliveIp];
