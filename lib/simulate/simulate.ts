// `drcm --simulate`: the real node drivers of a whole cluster, offline, from a start state through a
// list of what-if events. The result is data (render.ts prints it; --json prints it as it is).
import type { Cluster } from "../config/model.ts";
import { slotsOf } from "../core/slots.ts";
import type { Slot } from "../core/types.ts";
import { applyEvent } from "./apply.ts";
import { VirtualCluster, type Reported } from "./cluster.ts";
import type { SimEvent } from "./events.ts";
import { settle } from "./settle.ts";
import type { StartState } from "./start-state.ts";

/** One event a core reported, timed from the start of its step. */
export interface Change {
  readonly atMs: number;
  readonly reporter: string;
  readonly type: string;
  readonly node?: string;
  readonly slot?: string;
  readonly resource?: string;
  readonly from?: string;
  readonly to?: string;
  readonly message: string;
}

export interface Step {
  readonly event: string;
  /** When the event happened, ms since the first event. */
  readonly atMs: number;
  /** What the event itself came to (nothing to do, a refused command). */
  readonly notes: readonly string[];
  readonly changes: readonly Change[];
  /** False: the bound ran out before the cluster was quiet. */
  readonly settled: boolean;
}

export interface PlacementRow {
  readonly slot: string;
  readonly resource: string;
  readonly nickname: string;
  readonly owner: string;
  /** Nodes whose daemon holds it now. */
  readonly heldBy: readonly string[];
  /** SlotStatus.reason as its holder (else its owner, else the first running node) sees it. */
  readonly reason: string | null;
}

export interface SimResult {
  readonly source: string;
  readonly notes: readonly string[];
  readonly initialSettled: boolean;
  readonly initial: readonly PlacementRow[];
  readonly steps: readonly Step[];
  readonly final: readonly PlacementRow[];
}

/** Event types left out of a transcript: a suspicion that did not become a death is no change. */
const UNSHOWN = new Set(["node_suspect"]);

export function simulate(cluster: Cluster, start: StartState, events: readonly SimEvent[]): SimResult {
  const vc = new VirtualCluster(cluster);
  vc.begin(start);
  const initialSettled = settle(vc);
  const initial = placement(vc);
  const t0 = vc.clock.now;
  const steps: Step[] = [];
  for (const ev of events) {
    const from = vc.reported.length;
    const at = vc.clock.now;
    const notes = applyEvent(vc, ev);
    let settled = true;
    if (ev.kind === "wait") vc.clock.runUntil(at + ev.ms);
    else settled = settle(vc);
    steps.push({ event: ev.text, atMs: at - t0, notes, changes: changesOf(vc.reported.slice(from), at, cluster.server.deadTimeMs), settled });
  }
  return { source: start.source, notes: start.notes, initialSettled, initial, steps, final: placement(vc) };
}

/**
 * Several nodes report the same thing (every peer sees a death): it is shown once, naming the first
 * reporter; a repeat in the same words (an operator command resent against loss) is shown once too. The
 * same node reporting it again in other words is news (a second failure), and so is anything more than
 * one dead_time after its first report.
 */
function changesOf(reported: readonly Reported[], t0: number, windowMs: number): Change[] {
  const shown = new Map<string, { at: number; by: Set<string>; said: Set<string> }>();
  const out: Change[] = [];
  for (const { at, reporter, e } of reported) {
    if (UNSHOWN.has(e.type)) continue;
    const key = [e.type, e.node, e.slot ?? e.resource, e.from, e.to].join("|");
    const last = shown.get(key);
    if (last !== undefined && at - last.at < windowMs && (!last.by.has(reporter) || last.said.has(e.message))) {
      last.by.add(reporter);
      last.said.add(e.message);
      continue;
    }
    shown.set(key, { at, by: new Set([reporter]), said: new Set([e.message]) });
    out.push({ atMs: at - t0, reporter, ...e });
  }
  return out;
}

function placement(vc: VirtualCluster): PlacementRow[] {
  return slotsOf(vc.cluster).map((slot: Slot) => {
    const heldBy = vc.holders(slot.id);
    const viewer = [...heldBy, slot.owner, ...vc.hosts.map((h) => h.name)].find((n) => vc.slotSeenBy(n, slot.id) !== null);
    const reason = viewer === undefined ? "no daemon runs" : vc.slotSeenBy(viewer, slot.id)!.reason;
    return { slot: slot.id, resource: slot.resource, nickname: slot.nickname, owner: slot.owner, heldBy, reason };
  });
}
