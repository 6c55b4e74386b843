// Placement: (slot, view) -> who should hold it. Pure: every node computes the same answer from the
// same view, so there is no first-come-first-served race between backups.
import type { Blocker, Cause } from "./cause.ts";
import type { Slot } from "./types.ts";

/** What placement needs to know about one node (self included), as this node sees it. */
export interface NodeView {
  /** Heard within dead_time (directly or through a peer); always true for self unless stopping. */
  readonly alive: boolean;
  /** Stopping gracefully: holds nothing new, its slots move at once. */
  readonly leaving: boolean;
  /** Finished its start-up probe and initial wait. */
  readonly ready: boolean;
  /** node_is_active. */
  readonly active: boolean;
  readonly standby: boolean;
  /** In node maintenance: it takes nothing new, and what it holds (alive or not) nobody else touches. */
  readonly maintenance: boolean;
  /** Quorum as that node reports it. */
  readonly quorum: boolean;
  /** ping_targets tie-breaker as that node reports it (null: not configured or no result yet). */
  readonly pingOk: boolean | null;
  /** Slots that node gave up on after max_failures. */
  readonly failed: ReadonlySet<string>;
  /** Peers that node has seen alive and ready for failback_delay. */
  readonly stable: ReadonlySet<string>;
  /** Slots that node holds -> claim. */
  readonly holds: ReadonlyMap<string, number>;
  /** For causes only (placement never reads it): ms since it was last heard; null: never; absent: not known. */
  readonly silentMs?: number | null;
  /** For causes only: ms it has been alive and ready without a break, as this node sees it; null or absent: not known. */
  readonly upMs?: number | null;
  /** Dead only in a "where would it go next" question (status `next`), not really: its blocker says so. */
  readonly assumedDead?: boolean;
}

export interface View {
  readonly nodes: ReadonlyMap<string, NodeView>;
  readonly autoFailback: boolean;
  /** Operator `move` pins: resource id -> node. */
  readonly pins: ReadonlyMap<string, string>;
  /** The node whose view this is (for the no-quorum and ping-lost causes); absent in hand-made views. */
  readonly self?: string;
  /** failback_delay and max_failures, for the facts of a cause only. */
  readonly failbackDelayMs?: number;
  readonly maxFailures?: number;
}

export interface Placement {
  /** Where the slot should be (null: nowhere). May name a node that is still starting (not ready). */
  readonly desired: string | null;
  /** The eligible holder with the highest claim (null: none). */
  readonly current: string | null;
  /** The desired node is not ready yet: nobody starts the slot until it is. */
  readonly waitingForStart: boolean;
  /** Why: the rule that decided `desired`, with its facts. */
  readonly cause: Cause;
}

/** Quorum and the ping tie-breaker together: a node without them takes over nothing. */
const groupOk = (n: NodeView): boolean => n.quorum && n.pingOk !== false;

/** May `name` hold `slot` now? */
export function eligible(slot: Slot, name: string, view: View): boolean {
  const n = view.nodes.get(name);
  if (!n || !slot.candidates.includes(name)) return false;
  if (!n.alive || n.leaving || !n.ready || !n.active || n.standby || n.failed.has(slot.id)) return false;
  if (n.maintenance && !n.holds.has(slot.id)) return false;
  if (groupOk(n)) return true;
  // Without quorum a node keeps its own non-exclusive primaries (and what it already runs of them),
  // but holds no exclusive resource at all.
  return !slot.exclusive && (name === slot.owner || n.holds.has(slot.id));
}

/**
 * The node in maintenance that holds `slot` by its last word, alive or not (a daemon restarted for an
 * upgrade is gone for a moment): while there is one, no other node starts or stops the slot.
 */
export function frozenBy(slot: Slot, view: View): string | null {
  for (const [name, n] of view.nodes) if (n.maintenance && n.holds.has(slot.id)) return name;
  return null;
}

/** A node that will be eligible once its start-up wait ends: the slot waits for it rather than moving. */
function starting(slot: Slot, name: string, view: View): boolean {
  const n = view.nodes.get(name);
  return !!n && n.alive && !n.leaving && !n.ready && n.active && !n.standby && !n.failed.has(slot.id);
}

/** The eligible holder with the highest claim; a tie goes to the earlier candidate. */
export function currentHolder(slot: Slot, view: View): string | null {
  let best: string | null = null;
  let bestClaim = -1;
  for (const c of slot.candidates) {
    const claim = view.nodes.get(c)?.holds.get(slot.id);
    if (claim === undefined || claim <= bestClaim || !eligible(slot, c, view)) continue;
    best = c;
    bestClaim = claim;
  }
  return best;
}

