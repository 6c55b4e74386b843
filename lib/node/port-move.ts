// A reload that changes udpport, make-before-break: nodes reload one after another (a `reload` command
// reaches every node within milliseconds, SIGHUP by hand may take minutes), so for a while some peers
// send to and listen on the old port. This node keeps receiving on the old port and keeps sending there
// to every peer not yet heard on the new one; once all are, or the time bound runs out, the old port closes.

export class PortMove {
  readonly #pending: Set<string>;

  constructor(
    readonly from: number,
    readonly to: number,
    peers: readonly string[],
    private readonly until: number,
  ) {
    this.#pending = new Set(peers);
  }

  /** An accepted packet from `peer` arrived on `localPort`; true when every peer has now moved. */
  heard(peer: string, localPort: number): boolean {
    if (localPort !== this.to || !this.#pending.delete(peer)) return false;
    return this.#pending.size === 0;
  }

  hasHeard(peer: string): boolean {
    return !this.#pending.has(peer);
  }

  notHeard(): string[] {
    return [...this.#pending];
  }

  expired(now: number): boolean {
    return now >= this.until;
  }

  close(): void {
    this.#pending.clear();
  }
}
