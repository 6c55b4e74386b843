// A min-heap of timed events; ties keep insertion order, so runs are deterministic.
export interface Timed {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

export class EventQueue {
  #h: Timed[] = [];
  #seq = 0;
  get size(): number {
    return this.#h.length;
  }
  push(at: number, run: () => void): void {
    const h = this.#h;
    h.push({ at, seq: this.#seq++, run });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  peek(): Timed | undefined {
    return this.#h[0];
  }
  pop(): Timed | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const less = (a: Timed, b: Timed): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);
