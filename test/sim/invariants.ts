// The six invariants of the simulation, checked whenever presence changes and every half interval.
//
// "Once views agree" (invariant 1) is defined as: both holders have a running daemon (not killed, not
// stalled, not stopping) and the link between them is up. From the moment that is true, a duplicate
// of an exclusive resource may last at most dead_time + 4 intervals + 3 script runs (make-before-break
// overlap, a leftover found by a restarted daemon, a healed partition). Invariants 2, 3 and 6 are
// judged only after the cluster has been quiet (no fault, no network change) for their bound.
import type { ClusterEvent } from "../../lib/core/types.ts";
import type { Host, World } from "./world.ts";

export interface Bounds {
  /** Invariant 1: longest tolerated duplicate of an exclusive resource between agreeing nodes. */
  readonly duplicateMs: number;
  /** Invariant 2: a resource with a live eligible node has a holder after this much quiet. */
  readonly holderMs: number;
  /** Invariant 3: failback (slot back on its live owner) after this much quiet. */
  readonly failbackMs: number;
  /** Invariant 6: a minority releases its exclusive resources after this much quiet. */
  readonly minorityMs: number;
}

export function boundsOf(w: World): Bounds {
  const s = w.cluster.server;
  const act = w.actionMs[1];
  const net = w.delayMs[1];
  return {
    duplicateMs: s.deadTimeMs + 4 * s.keepAliveIntervalMs + 3 * act,
    holderMs: s.deadTimeMs + s.keepAliveIntervalMs + 4 * act + 4 * net + (s.fenceScript ? act : 0),
    failbackMs: s.failbackDelayMs + 6 * s.keepAliveIntervalMs + 6 * act,
    minorityMs: s.deadTimeMs + 2 * s.keepAliveIntervalMs + 2 * act,
  };
}

export class Checker {
  readonly #w: World;
  readonly bounds: Bounds;
  readonly #dupSince = new Map<string, number>();
  /** Since when each slot has had a live eligible candidate but no holder. */
  readonly #gapSince = new Map<string, number>();
  /** Longest gap without a holder while a live eligible node existed (figure). */
  maxGapMs = 0;
  /** Longest duplicate seen between agreeing nodes, and longest time to a holder (figures). */
  maxDuplicateMs = 0;
  falseDeaths = 0;
  checks = 0;
  /** Invariants this run checks (a scenario may switch some off, e.g. 4 under heavy loss). */
  readonly enabled = new Set([1, 2, 3, 4, 5, 6]);

  constructor(w: World) {
    this.#w = w;
    this.bounds = boundsOf(w);
  }

  presenceChanged(): void {
    this.#duplicates();
  }

  periodic(): void {
    this.checks++;
    this.#duplicates();
    const w = this.#w;
    const quiet = w.now - w.lastDisturb;
    if (this.enabled.has(2)) this.#holders();
    if (this.enabled.has(3) && quiet >= this.bounds.failbackMs) this.#failback();
    if (this.enabled.has(6) && quiet >= this.bounds.minorityMs) this.#minority();
  }

  /** Invariants 4 and 5: nobody declares a healthy, reachable peer dead (loss, own stall). */
  onEvent(h: Host, e: ClusterEvent): void {
    if (e.type !== "node_dead" || !e.node) return;
    const w = this.#w;
    const y = w.byName.get(e.node);
    if (!y || !w.running(y)) return;
    const dead = w.cluster.server.deadTimeMs;
    if (w.now - (w.lastFault.get(y.name) ?? 0) < dead) return;
    const k = h.name < y.name ? `${h.name}|${y.name}` : `${y.name}|${h.name}`;
    if (w.cuts.has(k) || w.now - (w.linkChanged.get(k) ?? -Infinity) < dead) return;
    if (w.drop > 0.2) return;
    this.falseDeaths++;
    const stalledRecently = w.now - (w.lastFault.get(h.name) ?? 0) < 2 * dead;
    const n = stalledRecently ? 5 : 4;
    if (this.enabled.has(n)) w.fail(`Invariant ${n} violated: ${h.name} declared healthy reachable ${y.name} dead (${e.message})`);
  }