export function place(slot: Slot, view: View): Placement {
  const current = currentHolder(slot, view);
  const at = (desired: string | null, cause: Cause, waitingForStart = false): Placement => ({ desired, current, waitingForStart, cause });
  const pin = view.pins.get(slot.resource);
  if (pin !== undefined && eligible(slot, pin, view)) return at(pin, { kind: "moved", node: pin });
  const owner = slot.owner;
  // A leftover found at start-up (claim 0) elsewhere waits for a starting owner, which may have found it
  // running too and then keeps it: nodes started together must not hand an owner's slot to a backup.
  if (current !== null && current !== owner && view.nodes.get(current)?.holds.get(slot.id) === 0 && starting(slot, owner, view))
    return at(owner, { kind: "leftover-wait", owner, holder: current }, true);
  if (current !== null) {
    if (current === owner) return at(current, { kind: "primary", node: owner });
    if (!eligible(slot, owner, view)) return at(current, { kind: "owner-down", owner: blocker(slot, owner, view), node: current, holds: true, skipped: [] });
    if (!view.autoFailback) return at(current, { kind: "kept", owner, node: current });
    if (view.nodes.get(current)?.stable.has(owner)) return at(owner, { kind: "failback", owner, from: current });
    return at(current, failbackDelay(owner, current, view));
  }
  const skipped: Blocker[] = [];
  for (const c of slot.candidates) {
    if (eligible(slot, c, view))
      return at(c, c === owner ? { kind: "primary", node: c } : { kind: "owner-down", owner: skipped[0]!, node: c, holds: false, skipped: skipped.slice(1) });
    if (starting(slot, c, view)) return at(c, { kind: "waiting-start", node: c }, true);
    skipped.push(blocker(slot, c, view));
  }
  return at(null, nowhere(slot, view, skipped));
}

/** What keeps a candidate that is not eligible out, first rule first (as eligible() tests them). */
export function blocker(slot: Slot, name: string, view: View): Blocker {
  const n = view.nodes.get(name);
  if (n?.assumedDead) return { node: name, why: "assumed-dead" };
  if (!n || (!n.alive && !n.leaving)) return { node: name, why: "dead", silentMs: n?.silentMs ?? null };
  if (n.leaving) return { node: name, why: "leaving" };
  if (!n.active) return { node: name, why: "inactive" };
  if (n.standby) return { node: name, why: "standby" };
  if (n.failed.has(slot.id)) return { node: name, why: "failed" };
  if (!n.ready) return { node: name, why: "starting" };
  return { node: name, why: n.quorum ? "ping-lost" : "no-quorum" };
}

function failbackDelay(owner: string, holder: string, view: View): Cause {
  const delayMs = view.failbackDelayMs ?? null;
  const up = view.nodes.get(owner)?.upMs ?? null;
  const remainingMs = delayMs === null || up === null ? null : Math.max(0, delayMs - up);
  return { kind: "failback-delay", owner, node: holder, delayMs, remainingMs };
}

/**
 * Why no candidate may hold it. Every candidate failed (or dead): max-failures. Every one dead or kept out
 * by the group rules while this node itself lacks quorum or its ping targets: that, more likely our own
 * isolation than a cluster gone. Otherwise each candidate with its blocker.
 */
function nowhere(slot: Slot, view: View, blocked: readonly Blocker[]): Cause {
  const failed = blocked.filter((b) => b.why === "failed").map((b) => b.node);
  if (failed.length > 0 && blocked.every((b) => b.why === "failed" || b.why === "dead")) return { kind: "max-failures", nodes: failed, failures: view.maxFailures ?? null };
  if (slot.exclusive && blocked.every((b) => b.why === "dead" || b.why === "no-quorum" || b.why === "ping-lost")) {
    const isolated = groupCause(view);
    if (isolated !== null) return isolated;
  }
  return { kind: "nowhere", blocked };
}

/** The deciding node itself lacks quorum or its ping targets (it holds no exclusive resource then); null: it has both. */
export function groupCause(view: View): Cause | null {
  const self = view.self === undefined ? undefined : view.nodes.get(view.self);
  if (self === undefined) return null;
  if (!self.quorum) {
    let alive = 0;
    for (const n of view.nodes.values()) if (n.alive) alive++;
    return { kind: "no-quorum", alive, total: view.nodes.size };
  }
  return self.pingOk === false ? { kind: "ping-lost", node: view.self! } : null;
}
