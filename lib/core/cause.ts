// Cause: why a slot is (or should be) where it is, as the value placement decided it with. The log,
// alert events (DRCM_CAUSE), status, cm_stat, health and `explain` all render this one value through
// describeCause(); none of them words the reason on its own. Facts are data (node names, ages in ms,
// counts); the words live only in describeCause().

/** Why one candidate cannot hold a slot now, as the deciding node sees it. */
export type Blocker =
  /** Not heard within dead_time; `silentMs` since it was last heard (null: never heard). */
  | { readonly node: string; readonly why: "dead"; readonly silentMs: number | null }
  | { readonly node: string; readonly why: "leaving" | "inactive" | "standby" | "failed" | "starting" | "no-quorum" | "ping-lost" }
  /** Taken as dead to say where the slot would go next (status `next`); it is not. */
  | { readonly node: string; readonly why: "assumed-dead" };

export type BlockerWhy = Blocker["why"];

export type Cause =
  /** On (or going to) its owner, which may hold it. */
  | { readonly kind: "primary"; readonly node: string }
  /**
   * The owner cannot hold it (`owner` is the blocker naming it), so `node` has it: the first eligible
   * backup after the `skipped` ones (`holds: false`), or the backup that already holds it (`holds: true`).
   */
  | { readonly kind: "owner-down"; readonly owner: Blocker; readonly node: string; readonly holds: boolean; readonly skipped: readonly Blocker[] }
  /** An operator `move` pins it to `node`. */
  | { readonly kind: "moved"; readonly node: string }
  /** Maintenance mode freezes it where it is: cluster-wide (node null) or by the node in maintenance that holds it. */
  | { readonly kind: "maintenance"; readonly node: string | null }
  /** The owner has been alive and ready for failback_delay on the holder: it goes back from `from`. */
  | { readonly kind: "failback"; readonly owner: string; readonly from: string }
  /** The owner is back but not stable for failback_delay yet: it stays on `node`; `remainingMs` null when unknown. */
  | { readonly kind: "failback-delay"; readonly owner: string; readonly node: string; readonly delayMs: number | null; readonly remainingMs: number | null }
  /** auto_failback = 0: it stays on `node` although its owner could have it. */
  | { readonly kind: "kept"; readonly owner: string; readonly node: string }
  /** `node`, where it belongs, is still starting: nobody starts it before that node is ready. */
  | { readonly kind: "waiting-start"; readonly node: string }
  /** A leftover (claim 0) on `holder` waits for its starting `owner`, which may have found it running too. */
  | { readonly kind: "leftover-wait"; readonly owner: string; readonly holder: string }
  /** The deciding node has no quorum: exclusive resources run nowhere it can see. */
  | { readonly kind: "no-quorum"; readonly alive: number; readonly total: number }
  /** The deciding node reaches none of its ping_targets. */
  | { readonly kind: "ping-lost"; readonly node: string }
  /** Every candidate that could hold it gave up after max_failures failed checks or starts. */
  | { readonly kind: "max-failures"; readonly nodes: readonly string[]; readonly failures: number | null }
  /** `node` takes it over once fence_script has fenced the dead `fencing` peers. */
  | { readonly kind: "fenced-pending"; readonly node: string; readonly fencing: readonly string[] }
  /** A duplicate: `node` holds it with a higher claim than this node's `mine`, so it keeps it. */
  | { readonly kind: "outclaimed"; readonly node: string; readonly claim: number; readonly mine: number }
  /** No candidate may hold it: each with what keeps it out. */
  | { readonly kind: "nowhere"; readonly blocked: readonly Blocker[] };

export type CauseKind = Cause["kind"];

/** DRCM_CAUSE: the kind, a stable word for scripts. */
export const causeCode = (c: Cause): CauseKind => c.kind;

const ms = (v: number): string => `${Math.round(v)} ms`;

/** One blocker in words: "n1 is dead, no heartbeat for 812 ms"; `name` is how the node is called. */
export function describeBlocker(b: Blocker, name: string = b.node): string {
  switch (b.why) {
    case "dead":
      return b.silentMs === null ? `${name} has not been heard since this node started` : `${name} is dead, no heartbeat for ${ms(b.silentMs)}`;
    case "leaving":
      return `${name} is stopping`;
    case "inactive":
      return `${name} is inactive`;
    case "standby":
      return `${name} is in standby`;
    case "failed":
      return `it failed too often on ${name}`;
    case "starting":
      return `${name} is starting`;
    case "no-quorum":
      return `${name} has no quorum`;
    case "ping-lost":
      return `${name} reaches no ping target`;
    case "assumed-dead":
      return `${name} is gone`;
  }
}

/** The one rendering of a cause, for log lines, alert texts, status `reason`, cm_stat and explain. */
export function describeCause(c: Cause): string {
  switch (c.kind) {
    case "primary":
      return `${c.node} is its primary`;
    case "owner-down": {
      const owner = describeBlocker(c.owner, `its primary ${c.owner.node}`);
      if (c.holds) return `${owner}; ${c.node} holds it`;
      const skipped = c.skipped.map((b) => describeBlocker(b));
      return [owner, ...skipped, `${c.node} is the ${skipped.length === 0 ? "first" : "next"} live backup`].join("; ");
    }
    case "moved":
      return `moved to ${c.node} by an operator`;
    case "maintenance":
      return c.node === null ? "maintenance mode (cluster-wide): nothing is started, stopped or moved" : `maintenance mode on ${c.node}: left as it is`;
    case "failback":
      return `failback from ${c.from}`;
    case "failback-delay": {
      const left = c.remainingMs === null ? "" : `, ${ms(c.remainingMs)} to go`;
      const delay = c.delayMs === null ? "failback_delay" : `failback_delay ${ms(c.delayMs)}`;
      return `its primary ${c.owner} is back; it stays on ${c.node} until ${c.owner} has been up for ${delay}${left}`;
    }
    case "kept":
      return `its primary ${c.owner} is back; it stays on ${c.node} (auto_failback = 0)`;
    case "waiting-start":
      return `waiting for ${c.node} to finish starting`;
    case "leftover-wait":
      return `left running on ${c.holder} by an earlier run; waiting for ${c.owner} to finish starting`;
    case "no-quorum":
      return `no quorum (${c.alive} of ${c.total} nodes alive)`;
    case "ping-lost":
      return `${c.node} reaches no ping target`;
    case "max-failures":
      return `failed too often on ${c.nodes.join(", ")}${c.failures === null ? "" : ` (${c.failures} failures each)`}`;
    case "fenced-pending":
      return `${c.node} takes it over once ${c.fencing.join(", ")} ${c.fencing.length === 1 ? "is" : "are"} fenced`;
    case "outclaimed":
      return `${c.node} holds it with a higher claim (${c.claim} over ${c.mine})`;
    case "nowhere":
      return c.blocked.length === 0 ? "no eligible node" : `no eligible node: ${c.blocked.map((b) => describeBlocker(b)).join("; ")}`;
  }
}

/** Where the slot is meant to be, per its cause (null: nowhere). */
export function causeNode(c: Cause): string | null {
  switch (c.kind) {
    case "primary":
    case "owner-down":
    case "moved":
    case "failback-delay":
    case "kept":
    case "waiting-start":
    case "fenced-pending":
    case "outclaimed":
      return c.node;
    case "failback":
    case "leftover-wait":
      return c.owner;
    case "maintenance":
    case "no-quorum":
    case "ping-lost":
    case "max-failures":
    case "nowhere":
      return null;
  }
}
