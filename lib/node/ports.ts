// What the node driver needs from the world, as small interfaces. lib/server.ts plugs in the real
// ones (UDP and TCP sockets, performance.now, setInterval, resource scripts, spool files); test/sim
// plugs in a fake network, a fake clock and fake agents. Every port is callback-based, so a simulated
// port can answer at a simulated time and the whole run stays deterministic.
import type { Cluster, NodeConfig } from "../config/model.ts";
import type { Action, ActionResult, ClusterEvent, Persisted, Slot } from "../core/types.ts";

export interface Clock {
  /** Monotonic milliseconds: the core's time. */
  now(): number;
  /** Wall-clock milliseconds since the epoch: only for alerts and display. */
  wall(): number;
}

export interface Timer {
  cancel(): void;
}
export interface Timers {
  every(ms: number, f: () => void): Timer;
  /**
   * Every `ms` at the multiples of `ms` on the wall clock, so that nodes whose clocks agree (NTP) tick
   * together and each wakes once for its own tick and its peers' beats. The heartbeat tick.
   */
  aligned(ms: number, f: () => void): Timer;
  after(ms: number, f: () => void): Timer;
}

/** Where heartbeats are received and the control channel listens. */
export interface SocketSpec {
  /** Where heartbeats are received (the first link's address, or the wildcard) and the control channel listens. */
  readonly bindHost: string;
  readonly udpPort: number;
  /** Source address of everything sent on the first link: this node's keep_alive_ip. */
  readonly sendHost: string;
  readonly tcpPort: number;
  /**
   * Links after the first (keep_alive_ip lists more than one address): for each, the source address of
   * what is sent on it and where it receives (its address, or null when bindHost is the wildcard, which
   * receives every link). The control channel listens on these addresses too. Absent: one link.
   */
  readonly more?: readonly { readonly bindHost: string | null; readonly sendHost: string }[];
}

export type OpenResult =
  | {
      readonly ok: true;
      /** Make the new sockets the current ones. Old UDP receivers stay open until `retireOld`. */
      commit(): void;
      /** Close what `open` opened (a reload that is refused after all). */
      abort(): void;
    }
  | { readonly ok: false; readonly error: string };

export interface Sockets {
  /**
   * Open what `spec` needs and `current` (null at start) does not have yet: a new UDP receiver when the
   * address or port changed, a new control listener when tcpport or the address changed. Nothing that
   * is open now is closed before `commit`.
   */
  open(spec: SocketSpec, current: SocketSpec | null, done: (r: OpenResult) => void): void;
  /** Close the UDP receivers of earlier specs (a port change has been taken up by every peer). */
  retireOld(): void;
  /** Never throws; a failed send is UDP loss. `link`: 0 the first heartbeat link (spec.sendHost), k > 0 spec.more[k-1]. */
  send(ip: string, port: number, bytes: Uint8Array, link?: number): void;
  close(): void;
}

export interface Agents {
  /** Runs one action (fence actions have no slot); `done` is called exactly once. */
  perform(a: Action, slot: Slot | undefined, done: (r: ActionResult) => void): void;
  setCluster(cluster: Cluster, self: NodeConfig): void;
}

export interface Alerts {
  /**
   * Every event this node reports. `alert`: whether alert_script runs for it here (alert_on = one leaves
   * an event every node sees to one of them); the event itself is logged and shown either way.
   */
  emit(e: ClusterEvent, wallMs: number, alert: boolean): void;
  /** A reload may change alert_script: deliver what is queued, then use the new list. */
  setCluster(cluster: Cluster, self: NodeConfig): void;
  drain(ms: number, done: () => void): void;
}

/**
 * Operator state kept across daemon restarts. The times of pins are wall-clock ms here (a restarted
 * daemon starts a new monotonic clock); the driver converts to and from the core's clock.
 */
export interface Store {
  load(): Persisted;
  save(p: Persisted): void;
}

/** Reads and checks the config file again, and resolves every keep_alive_ip. */
export type LoadedConfig =
  | {
      readonly ok: true;
      readonly cluster: Cluster;
      readonly self: NodeConfig;
      /** nodename -> resolved keep_alive_ip of its first link. */
      readonly ips: ReadonlyMap<string, string>;
      /** nodename -> every resolved link address, in link order (absent: one link, `ips`). */
      readonly links?: ReadonlyMap<string, readonly string[]>;
    }
  /** `message`: the first line; `details`: one line per finding (file:line: ERROR - ...). */
  | { readonly ok: false; readonly message: string; readonly details: readonly string[] };
export interface ConfigSource {
  load(selfName: string, done: (r: LoadedConfig) => void): void;
}

export interface DriverLog {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(level: number, msg: string): void;
  setDebugLevel(n: number): void;
  /** The current debug level (0: off), so costly traces are only built when they are written. */
  readonly debugLevel?: number;
}

export interface PingProbe {
  /** Is any of `targets` reachable from `fromIp`? */
  check(targets: readonly string[], fromIp: string, done: (ok: boolean) => void): void;
}

export interface Ports {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly sockets: Sockets;
  readonly agents: Agents;
  readonly alerts: Alerts;
  readonly store: Store;
  readonly config: ConfigSource;
  readonly log: DriverLog;
  readonly ping: PingProbe;
}
