// Server side of the control channel: TCP on tcpport (every request and reply HMAC-signed by
// lib/wire/control.ts) and a unix socket under run_dir for root on the node (mode 0600: the file
// permission is the authentication, so frames carry plain JSON).
// One request per connection: read one frame, answer, close. Answers come from the serving
// node's live view (api.status()), so they never wait on a peer. A connection that sends nothing
// useful within IDLE_MS is dropped; beyond MAX_CONNECTIONS new ones are dropped at once. Anything
// unauthenticated or malformed is counted, logged with the peer address, and answered with
// nothing, except a bad MAC: that gets the unsigned refusal "authentication failed" (and nothing
// more), so the operator with a wrong key is not told the node is down.

import { chmodSync, existsSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { ClusterStatus, OperatorCommand } from "../core/types.ts";
import { CONTROL_NONCE_TTL_MS, decodeRequest, encodeReply, frame, FrameReader, NonceCache } from "../wire/control.ts";
import { commandSchema } from "../wire/schema.ts";
import { parseJson } from "../wire/codec.ts";
import { AUTH_FAILED, encodeRefusal, localRequestSchema, type NodeInfo } from "../wire/control-protocol.ts";
import { errorMessage } from "../error.ts";

export interface ControlApi {
  status(): ClusterStatus;
  /** Events this node reported after number `since` (see lib/node/recent.ts). */
  events(since: number): { events: readonly unknown[]; last: number; missed: boolean };
  command(cmd: OperatorCommand, by: string): Promise<{ ok: boolean; message: string }>;
  info(): NodeInfo;
}

export interface ControlOptions {
  readonly tcpHost: string;
  /** null: no TCP listener (a unix-socket-only server; a reload can rebind TCP without touching it). */
  readonly tcpPort: number | null;
  readonly unixPath: string | null;
  readonly key: Uint8Array;
  /** This node's nodename: a signed request must name it (a copy sent to another node is refused). */
  readonly self: string;
  readonly api: ControlApi;
  readonly log: (level: "info" | "warn" | "error", msg: string) => void;
  /** Seen request nonces; pass one cache to every server of a node so a rebind does not forget them. */
  readonly nonces?: NonceCache;
  /** Rejections by reason; pass one record to every server of a node so status counts them all. */
  readonly rejected?: Record<string, number>;
  /** Tests shorten these. */
  readonly idleMs?: number;
  readonly maxConnections?: number;
}

export interface ControlServer {
  close(): void;
  /** The TCP port actually bound (differs from tcpPort only when that was 0; null without TCP). */
  readonly tcpPort: number | null;
  /** Requests refused on this channel, by reason (bad_mac, stale, replay, malformed, oversize, busy, idle, unknown). */
  rejected(): Record<string, number>;
}

const IDLE_MS = 2000;
const MAX_CONNECTIONS = 32;
/** Requests are small; a status reply may be large, so only the inbound side is capped this low. */
const MAX_REQUEST_BYTES = 256 * 1024;

type Decoded = { ok: true; by: string; command: string; args: readonly string[]; reply: (r: unknown) => Uint8Array } | { ok: false; reason: string };

export async function startControl(opts: ControlOptions): Promise<ControlServer> {
  const idleMs = opts.idleMs ?? IDLE_MS;
  const max = opts.maxConnections ?? MAX_CONNECTIONS;
  const nonces = opts.nonces ?? new NonceCache(CONTROL_NONCE_TTL_MS);
  const rejected: Record<string, number> = opts.rejected ?? {};
  let open = 0;
  const sockets = new Set<Socket>();

  const reject = (reason: string, peer: string): void => {
    rejected[reason] = (rejected[reason] ?? 0) + 1;
    opts.log("warn", `Control request from ${peer} rejected: ${reason} (${rejected[reason]} so far)`);
  };

  const decodeTcp = (bytes: Uint8Array): Decoded => {
    const d = decodeRequest(opts.key, bytes, Date.now(), nonces, opts.self);
    if (!d.ok) return d;
    const { nonce, by, command, args } = d.req;
    return { ok: true, by, command, args, reply: (r) => encodeReply(opts.key, nonce, r) };
  };
  const decodeLocal = (bytes: Uint8Array): Decoded => {
    const p = localRequestSchema.safeParse(parseJson(bytes));
    if (!p.success) return { ok: false, reason: "malformed" };
    return { ok: true, ...p.data, reply: (r) => new TextEncoder().encode(JSON.stringify(r)) };
  };

  const serve = (decode: (b: Uint8Array) => Decoded, via: string) => (sock: Socket) => {
    const peer = via === "unix" ? "the unix socket" : `tcp ${sock.remoteAddress ?? "?"}:${sock.remotePort ?? "?"}`;
    if (open >= max) {
      reject("busy", peer);
      sock.destroy();
      return;
    }
    open++;
    sockets.add(sock);
    let done = false;
    const reader = new FrameReader(MAX_REQUEST_BYTES);
    const finish = () => {
      if (done) return;
      done = true;
      open--;
      sockets.delete(sock);
    };
    sock.setTimeout(idleMs, () => {
      if (!done) reject("idle", peer);
      sock.destroy();
    });
    sock.on("close", finish);
    sock.on("error", () => sock.destroy());
    let handled = false;
    sock.on("data", (chunk: Buffer) => {
      if (handled) return;
      const r = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (!r.ok) {
        handled = true;
        reject(r.reason, peer);
        sock.destroy();
        return;
      }
      const first = r.frames[0];
      if (first === undefined) return;
      handled = true;
      const d = decode(first);
      if (!d.ok) {
        reject(d.reason, peer);
        if (d.reason === "bad_mac") sock.end(frame(encodeRefusal(AUTH_FAILED)));
        else sock.destroy();
        return;
      }
      void answer(d, via, peer).then(
        (reply) => {
          if (reply === null) {
            reject("unknown", peer);
            sock.destroy();
            return;
          }
          sock.end(frame(d.reply(reply)));
        },
        (e: unknown) => {
          opts.log("error", `Control request "${d.command}" from ${d.by} failed: ${errorMessage(e)}`);
          sock.destroy();
        },
      );
    });
  };

  const answer = async (d: Extract<Decoded, { ok: true }>, via: string, peer: string): Promise<unknown | null> => {
    switch (d.command) {
      case "ping":
        return { ok: true, info: withRejected(opts.api.info()) };
      case "status":
        return { ok: true, info: withRejected(opts.api.info()), status: opts.api.status() };
      case "events": {
        const since = Number(d.args[0] ?? "0");
        if (!Number.isSafeInteger(since) || since < 0) return null;
        return { ok: true, info: withRejected(opts.api.info()), ...opts.api.events(since) };
      }
      case "command": {
        const parsed = commandSchema.shape.command.safeParse(parseJson(new TextEncoder().encode(d.args[0] ?? "")));
        if (!parsed.success) return null;
        const by = `${d.by || "unknown"} via ${peer}`;
        opts.log("info", `Operator command ${JSON.stringify(parsed.data)} requested by ${by}`);
        return await opts.api.command(parsed.data, by);
      }
      default:
        return null;
    }
  };

  const withRejected = (i: ReturnType<ControlApi["info"]>) => {
    const merged: Record<string, number> = { ...i.rejected };
    for (const [k, v] of Object.entries(rejected)) merged[`control_${k}`] = v;
    return { ...i, rejected: merged };
  };

  const servers: Server[] = [];
  let tcp: Server | null = null;
  if (opts.tcpPort !== null) {
    const port = opts.tcpPort;
    tcp = createServer({ pauseOnConnect: false }, serve(decodeTcp, "tcp"));
    await listen(tcp, (s, cb) => s.listen({ host: opts.tcpHost, port, exclusive: true }, cb));
    servers.push(tcp);
  }
  let unixOpen = false;

  if (opts.unixPath !== null) {
    const path = opts.unixPath;
    try {
      await clearStaleSocket(path);
      const unix = createServer(serve(decodeLocal, "unix"));
      await listen(unix, (s, cb) => s.listen(path, cb));
      chmodSync(path, 0o600);
      servers.push(unix);
      unixOpen = true;
    } catch (e) {
      // The TCP channel still works: log and go on rather than refuse to start the node.
      opts.log("error", `Cannot open control socket ${path}: ${errorMessage(e)}`);
    }
  }

  const bound = tcp?.address();
  return {
    tcpPort: typeof bound === "object" && bound !== null ? bound.port : opts.tcpPort,
    close(): void {
      for (const s of servers) s.close();
      for (const sock of sockets) sock.destroy();
      if (opts.unixPath !== null && unixOpen) rmSync(opts.unixPath, { force: true });
    },
    rejected: () => ({ ...rejected }),
  };
}

function listen(server: Server, start: (s: Server, cb: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once("error", onError);
    start(server, () => {
      server.off("error", onError);
      server.on("error", () => {});
      resolve();
    });
  });
}

/** A socket file left by a killed daemon is removed; one that still answers belongs to a live drcm. */
async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const live = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    const t = setTimeout(() => {
      c.destroy();
      resolve(false);
    }, 300);
    c.once("connect", () => {
      clearTimeout(t);
      c.destroy();
      resolve(true);
    });
    c.once("error", () => {
      clearTimeout(t);
      resolve(false);
    });
  });
  if (live) throw new Error("another drcm is answering on it");
  rmSync(path, { force: true });
}
