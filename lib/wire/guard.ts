// Who may talk to us, from where, and in what order. The MAC proves a packet was made by a key
// holder; the guard makes sure it is a configured peer, sent from that peer's keep_alive_ip, and
// not a copy of an older packet (replay) or of an older run of that peer (stale incarnation).

import type { Envelope, RejectReason } from "./codec.ts";
import { REJECT_REASONS } from "./codec.ts";

export type GuardResult = { ok: true; restarted: boolean; link: number } | { ok: false; reason: RejectReason };

export interface PeerGuardOptions {
  /**
   * A lower incarnation is accepted (as a restart whose clock went back) only when nothing was
   * accepted from that peer for this long. Use at least the dead time, so a live peer's old packets
   * can never displace it.
   */
  readonly restartGraceMs: number;
}

interface PeerTrack {
  inc: number;
  seq: number;
  /** `now` of the last accepted packet. */
  lastAcceptedAt: number;
  /** Incarnations this peer has left behind: a copy of their packets is never a restart. */
  readonly retired: number[];
}

/** Enough to refuse replays of the last few runs of a peer without growing forever. */
const RETIRED_KEPT = 16;

/** "::ffff:192.0.2.1" (an IPv4 peer seen by a dual-stack socket) is the same host as "192.0.2.1". */
export function normalizeIp(ip: string): string {
  const lower = ip.trim().toLowerCase();
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  return m ? m[1]! : lower;
}

export class PeerGuard {
  /** Rejections by reason, for status and logs. */
  readonly counters: Record<RejectReason, number>;
  readonly #ipOf: Map<string, readonly string[]>;
  readonly #tracks = new Map<string, PeerTrack>();
  readonly #graceMs: number;

  /**
   * `peers`: nodename -> its keep_alive_ip addresses, one per heartbeat link (already resolved), of every
   * node that may send. Replay state is kept per sender and link: every link carries the same sequence.
   */
  constructor(peers: ReadonlyMap<string, string | readonly string[]>, opts: PeerGuardOptions) {
    this.#ipOf = new Map([...peers].map(([node, ips]) => [node, (typeof ips === "string" ? [ips] : ips).map(normalizeIp)]));
    this.#graceMs = opts.restartGraceMs;
    this.counters = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  }

  /** Count a rejection found before the guard (by decode: bad_mac, malformed, ...). */
  reject(reason: RejectReason): void {
    this.counters[reason]++;
  }

  /** Decides on an authenticated envelope; state changes only when the packet is accepted. */
  accept(env: Envelope, sourceIp: string, now: number): GuardResult {
    const ips = this.#ipOf.get(env.from);
    if (ips === undefined) return this.#refuse("unknown_sender");
    const link = env.link ?? 0;
    const ip = ips[link];
    if (ip === undefined || (sourceIp !== ip && normalizeIp(sourceIp) !== ip)) return this.#refuse("bad_source");

    const id = link === 0 ? env.from : `${env.from}|${link}`;
    const track = this.#tracks.get(id);
    if (track === undefined) {
      this.#tracks.set(id, { inc: env.inc, seq: env.seq, lastAcceptedAt: now, retired: [] });
      return { ok: true, restarted: false, link };
    }
    if (env.inc === track.inc) {
      if (env.seq <= track.seq) return this.#refuse("replay");
      track.seq = env.seq;
      track.lastAcceptedAt = now;
      return { ok: true, restarted: false, link };
    }
    // A run the peer has left behind is over for good: its packets can only be copies.
    if (track.retired.includes(env.inc)) return this.#refuse("stale_incarnation");
    if (env.inc < track.inc && now - track.lastAcceptedAt < this.#graceMs) return this.#refuse("stale_incarnation");
    track.retired.push(track.inc);
    if (track.retired.length > RETIRED_KEPT) track.retired.shift();
    track.inc = env.inc;
    track.seq = env.seq;
    track.lastAcceptedAt = now;
    return { ok: true, restarted: true, link };
  }

  #refuse(reason: RejectReason): GuardResult {
    this.counters[reason]++;
    return { ok: false, reason };
  }
}
