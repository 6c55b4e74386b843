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
}

/** An operator command forwarded from the node that received it to the node it concerns. */
export type OperatorCommand =
  | { readonly op: "standby"; readonly node: string }
  | { readonly op: "unstandby"; readonly node: string }
  | { readonly op: "move"; readonly resource: ResourceId; readonly node: string }
  | { readonly op: "cleanup"; readonly resource: ResourceId }
  /** Re-read and check the config file; a config with errors is refused and the running one stays. */
  | { readonly op: "reload" };

export interface CommandBody {
  readonly kind: "command";
  readonly command: OperatorCommand;
  /** Who asked (user@host or "console"), for the log. */
  readonly by: string;
}

export type MessageBody = HeartbeatBody | CommandBody;

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
    | "fence";
  readonly node?: string;
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
export type { ClusterStatus, HolderStatus, NodeStatus, PeerState, SlotStatus } from "../wire/status.ts";
