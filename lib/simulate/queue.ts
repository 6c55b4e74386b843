// The virtual clock of a simulation: a min-heap of timed calls. Nothing sleeps; `runUntil` jumps from
// one due call to the next. Ties keep insertion order, so a run is the same every time.
interface Timed {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

const less = (a: Timed, b: Timed): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class VirtualClock {
  /** Simulated milliseconds since the simulation began. */
  now = 0;
  #heap: Timed[] = [];
  #seq = 0;

  at(t: number, run: () => void): void {
    const h = this.#heap;
    h.push({ at: Math.max(t, this.now), seq: this.#seq++, run });
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  after(ms: number, run: () => void): void {
    this.at(this.now + ms, run);
  }

  /** Runs every call due up to `t`, then sets the clock to `t`. */
  runUntil(t: number): void {
    for (;;) {
      const next = this.#heap[0];
      if (!next || next.at > t) break;
      this.#pop();
      this.now = next.at;
      next.run();
    }
    this.now = Math.max(this.now, t);
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
