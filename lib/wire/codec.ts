// Peer packets: "DRCM" | version byte | JSON envelope | HMAC-SHA256 over everything before it.
// The MAC is checked (in constant time) before any JSON is parsed, so an attacker without the key
// can only ever reach a length check, a 5-byte header check and one HMAC.

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { MessageBody } from "../core/types.ts";
import { envelopeSchema } from "./schema.ts";
import { cleanBeatEnvelope, cleanHeartbeatEnvelope } from "./fast-check.ts";

/**
 * 3: heartbeat fan-out (lib/core/heartbeat.ts); a version-2 node would declare version-3 peers dead.
 * 4: `ack` (freshness across restarts, lib/wire/guard.ts): a version-3 node never acks, so a version-4 node would never believe it.
 */
export const PROTOCOL_VERSION = 4;
/** Well under the 65507-byte UDP limit; a heartbeat of a large cluster is a few KiB. */
export const MAX_PACKET_BYTES = 60000;
export const MAGIC = new Uint8Array([0x44, 0x52, 0x43, 0x4d]); // "DRCM"
export const MAC_BYTES = 32;

export type RejectReason =
  | "oversize"
  | "malformed"
  | "bad_version"
  | "bad_mac"
  | "unknown_sender"
  | "bad_source"
  | "replay"
  | "stale_incarnation"
  | "unverified";

export const REJECT_REASONS: readonly RejectReason[] = [
  "oversize",
  "malformed",
  "bad_version",
  "bad_mac",
  "unknown_sender",
  "bad_source",
  "replay",
  "stale_incarnation",
  "unverified",
];

export interface Envelope {
  /** Sender's nodename. */
  readonly from: string;
  /** Sender's incarnation: changes on each start (Date.now() at start). */
  readonly inc: number;
  /** Strictly increasing within one incarnation. */
  readonly seq: number;
  /**
   * Heartbeat link this copy was sent on (0-based; absent: 0). Signed, so a copy recorded on one link
   * cannot be replayed on another: the guard checks the source against that link's keep_alive_ip and
   * keeps the sequence per link (each link carries the same sequence numbers).
   */
  readonly link?: number;
  /**
   * node -> the incarnation the sender last heard from it (lib/wire/guard.ts): a receiver that holds no
   * sequence for the sender believes it only when this acks the receiver's current incarnation, which no
   * packet recorded before that run can. Sent on everything but compact beats.
   */
  readonly ack?: Readonly<Record<string, number>>;
  readonly body: MessageBody;
}

export type DecodeResult = { ok: true; env: Envelope } | { ok: false; reason: RejectReason };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

// HMAC hashes a key longer than the 64-byte block to SHA-256(key) first (RFC 2104), so doing that
// once per key gives the same MAC. The authkey is 2048 bytes: this halves the cost of each MAC.
// Cached by array identity: callers read the key once and never modify it in place.
const HMAC_BLOCK_BYTES = 64;
const shortKeys = new WeakMap<Uint8Array, Uint8Array>();
function hmacKey(key: Uint8Array): Uint8Array {
  if (key.length <= HMAC_BLOCK_BYTES) return key;
  let short = shortKeys.get(key);
  if (short === undefined) {
    short = createHash("sha256").update(key).digest();
    shortKeys.set(key, short);
  }
  return short;
}

export function mac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac("sha256", hmacKey(key)).update(data).digest();
}

/** Constant-time check of the trailing MAC of `bytes` (header and payload before it). */
function verifyTrailingMac(key: Uint8Array, bytes: Uint8Array): boolean {
  if (bytes.length < MAC_BYTES) return false;
  const signed = bytes.subarray(0, bytes.length - MAC_BYTES);
  const got = bytes.subarray(bytes.length - MAC_BYTES);
  return timingSafeEqual(mac(key, signed), got);
}

/** header + payload + MAC(header + payload). */
export function seal(key: Uint8Array, magic: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(magic.length + 1 + payload.length + MAC_BYTES);
  out.set(magic, 0);
  out[magic.length] = PROTOCOL_VERSION;
  out.set(payload, magic.length + 1);
  out.set(mac(key, out.subarray(0, out.length - MAC_BYTES)), out.length - MAC_BYTES);
  return out;
}

/** Checks magic, version and MAC; returns the payload bytes or why they were refused. */
export function open(
  key: Uint8Array,
  magic: Uint8Array,
  bytes: Uint8Array,
): { ok: true; payload: Uint8Array } | { ok: false; reason: "malformed" | "bad_version" | "bad_mac" } {
  if (bytes.length < magic.length + 1 + MAC_BYTES + 2) return { ok: false, reason: "malformed" };
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return { ok: false, reason: "malformed" };
  // Before the MAC: a future version may sign differently, and a clear "bad_version" count is what an
  // operator needs during a rolling upgrade.
  if (bytes[magic.length] !== PROTOCOL_VERSION) return { ok: false, reason: "bad_version" };
  if (!verifyTrailingMac(key, bytes)) return { ok: false, reason: "bad_mac" };
  return { ok: true, payload: bytes.subarray(magic.length + 1, bytes.length - MAC_BYTES) };
}

/** Parses signed JSON; undefined when it is not valid UTF-8 JSON. */
export function parseJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(payload));
  } catch {
    return undefined;
  }
}

export function encode(key: Uint8Array, env: Envelope): Uint8Array {
  const head: { from: string; inc: number; seq: number; link?: number; ack?: Readonly<Record<string, number>> } = { from: env.from, inc: env.inc, seq: env.seq };
  if (env.link) head.link = env.link;
  if (env.ack !== undefined) head.ack = env.ack;
  const payload = encoder.encode(JSON.stringify({ ...head, body: env.body }));
  const packet = seal(key, MAGIC, payload);
  if (packet.length > MAX_PACKET_BYTES) {
    throw new Error(`Cannot encode message from "${env.from}": ${packet.length} bytes is over the ${MAX_PACKET_BYTES}-byte packet limit`);
  }
  return packet;
}

/** Never throws: any input gives either an authenticated, well-formed envelope or a reason. */
export function decode(key: Uint8Array, bytes: Uint8Array): DecodeResult {
  if (bytes.length > MAX_PACKET_BYTES) return { ok: false, reason: "oversize" };
  const opened = open(key, MAGIC, bytes);
  if (!opened.ok) return opened;
  const value = parseJson(opened.payload);
  // The common cases, checked by hand at a fraction of zod's cost (same rules; see fast-check.ts).
  const beat = cleanBeatEnvelope(value);
  if (beat) return { ok: true, env: beat };
  const heartbeat = cleanHeartbeatEnvelope(value);
  if (heartbeat) return { ok: true, env: heartbeat };
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: "malformed" };
  return { ok: true, env: parsed.data };
}
