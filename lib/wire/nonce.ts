// Nonces of control requests seen recently. A request is valid only within CONTROL_MAX_SKEW_MS of
// its timestamp, so a nonce has to be remembered only until its request could no longer pass the
// timestamp check; older entries are pruned.

export class NonceCache {
  /** nonce -> last wall ms at which it is still remembered (inclusive). Map order = insertion order = oldest first. */
  readonly #expiry = new Map<string, number>();

  /**
   * `ttlMs` must cover the whole acceptance window (2 x the allowed clock skew), so a request first
   * seen at the early edge is still remembered at the late edge. `maxEntries` bounds memory; past
   * it the oldest nonce is dropped (only key holders can make fresh nonces, so this is not a replay
   * opening for outsiders).
   */
  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number = 10000,
  ) {}

  get size(): number {
    return this.#expiry.size;
  }

  has(nonce: string, now: number): boolean {
    this.#prune(now);
    return this.#expiry.has(nonce);
  }

  /**
   * `durable`: the request changes something (an operator command), so its nonce must outlive a
   * restart; a subclass that persists (lib/io/nonce-file.ts) stores it. Read-only requests are not
   * worth a disk write: a copy of one only makes the node answer what the copy's sniffer already saw.
   */
  add(nonce: string, now: number, durable = false): void {
    void durable;
    this.#prune(now);
    this.#expiry.delete(nonce);
    this.#expiry.set(nonce, now + this.ttlMs);
    while (this.#expiry.size > this.maxEntries) {
      const oldest = this.#expiry.keys().next().value;
      if (oldest === undefined) break;
      this.#expiry.delete(oldest);
    }
  }

  /** Remembers `nonce` until the wall ms `until` (a nonce kept across a restart). */
  restore(nonce: string, until: number): void {
    this.#expiry.delete(nonce);
    this.#expiry.set(nonce, until);
  }

  #prune(now: number): void {
    // Entries were added with a non-decreasing `now` in the normal case, so expired ones sit at the
    // front; stop at the first live one. A wall clock stepped back only delays pruning.
    for (const [nonce, until] of this.#expiry) {
      if (until >= now) break;
      this.#expiry.delete(nonce);
    }
  }
}
