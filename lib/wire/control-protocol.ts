// Requests and replies of the control channel, shared by the client side (lib/io/control-client.ts,
// lib/client) and the server side (lib/io/control.ts). The bytes are signed by lib/wire/control.ts on
// TCP; on the local unix socket (mode 0600, root only) the same JSON travels in plain frames.
//   ping    -> { ok, info }
//   status  -> { ok, info, status }
//   command -> { ok, message }        args[0] = the OperatorCommand as JSON
// A TCP request whose MAC does not verify gets one unsigned refusal frame, "DRCE" + reason, then
// the connection closes: without it a wrong key looks exactly like a dead node.

import { z } from "zod";
import type { OperatorCommand } from "../core/types.ts";
import { clusterStatusSchema } from "./status.ts";

const nodeInfoSchema = z.object({
  nodename: z.string(),
  version: z.string(),
  uptimeMs: z.number(),
  /** Packets and control requests the node refused since it started, by reason. */
  rejected: z.record(z.string(), z.number()),
  /**
   * Configured nodes whose packets carried another protocol version in the last minute (counted as
   * bad_version): an old drcm during a rolling upgrade. Absent from older builds.
   */
  otherVersion: z.array(z.object({ node: z.string(), version: z.number() })).optional(),
});
/** Who answered: ControlApi.info() on the server, the `info` of ping and status replies. */
export type NodeInfo = z.infer<typeof nodeInfoSchema>;

/** The node's packet rejections with the control channel's merged in as `control_<reason>` (how ping, status and /metrics report them). */
export function withControlRejections(info: NodeInfo, control: Readonly<Record<string, number>>): NodeInfo {
  const rejected: Record<string, number> = { ...info.rejected };
  for (const [k, v] of Object.entries(control)) rejected[`control_${k}`] = v;
  return { ...info, rejected };
}

/** Unix-socket request: no nonce or MAC, the socket's permissions are the authentication. */
export const localRequestSchema = z.object({
  by: z.string().max(256),
  command: z.string().min(1).max(256),
  args: z.array(z.string().max(65536)).max(64),
});
export type LocalRequest = z.infer<typeof localRequestSchema>;

export const pingReplySchema = z.object({ ok: z.literal(true), info: nodeInfoSchema });
export const statusReplySchema = z.object({ ok: z.literal(true), info: nodeInfoSchema, status: clusterStatusSchema });
export const commandReplySchema = z.object({ ok: z.boolean(), message: z.string() });

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
