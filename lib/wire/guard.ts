// Who may talk to us, from where, and in what order. The MAC proves a packet was made by a key
// holder; the guard makes sure it is a configured peer, sent from that peer's keep_alive_ip, fresh,
// and not a copy of an older packet (replay) or of an older run of that peer (stale incarnation).
//
// Freshness across restarts (ours or the peer's) is a challenge, not a clock: every packet but the
// compact beat carries `ack`, the incarnation the sender last heard from each node. A peer we hold
// no sequence for (we just started, or it did) is believed only from a packet that acks OUR current
// incarnation: a packet recorded before this run started cannot, because incarnations only grow
// (lib/io/incarnation.ts persists the last one). Until then its packets are refused as `unverified`
// (counted, never logged as an attack: every start sees a few) and the driver answers with a `want`,
// which carries our ack of the peer, so the two ends verify each other in one round trip.
// Once a peer is tracked, its incarnation is the highest it has shown: a lower one is never
// accepted again, and within one incarnation the sequence must grow (per link).

import type { Envelope, RejectReason } from "./codec.ts";
import { REJECT_REASONS } from "./codec.ts";

export type GuardResult = { ok: true; restarted: boolean; link: number } | { ok: false; reason: RejectReason };

export interface PeerGuardOptions {
  /** This node's nodename and incarnation: what a peer's packet must ack before the peer is believed. */
  readonly self: string;
  readonly selfInc: number;
}

interface PeerTrack {
  inc: number;
  seq: number;
}

/** "::ffff:192.0.2.1" (an IPv4 peer seen by a dual-stack socket) is the same host as "192.0.2.1". */
export function normalizeIp(ip: string): string {
  const lower = ip.trim().toLowerCase();
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  return m ? m[1]! : lower;
}

export class PeerGuard {
  /** Rejections by reason, for status and logs. */
  readonly counters: Record<RejectReason, number>;
  #ipOf: Map<string, readonly string[]>;
  /** Every configured peer address (normalized): a datagram from anywhere else is refused before its MAC is computed. */
  #sources: Set<string>;
  /** Per sender (and link, "node|k" for k > 0): the incarnation and sequence last accepted. */
  readonly #tracks = new Map<string, PeerTrack>();
  /** node -> highest incarnation seen in an authenticated packet from its address (verified or not): our ack. */
  readonly #claimed = new Map<string, number>();
  #acks: Readonly<Record<string, number>> | null = null;
  readonly #self: string;
  readonly #selfInc: number;

  /**
   * `peers`: nodename -> its keep_alive_ip addresses, one per heartbeat link (already resolved), of every
   * node that may send. Replay state is kept per sender and link: every link carries the same sequence.
   */
  constructor(peers: ReadonlyMap<string, string | readonly string[]>, opts: PeerGuardOptions) {
    this.#ipOf = new Map();
    this.#sources = new Set();
    this.setPeers(peers);
    this.#self = opts.self;
    this.#selfInc = opts.selfInc;
    this.counters = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  }

  /**
   * A reload changed the peers: what is known of the peers that stay is kept (forgetting it would make
   * every packet of theirs recorded during this run acceptable once more); removed peers are forgotten.
   */
  setPeers(peers: ReadonlyMap<string, string | readonly string[]>): void {
    this.#ipOf = new Map([...peers].map(([node, ips]) => [node, (typeof ips === "string" ? [ips] : ips).map(normalizeIp)]));
    this.#sources = new Set([...this.#ipOf.values()].flat());
    for (const id of [...this.#tracks.keys()]) if (!this.#ipOf.has(id.split("|")[0]!)) this.#tracks.delete(id);
    for (const node of [...this.#claimed.keys()])
      if (!this.#ipOf.has(node)) {
        this.#claimed.delete(node);
        this.#acks = null;
      }
  }

  /** Is `sourceIp` one of the configured peer addresses? Checked before the MAC, so spoofed sources cost nothing. */
  knownSource(sourceIp: string): boolean {
    return this.#sources.has(sourceIp) || this.#sources.has(normalizeIp(sourceIp));
  }

  /** What this node's packets ack: node -> the highest incarnation heard from it. The same object until it changes. */
  acks(): Readonly<Record<string, number>> {
    this.#acks ??= Object.fromEntries(this.#claimed);
    return this.#acks;
  }

  /** Count a rejection found before the guard (by decode: bad_mac, malformed, ...). */
  reject(reason: RejectReason): void {
    this.counters[reason]++;
  }

  /** Decides on an authenticated envelope; the sequence state changes only when the packet is accepted. */
  accept(env: Envelope, sourceIp: string): GuardResult {
    const ips = this.#ipOf.get(env.from);
    if (ips === undefined) return this.#refuse("unknown_sender");
    const link = env.link ?? 0;
    const ip = ips[link];
    if (ip === undefined || (sourceIp !== ip && normalizeIp(sourceIp) !== ip)) return this.#refuse("bad_source");

    // Signed by the key and sent from the peer's address: a genuine incarnation of it (maybe an old one).
    const claimed = this.#claimed.get(env.from);
    if (claimed === undefined || env.inc > claimed) {
      this.#claimed.set(env.from, env.inc);
      this.#acks = null;
    }
    // A run of the peer older than one already heard from it is over: its packets can only be copies.
    if (claimed !== undefined && env.inc < claimed) return this.#refuse("stale_incarnation");
    const id = link === 0 ? env.from : `${env.from}|${link}`;
    const track = this.#tracks.get(id);
    if (track !== undefined && env.inc === track.inc) {
      if (env.seq <= track.seq) return this.#refuse("replay");
      track.seq = env.seq;
      return { ok: true, restarted: false, link };
    }
    if (track !== undefined && env.inc < track.inc) return this.#refuse("stale_incarnation");
    // First contact with this run of the peer (or the first since our own start): it must ack our run.
    const ack = env.ack;
    if (ack === undefined || !Object.hasOwn(ack, this.#self) || ack[this.#self] !== this.#selfInc) return this.#refuse("unverified");
    this.#tracks.set(id, { inc: env.inc, seq: env.seq });
    return { ok: true, restarted: track !== undefined, link };
  }

  #refuse(reason: RejectReason): GuardResult {
    this.counters[reason]++;
    return { ok: false, reason };
  }
}
