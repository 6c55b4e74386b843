// The contract between the pure core (lib/core) and the edges (lib/server.ts, lib/io, lib/client, test/sim).
// The core never reads a clock or a socket: time arrives as `now` (monotonic milliseconds) and
// everything it wants done leaves as data in a `Step`.

import type { ResourceId, ResourceKind } from "../config/model.ts";
import type { Cause } from "./cause.ts";

/**
 * A slot is one resource as owned by one primary node. Exclusive resources (floating IPs, crontabs)
 * have exactly one slot; a service listed as primary on three nodes has three slots, each with its
 * own backups. `candidates` = [owner, ...backups in config order].
 */
export interface Slot {
  /** `${resourceId}@${owner}`, e.g. `ipaddr:vip@cmnode1`. */
  readonly id: string;
  readonly resource: ResourceId;
  readonly kind: ResourceKind;
  readonly nickname: string;
  readonly owner: string;
  readonly candidates: readonly string[];
  readonly exclusive: boolean;
}
export const slotId = (resource: ResourceId, owner: string): string => `${resource}@${owner}`;

/** One slot a node says it holds, as carried in its heartbeats. */
export interface Hold {
  readonly slot: string;
  /** primary: the holder is the slot's owner; backup: held on behalf of the owner. */
  readonly role: "primary" | "backup";
  /**
   * Takeover generation: when a node acquires a slot it uses (highest claim it has seen for that slot) + 1.
   * The holder with the highest claim is the current one, so a stale holder (a daemon restarted after
   * SIGKILL, a node resumed after SIGSTOP, the minority after a partition) always loses. A hold found by
   * the start-up probe has claim 0.
   */
  readonly claim: number;
  /** How long the sender has held it, so receivers can show a start time without shared clocks. */
  readonly heldMs: number;
}

/** What every node tells every peer every keep_alive_interval. */
export interface HeartbeatBody {
  readonly kind: "heartbeat";
  /** Fingerprint of the sender's config (Cluster.fingerprint). */
  readonly config: string;
  /** node_is_active of the sender's own config block. */
  readonly active: boolean;
  /** Operator standby: the node keeps heartbeating but holds nothing. */
  readonly standby: boolean;
  /** The sender has finished its start-up probe and initial wait. */
  readonly ready: boolean;
  /** The sender is stopping gracefully: peers treat it as gone at once. */
  readonly leaving: boolean;
  /** Quorum as the sender sees it (always true with quorum = none). */
  readonly quorum: boolean;
  /** ping_targets tie-breaker: null when no targets are configured. */
  readonly pingOk: boolean | null;
  /** Peers the sender considers alive. */
  readonly alive: readonly string[];
  /**
   * Added by H3 (optional, backward compatible): for each entry of `alive`, milliseconds since the sender
   * last heard that peer directly. Lets receivers use a peer's view as indirect evidence of liveness
   * (one-hop relay), so one lossy or cut link does not fail a node over in a 3+ node cluster.
   */
  readonly heard?: readonly number[];
  /** Peers the sender has seen alive for at least failback_delay. */
  readonly stable: readonly string[];
  readonly holds: readonly Hold[];
  /** Slots this node has given up on after max_failures (not eligible here until cleanup). */
  readonly failed: readonly string[];
  /** Milliseconds since the sender started (for status). */
  readonly uptimeMs: number;
  /** Failed actions on the sender, kept until cleanup or failure_timeout (absent: none). */
  readonly failures?: readonly FailureWire[];
  /** This node is in node maintenance (absent: no). Peers take nothing over from it, alive or not. */
  readonly maintenance?: boolean;
  /**
   * The cluster-wide operator state as the sender has it: maintenance on or off, and the operator pins,
   * under one generation. A node adopts a peer's copy with a higher generation (a tie goes to the larger
   * serialized copy), so every node converges on the same one even when a command datagram was lost.
   * Absent while nothing was ever set (generation 0).
   */
  readonly operator?: OperatorStateWire;
  /**
   * State version of the sender (protocol 3): grows whenever anything but an age changes. Between
   * changes the sender sends a BeatBody with the same `sv` instead of the whole state.
   */
  readonly sv?: number;
}

