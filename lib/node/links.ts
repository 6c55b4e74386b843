// Heartbeat links (keep_alive_ip lists one address per link): which links of each peer are heard.
// A peer is alive while it is heard on any link (the core's business); a link silent for dead_time
// while the peer is heard on another one is reported once as link_down, and link_up when it is heard
// again. It moves nothing. When a peer is silent on every link it is dead, not "all links down": its
// links are forgotten and judged afresh once it is heard again.
import type { ClusterEvent } from "../core/types.ts";

export interface LinkState {
  readonly node: string;
  /** 0-based link index. */
  readonly link: number;
  readonly address: string;
  /** null: never heard on this link. */
  readonly heardAgeMs: number | null;
  readonly up: boolean;
}

interface Track {
  last: number | null;
  /** Reported down (link_down sent, link_up not yet). */
  down: boolean;
}

export class LinkMonitor {
  readonly #tracks = new Map<string, Track[]>();
  /** When the peer was first heard on any link in its current life (links are judged dead_time after that). */
  readonly #since = new Map<string, number>();

  /** Some peer has more than one link (else every call is a no-op). */
  #multi: boolean;

  constructor(
    /** nodename -> link addresses of every peer. */
    private links: ReadonlyMap<string, readonly string[]>,
    private deadTimeMs: number,
  ) {
    this.#multi = [...links.values()].some((l) => l.length > 1);
  }

  setConfig(links: ReadonlyMap<string, readonly string[]>, deadTimeMs: number): void {
    this.links = links;
    this.deadTimeMs = deadTimeMs;
    this.#multi = [...links.values()].some((l) => l.length > 1);
    for (const node of [...this.#tracks.keys()]) if (!links.has(node)) this.#tracks.delete(node);
  }

  heard(node: string, link: number, now: number): ClusterEvent | null {
    if (!this.#multi) return null;
    const addrs = this.links.get(node);
    if (!addrs || addrs.length < 2) return null;
    const tracks = this.#tracksOf(node, addrs.length);
    if (!this.#alive(tracks, now)) this.#since.set(node, now);
    const t = tracks[link];
    if (!t) return null;
    t.last = now;
    if (!t.down) return null;
    t.down = false;
    return { type: "link_up", node, link: link + 1, message: `Heartbeat link ${link + 1} to ${node} (${addrs[link]}) is up again` };
  }

  /** Links silent for dead_time of peers heard on another link: one link_down each. */
  check(now: number): ClusterEvent[] {
    const out: ClusterEvent[] = [];
    if (!this.#multi) return out;
    for (const [node, addrs] of this.links) {
      if (addrs.length < 2) continue;
      const tracks = this.#tracksOf(node, addrs.length);
      if (!this.#alive(tracks, now)) {
        // Dead (or never heard): the node's death is the news; forget what its links did.
        for (const t of tracks) t.down = false;
        continue;
      }
      const since = this.#since.get(node) ?? now;
      tracks.forEach((t, k) => {
        if (t.down) return;
        const silent = t.last === null ? now - since : now - t.last;
        if (silent < this.deadTimeMs || now - since < this.deadTimeMs) return;
        t.down = true;
        const alive = tracks.map((x, i) => (x.last !== null && now - x.last < this.deadTimeMs ? i + 1 : 0)).filter((i) => i > 0);
        out.push({
          type: "link_down",
          node,
          link: k + 1,
          message: `Heartbeat link ${k + 1} to ${node} (${addrs[k]}) is down: ${t.last === null ? "never heard" : `silent for ${Math.round(silent)} ms`}; ${node} is still heard on link ${alive.join(", ")}`,
        });
      });
    }
    return out;
  }

  /** Ms from `now` until the first link of a live peer reaches dead_time of silence (Infinity: none). */
  nextDownIn(now: number): number {
    let first = Number.POSITIVE_INFINITY;
    if (!this.#multi) return first;
    for (const [node, addrs] of this.links) {
      if (addrs.length < 2) continue;
      const tracks = this.#tracksOf(node, addrs.length);
      if (!this.#alive(tracks, now)) continue;
      const since = this.#since.get(node) ?? now;
      for (const t of tracks) {
        if (t.down) continue;
        const left = Math.max(t.last ?? since, since) + this.deadTimeMs - now;
        if (left < first) first = left;
      }
    }
    return first;
  }

  states(now: number): LinkState[] {
    const out: LinkState[] = [];
    for (const [node, addrs] of this.links) {
      if (addrs.length < 2) continue;
      const tracks = this.#tracksOf(node, addrs.length);
      tracks.forEach((t, k) =>
        out.push({ node, link: k, address: addrs[k]!, heardAgeMs: t.last === null ? null : Math.round(now - t.last), up: t.last !== null && now - t.last < this.deadTimeMs }),
      );
    }
    return out;
  }

  #alive(tracks: readonly Track[], now: number): boolean {
    return tracks.some((t) => t.last !== null && now - t.last < this.deadTimeMs);
  }

  #tracksOf(node: string, n: number): Track[] {
    let t = this.#tracks.get(node);
    if (!t || t.length !== n) {
      t = Array.from({ length: n }, () => ({ last: null, down: false }));
      this.#tracks.set(node, t);
    }
    return t;
  }
}
