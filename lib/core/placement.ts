// Placement: (slot, view) -> who should hold it. Pure: every node computes the same answer from the
// same view, so there is no first-come-first-served race between backups.
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
}

export interface View {
  readonly nodes: ReadonlyMap<string, NodeView>;
  readonly autoFailback: boolean;
  /** Operator `move` pins: resource id -> node. */
  readonly pins: ReadonlyMap<string, string>;
}

export interface Placement {
  /** Where the slot should be (null: nowhere). May name a node that is still starting (not ready). */
  readonly desired: string | null;
  /** The eligible holder with the highest claim (null: none). */
  readonly current: string | null;
  /** The desired node is not ready yet: nobody starts the slot until it is. */
  readonly waitingForStart: boolean;
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
  const pin = view.pins.get(slot.resource);
  if (pin !== undefined && eligible(slot, pin, view)) return { desired: pin, current, waitingForStart: false };
  // A leftover found at start-up (claim 0) elsewhere waits for a starting owner, which may have found it
  // running too and then keeps it: nodes started together must not hand an owner's slot to a backup.
  if (current !== null && current !== slot.owner && view.nodes.get(current)?.holds.get(slot.id) === 0 && starting(slot, slot.owner, view))
    return { desired: slot.owner, current, waitingForStart: true };
  if (current !== null) {
    if (current !== slot.owner && view.autoFailback && eligible(slot, slot.owner, view) && view.nodes.get(current)?.stable.has(slot.owner))
      return { desired: slot.owner, current, waitingForStart: false };
    return { desired: current, current, waitingForStart: false };
  }
  for (const c of slot.candidates) {
    if (eligible(slot, c, view)) return { desired: c, current, waitingForStart: false };
    if (starting(slot, c, view)) return { desired: c, current, waitingForStart: true };
  }
  return { desired: null, current, waitingForStart: false };
}