/**
 * The compact heartbeat (protocol 3): "my state is still version `sv`", with fresh `heard` ages in
 * the order of the `alive` list of the full heartbeat of that version. A receiver that does not have
 * that version answers with a WantBody.
 */
export interface BeatBody {
  readonly kind: "beat";
  readonly sv: number;
  readonly heard: readonly number[];
}

/** "Send me your whole state": the receiver of a beat whose state version it does not have. */
export interface WantBody {
  readonly kind: "want";
}

/** One operator pin as carried in heartbeats: ages, not times (no shared clocks). */
export interface PinWire {
  readonly resource: ResourceId;
  readonly node: string;
  /** How long ago the move was made. */
  readonly ageMs: number;
  /** How long the pin has left; null: until cleared. */
  readonly leftMs: number | null;
}

export interface OperatorStateWire {
  readonly gen: number;
  readonly maintenance: boolean;
  readonly pins: readonly PinWire[];
}

/** An operator command forwarded from the node that received it to the node it concerns. */
export type OperatorCommand =
  | { readonly op: "standby"; readonly node: string }
  | { readonly op: "unstandby"; readonly node: string }
  /**
   * Pin `resource` to `node` (pcs resource move). `lifetimeMs`: the pin ends by itself after this long.
   * `gen` is set by the node the operator typed it on (its operator-state generation + 1) before it is
   * forwarded, so every node applies the same change and a later one wins everywhere.
   */
  | { readonly op: "move"; readonly resource: ResourceId; readonly node: string; readonly lifetimeMs?: number; readonly gen?: number }
  /** Remove the pin of `resource`, or every pin when `resource` is null (pcs resource clear). */
  | { readonly op: "clear"; readonly resource: ResourceId | null; readonly gen?: number }
  | { readonly op: "cleanup"; readonly resource: ResourceId }
  /**
   * Maintenance mode: nothing is started, stopped or moved; watches go on and report. `node` null: the
   * whole cluster (replicated to every node, `gen` as for move); else only that node.
   */
  | { readonly op: "maintenance"; readonly on: boolean; readonly node: string | null; readonly gen?: number }
  /** Re-read and check the config file; a config with errors is refused and the running one stays. */
  | { readonly op: "reload" };

export interface CommandBody {
  readonly kind: "command";
  readonly command: OperatorCommand;
  /** Who asked (user@host or "console"), for the log. */
  readonly by: string;
}

export type MessageBody = HeartbeatBody | CommandBody | BeatBody | WantBody;

/** A decoded, authenticated message as the core receives it. */
export interface PeerMessage {
  readonly from: string;
  readonly incarnation: number;
  readonly body: MessageBody;
}

/** A message the core wants sent. `to` is a nodename. */
export interface Outgoing {
  readonly to: string;
  readonly body: MessageBody;
}

/**
 * Something the edges must do. Results come back through `Core.onResult` with the same `id`.
 * - start/stop: acquire/release a slot (for IPs `start` also announces with gratuitous ARP, and a
 *   repeated `start` of a held IP re-announces it).
 * - watch: health check of a held slot.
 * - probe: does this node hold the slot right now? (start-up: find leftovers of a killed daemon).
 * - fence: run fence_script for a dead peer.
 */
export type Action =
  | {
      readonly id: number;
      readonly type: "start" | "stop" | "watch" | "probe";
      readonly slot: string;
      /** describeCause(cause) when there is a cause, else what the action is for ("periodic check"). */
      readonly reason: string;
      /** start/stop decided by placement: why (lib/core/cause.ts). */
      readonly cause?: Cause;
    }
  | { readonly id: number; readonly type: "fence"; readonly node: string; readonly reason: string };

export interface ActionResult {
  readonly id: number;
  /** start/stop/watch/fence: success. probe: the slot is present on this node. */
  readonly ok: boolean;
  /** Short human text (exit code, timed out, ...) kept for status. */
  readonly detail: string;
  /** The last lines the script printed (at most FAILURE_OUTPUT_LINES), kept with a failure. */
  readonly output?: readonly string[];
}

