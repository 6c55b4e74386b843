// Requests and replies of the control channel, shared by the client (lib/client) and the server
// side (lib/io/control.ts). The bytes are signed by lib/wire/control.ts on TCP; on the local unix
// socket (mode 0600, root only) the same JSON travels in plain frames.
//   ping    -> { ok, info }
//   status  -> { ok, info, status }
//   command -> { ok, message }        args[0] = the OperatorCommand as JSON

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
