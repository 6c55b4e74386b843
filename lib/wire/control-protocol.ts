// Requests and replies of the control channel, shared by the client side (lib/io/control-client.ts,
// lib/client) and the server side (lib/io/control.ts). The bytes are signed by lib/wire/control.ts on
// TCP; on the local unix socket (mode 0600, root only) the same JSON travels in plain frames.
//   ping    -> { ok, info }
//   status  -> { ok, info, status }
//   command -> { ok, message }        args[0] = the OperatorCommand as JSON
// A TCP request whose MAC does not verify gets one unsigned refusal frame, "DRCE" + reason, then
// the connection closes: without it a wrong key looks exactly like a dead node.

import { z } from "zod";
import type { ClusterStatus, OperatorCommand } from "../core/types.ts";
import { RESOURCE_KINDS } from "../config/model.ts";

export const REQUESTS = ["ping", "status", "command"] as const;
export type RequestName = (typeof REQUESTS)[number];

export interface NodeInfo {
  readonly nodename: string;
  readonly version: string;
  readonly uptimeMs: number;
  readonly rejected: Record<string, number>;
}

/** Unix-socket request: no nonce or MAC, the socket's permissions are the authentication. */
export interface LocalRequest {
  readonly by: string;
  readonly command: string;
  readonly args: readonly string[];
}

const info = z.looseObject({
  nodename: z.string(),
  version: z.string(),
  uptimeMs: z.number(),
  rejected: z.record(z.string(), z.number()),
});

const nodeStatus = z.looseObject({
  nodename: z.string(),
  hostname: z.string(),
  ip: z.string(),
  self: z.boolean(),
  state: z.enum(["starting", "alive", "suspect", "dead", "inactive", "standby", "leaving"]),
  heartbeatAgeMs: z.number().nullable(),
  configDiffers: z.boolean(),
  quorum: z.boolean().nullable(),
  pingOk: z.boolean().nullable(),
  uptimeMs: z.number().nullable(),
});

const slotStatus = z.looseObject({
  slot: z.string(),
  resource: z.string(),
  kind: z.enum(RESOURCE_KINDS),
  nickname: z.string(),
  owner: z.string(),
  candidates: z.array(z.string()),
  holders: z.array(z.looseObject({ node: z.string(), role: z.enum(["primary", "backup"]), claim: z.number(), heldMs: z.number() })),
  desired: z.string().nullable(),
  lastWatch: z.looseObject({ ok: z.boolean(), ageMs: z.number(), detail: z.string() }).nullable(),
  failCount: z.number(),
  failedOn: z.array(z.string()),
  reason: z.string().nullable(),
});

export const clusterStatusSchema = z.looseObject({
  self: z.string(),
  quorum: z.looseObject({ policy: z.enum(["majority", "none"]), has: z.boolean(), alive: z.number(), total: z.number() }),
  nodes: z.array(nodeStatus),
  slots: z.array(slotStatus),
});

export const pingReplySchema = z.looseObject({ ok: z.literal(true), info });
export const statusReplySchema = z.looseObject({ ok: z.literal(true), info, status: clusterStatusSchema });
export const commandReplySchema = z.looseObject({ ok: z.boolean(), message: z.string() });

export type PingReply = { ok: true; info: NodeInfo };
export type StatusReply = { ok: true; info: NodeInfo; status: ClusterStatus };
export type CommandReply = { ok: boolean; message: string };

export const encodeCommandArgs = (cmd: OperatorCommand): string[] => [JSON.stringify(cmd)];

/** Magic of the unsigned refusal frame (distinct from the signed "DRCQ"/"DRCR"). */
const REFUSAL_MAGIC = "DRCE";
export const AUTH_FAILED = "authentication failed";
/** The only reasons a client prints as sent: the frame is unsigned, so anyone on the path can forge one. */
const REFUSAL_REASONS = [AUTH_FAILED] as const;

export const encodeRefusal = (reason: (typeof REFUSAL_REASONS)[number]): Uint8Array => new TextEncoder().encode(`${REFUSAL_MAGIC}${reason}`);

/** The reason of a refusal frame ("refused" when the text is not one we know), or null when it is not one. */
export function decodeRefusal(bytes: Uint8Array): string | null {
  if (bytes.length < REFUSAL_MAGIC.length || bytes.length > 256) return null;
  const text = new TextDecoder().decode(bytes);
  if (!text.startsWith(REFUSAL_MAGIC)) return null;
  const reason = text.slice(REFUSAL_MAGIC.length);
  return (REFUSAL_REASONS as readonly string[]).includes(reason) ? reason : "refused";
}