/** A failed start, stop or watch as a node reports it in its heartbeats: ages, not times. */
export interface FailureWire {
  readonly slot: string;
  readonly action: "start" | "stop" | "watch";
  /** Exit code or timeout, in words (the agent's detail). */
  readonly detail: string;
  readonly output: readonly string[];
  /** Failures of this action in a row or since the last cleanup. */
  readonly count: number;
  readonly firstAgeMs: number;
  readonly lastAgeMs: number;
}

/** Something that happened, for the log, status and alert scripts. */
export interface ClusterEvent {
  readonly type:
    | "node_alive"
    /** This node finished its start-up probe and initial wait and may acquire resources. */
    | "node_ready"
    | "node_dead"
    | "node_suspect"
    | "node_leaving"
    | "node_inactive"
    | "node_standby"
    /** Added by H20: a node left operator standby (a recovery; before, this was a node_standby). */
    | "node_unstandby"
    | "takeover"
    | "failback"
    | "release"
    | "acquire"
    | "resource_failed"
    | "resource_recovered"
    | "quorum_lost"
    | "quorum_regained"
    | "ping_lost"
    | "ping_regained"
    | "config_mismatch"
    | "duplicate_holder"
    | "local_stall"
    | "fence"
    /** An operator pinned a resource to a node (move), or a pin ended (clear, lifetime, target gone). */
    | "pin_set"
    | "pin_cleared"
    /** Maintenance mode on or off: cluster-wide (no node) or for the node named. */
    | "maintenance_on"
    | "maintenance_off"
    /** A heartbeat link to `node` is silent for dead_time while the node is heard on another link (moves nothing), or heard again. */
    | "link_down"
    | "link_up";
  readonly node?: string;
  /** link_down, link_up: the link, 1-based as in cm_stat (the position of its address in keep_alive_ip). */
  readonly link?: number;
  readonly slot?: string;
  readonly resource?: ResourceId;
  /**
   * Added by H20 (optional): takeover and failback name both ends of the move. `node` is the node
   * concerned: on takeover the holder it was taken from (failed, leaving, standby), on failback the
   * owner it returns to.
   */
  readonly from?: string;
  readonly to?: string;
  /** takeover, failback, acquire and release decided by placement: why, as a value (DRCM_CAUSE); `message` renders it. */
  readonly cause?: Cause;
  readonly message: string;
}

/**
 * Operator state a node keeps across daemon restarts (the driver writes it under spool_dir). The core
 * owns it; the edges only store what a Step hands them and give it back to the next Core.
 */
export interface Persisted {
  readonly standby: boolean;
  /** Node maintenance of this node. */
  readonly maintenance: boolean;
  /**
   * The cluster-wide operator state (maintenance and pins). Pin times are the core's monotonic ms; the
   * driver turns them into wall-clock times in the file and back, since a restart starts a new clock.
   */
  readonly operator: { readonly gen: number; readonly maintenance: boolean; readonly pins: readonly PersistedPin[] };
}

export interface PersistedPin {
  readonly resource: ResourceId;
  readonly node: string;
  readonly since: number;
  /** null: until cleared. */
  readonly until: number | null;
}

/** Everything one call into the core asks for. */
export interface Step {
  readonly send: readonly Outgoing[];
  readonly actions: readonly Action[];
  readonly events: readonly ClusterEvent[];
  /** Added by H3: an operator asked for "reload": the server re-reads and checks the config, then calls Core.reload. */
  readonly reloadRequested?: boolean;
  /** Added by H3: an operator command the core refused (unknown node or resource), as a message for the console. */
  readonly rejected?: string;
  /** Present when the persisted operator state changed in this call: store it before acting on anything else. */
  readonly persist?: Persisted;
}

// The status shape is defined once, as the schema the client parses it with (lib/wire/status.ts).
export type { ClusterStatus, FailureStatus, HolderStatus, NodeStatus, PeerState, PinStatus, SlotStatus } from "../wire/status.ts";