  #agree(a: Host, b: Host): boolean {
    const w = this.#w;
    return w.running(a) && w.running(b) && !w.isCut(a.name, b.name);
  }

  /** Invariant 1. */
  #duplicates(): void {
    if (!this.enabled.has(1)) return;
    const w = this.#w;
    for (const r of w.cluster.resources) {
      if (r.kind !== "ipaddr" && r.kind !== "crontab") continue;
      const id = `${r.kind}:${r.nickname}`;
      const hs = w.hosts.filter((h) => h.present.has(id));
      let pair: [Host, Host] | null = null;
      for (let i = 0; i < hs.length && !pair; i++) for (let j = i + 1; j < hs.length && !pair; j++) if (this.#agree(hs[i]!, hs[j]!)) pair = [hs[i]!, hs[j]!];
      if (!pair) {
        this.#dupSince.delete(id);
        continue;
      }
      const since = this.#dupSince.get(id) ?? w.now;
      this.#dupSince.set(id, since);
      const d = w.now - since;
      if (d > this.maxDuplicateMs) this.maxDuplicateMs = d;
      if (d > this.bounds.duplicateMs)
        w.fail(`Invariant 1 violated: ${id} held by both ${pair[0].name} and ${pair[1].name} for ${d} ms (bound ${this.bounds.duplicateMs} ms)`);
    }
  }

  /** Groups of running hosts that can hear each other. */
  #components(): string[][] {
    const w = this.#w;
    const left = new Set(w.hosts.filter((h) => w.running(h)).map((h) => h.name));
    const out: string[][] = [];
    for (const start of [...left]) {
      if (!left.has(start)) continue;
      const comp = [start];
      left.delete(start);
      for (let i = 0; i < comp.length; i++)
        for (const o of [...left])
          if (!w.isCut(comp[i]!, o)) {
            left.delete(o);
            comp.push(o);
          }
      out.push(comp);
    }
    return out;
  }

  #quorate(comp: readonly string[]): boolean {
    const w = this.#w;
    return w.cluster.server.quorum === "none" || comp.length > w.cluster.nodes.length / 2;
  }

  /** Could this host hold the slot's resource, as ground truth sees it? */
  #eligibleHost(name: string, resource: string): boolean {
    const w = this.#w;
    const h = w.host(name);
    const cfg = w.cluster.nodes.find((n) => n.nodename === name)!;
    return w.running(h) && cfg.active && !h.standby && !h.faulted.has(resource) && !h.startFail.has(resource) && h.pingOk !== false;
  }

  /**
   * Invariant 2: a gap (slot without holder while a live eligible candidate exists) may last at most
   * holderMs, counted from its start or from the last fault, whichever is later. Crontab moves have a
   * short legitimate gap (released before started elsewhere); it is well inside the bound.
   */
  #holders(): void {
    const w = this.#w;
    const gaps = new Set<string>();
    for (const comp of this.#components()) {
      const quorate = this.#quorate(comp);
      for (const s of w.slots) {
        const inComp = s.candidates.filter((c) => comp.includes(c) && this.#eligibleHost(c, s.resource));
        if (inComp.length === 0) continue;
        if (!quorate && (s.exclusive || !inComp.includes(s.owner))) continue;
        const held = comp.some((n) => w.host(n).present.has(s.resource));
        if (held) continue;
        const key = `${s.id}/${comp[0]}`;
        gaps.add(key);
        const since = this.#gapSince.get(key) ?? w.now;
        this.#gapSince.set(key, since);
        const d = w.now - Math.max(since, w.lastDisturb);
        if (w.now - since > this.maxGapMs) this.maxGapMs = w.now - since;
        if (d > this.bounds.holderMs)
          w.fail(`Invariant 2 violated: ${s.id} has live eligible ${inComp.join(", ")} but no holder for ${d} ms since the last fault (bound ${this.bounds.holderMs} ms)`);
      }
    }
    for (const k of [...this.#gapSince.keys()]) if (!gaps.has(k)) this.#gapSince.delete(k);
  }

  /** Invariant 3: with auto_failback, a live eligible owner holds its slots after failback_delay. */
  #failback(): void {
    const w = this.#w;
    if (!w.cluster.server.autoFailback) return;
    for (const comp of this.#components()) {
      if (!this.#quorate(comp)) continue;
      for (const s of w.slots) {
        if (!comp.includes(s.owner) || !this.#eligibleHost(s.owner, s.resource)) continue;
        const owner = w.host(s.owner);
        if (!owner.present.has(s.resource))
          w.fail(`Invariant 3 violated: ${s.id} is not back on its owner ${s.owner} after ${w.now - w.lastDisturb} ms of quiet (bound ${this.bounds.failbackMs} ms)`);
        if (s.exclusive) {
          const others = comp.filter((n) => n !== s.owner && w.host(n).present.has(s.resource));
          if (others.length > 0) w.fail(`Invariant 3 violated: ${s.id} still also on ${others.join(", ")} after failback`);
        }
      }
    }
  }

  /** Invariant 6: a node of a minority partition holds no exclusive resource (majority quorum). */
  #minority(): void {
    const w = this.#w;
    if (w.cluster.server.quorum !== "majority") return;
    for (const comp of this.#components()) {
      if (this.#quorate(comp)) continue;
      for (const n of comp) {
        const held = [...w.host(n).present].filter((r) => r.startsWith("ipaddr:") || r.startsWith("crontab:"));
        if (held.length > 0) w.fail(`Invariant 6 violated: ${n} is in a minority (${comp.join(", ")}) and still holds ${held.join(", ")}`);
      }
    }
  }
}
