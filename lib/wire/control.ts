// Authenticated request/reply messages of the TCP control channel (console commands).
// Request: "DRCQ" | version | JSON {nonce, ts, to, by, command, args} | HMAC.
// Reply:   "DRCR" | version | JSON {nonce, reply} | HMAC.
// Distinct magics keep the three kinds of signed message (peer packet, request, reply) from being
// passed off as one another. A request is fresh only within CONTROL_MAX_SKEW_MS of the server's wall
// clock and its nonce only once; it names the node it is for (`to`), so a copy sent to another node is
// refused; a reply names the request's nonce, so it cannot answer another one. The server keeps the
// nonces of commands across a restart (lib/io/nonce-file.ts), so a command cannot be replayed to a
// node that restarted within the acceptance window either.

import { z } from "zod";
import { open, parseJson, seal } from "./codec.ts";
import type { NonceCache } from "./nonce.ts";

export { frame, FrameReader, MAX_FRAME_BYTES } from "./frame.ts";
export type { FramePush } from "./frame.ts";
export { NonceCache } from "./nonce.ts";

const REQUEST_MAGIC = new Uint8Array([0x44, 0x52, 0x43, 0x51]); // "DRCQ"
const REPLY_MAGIC = new Uint8Array([0x44, 0x52, 0x43, 0x52]); // "DRCR"
/** Largest accepted |request ts - server wall clock|. */
export const CONTROL_MAX_SKEW_MS = 30_000;
/** What a server's NonceCache must remember a nonce for (the whole acceptance window). */
export const CONTROL_NONCE_TTL_MS = 2 * CONTROL_MAX_SKEW_MS;

export interface ControlRequest {
  /** Random, unique per request (e.g. crypto.randomUUID()). */
  readonly nonce: string;
  /** Sender's wall clock, ms since the epoch. */
  readonly ts: number;
  /** The nodename of the node this request is for: any other node refuses it (wrong_target). */
  readonly to: string;
  /** Who asked (user@host), for the log. */
  readonly by: string;
  readonly command: string;
  readonly args: readonly string[];
}

export type ControlRejectReason = "bad_mac" | "bad_version" | "malformed" | "replay" | "stale" | "wrong_target";

const requestSchema = z.object({
  nonce: z.string().min(8).max(128),
  ts: z.number().finite(),
  to: z.string().min(1).max(256),
  by: z.string().max(256),
  command: z.string().min(1).max(256),
  args: z.array(z.string().max(65536)).max(1024),
});

const replySchema = z.object({ nonce: z.string(), reply: z.unknown() });

const encoder = new TextEncoder();

export function encodeRequest(key: Uint8Array, req: ControlRequest): Uint8Array {
  const { nonce, ts, to, by, command, args } = req;
  return seal(key, REQUEST_MAGIC, encoder.encode(JSON.stringify({ nonce, ts, to, by, command, args })));
}

/**
 * Never throws. `self`: this node's nodename, which the request must name. Records the nonce in `seen`
 * only for a request it accepts; an operator command's nonce is recorded as durable (kept across a restart).
 */
export function decodeRequest(
  key: Uint8Array,
  bytes: Uint8Array,
  nowWallMs: number,
  seen: NonceCache,
  self: string,
): { ok: true; req: ControlRequest } | { ok: false; reason: ControlRejectReason } {
  const opened = open(key, REQUEST_MAGIC, bytes);
  if (!opened.ok) return opened;
  const parsed = requestSchema.safeParse(parseJson(opened.payload));
  if (!parsed.success) return { ok: false, reason: "malformed" };
  const req = parsed.data;
  if (req.to !== self) return { ok: false, reason: "wrong_target" };
  if (Math.abs(req.ts - nowWallMs) > CONTROL_MAX_SKEW_MS) return { ok: false, reason: "stale" };
  if (seen.has(req.nonce, nowWallMs)) return { ok: false, reason: "replay" };
  seen.add(req.nonce, nowWallMs, req.command === "command");
  return { ok: true, req };
}

/** `reply` must be JSON-serialisable. */
export function encodeReply(key: Uint8Array, nonce: string, reply: unknown): Uint8Array {
  return seal(key, REPLY_MAGIC, encoder.encode(JSON.stringify({ nonce, reply: reply ?? null })));
}

/** Never throws. "replay": a genuine reply, but to another request. */
export function decodeReply(
  key: Uint8Array,
  bytes: Uint8Array,
  expectedNonce: string,
): { ok: true; reply: unknown } | { ok: false; reason: Exclude<ControlRejectReason, "stale"> } {
  const opened = open(key, REPLY_MAGIC, bytes);
  if (!opened.ok) return opened;
  const parsed = replySchema.safeParse(parseJson(opened.payload));
  if (!parsed.success) return { ok: false, reason: "malformed" };
  if (parsed.data.nonce !== expectedNonce) return { ok: false, reason: "replay" };
  return { ok: true, reply: parsed.data.reply };
}
