// Server side of the control channel: TCP on tcpport (every request and reply HMAC-signed by
// lib/wire/control.ts) and a unix socket under run_dir for root on the node (mode 0600: the file
// permission is the authentication, so frames carry plain JSON).
// One request per connection: read one frame, answer, close. Answers come from the serving
// node's live view (api.status()), so they never wait on a peer. A connection that sends nothing
// useful within IDLE_MS is dropped, and so is one whose whole request frame has not arrived within
// REQUEST_DEADLINE_MS of accept, whatever its byte rate (a slowloris sending one byte a second cannot
// keep a slot). Each transport has its own connection limit (MAX_TCP_CONNECTIONS, MAX_UNIX_CONNECTIONS:
// TCP clients can never starve root's unix socket), and one source address holds at most
// MAX_PER_SOURCE of the TCP slots. Anything
// unauthenticated or malformed is counted (exactly), logged with the peer address (rate-limited: see
// RejectionLog below), and answered with
// nothing, except a bad MAC: that gets the unsigned refusal "authentication failed" (and nothing
// more), so the operator with a wrong key is not told the node is down.

import { chmodSync, existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import type { ClusterStatus, OperatorCommand } from "../core/types.ts";
import { CONTROL_NONCE_TTL_MS, decodeRequest, encodeReply, frame, FrameReader, NonceCache } from "../wire/control.ts";
import { commandSchema } from "../wire/schema.ts";
import { parseJson } from "../wire/codec.ts";
import { AUTH_FAILED, encodeRefusal, localRequestSchema, withControlRejections, type NodeInfo } from "../wire/control-protocol.ts";
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
  /** The whole request frame must arrive within this of accept (reason "slow"). */
  readonly requestDeadlineMs?: number;
  /** Concurrent TCP connections (per listener). */
  readonly maxConnections?: number;
  /** Concurrent unix-socket connections, counted apart from TCP. */
  readonly maxUnixConnections?: number;
  /** Concurrent TCP connections from one source address. */
  readonly maxPerSource?: number;
  /** Suppressed rejections are summarized in one line this often. */
  readonly summaryMs?: number;
}

export interface ControlServer {
  close(): void;
  /** The TCP port actually bound (differs from tcpPort only when that was 0; null without TCP). */
  readonly tcpPort: number | null;
  /** Requests refused on this channel, by reason (bad_mac, stale, replay, wrong_target, malformed, oversize, busy, busy_source, idle, slow, unknown). */
  rejected(): Record<string, number>;
}

const IDLE_MS = 2000;
const REQUEST_DEADLINE_MS = 2000;
const MAX_TCP_CONNECTIONS = 32;
const MAX_UNIX_CONNECTIONS = 16;
const MAX_PER_SOURCE = 8;
const SUMMARY_MS = 10_000;
/** Requests are small; a status reply may be large, so only the inbound side is capped this low. */
const MAX_REQUEST_BYTES = 256 * 1024;

type Decoded = { ok: true; by: string; command: string; args: readonly string[]; reply: (r: unknown) => Uint8Array } | { ok: false; reason: string };

export async function startControl(opts: ControlOptions): Promise<ControlServer> {
  const idleMs = opts.idleMs ?? IDLE_MS;
  const deadlineMs = opts.requestDeadlineMs ?? REQUEST_DEADLINE_MS;
  const limit = { tcp: opts.maxConnections ?? MAX_TCP_CONNECTIONS, unix: opts.maxUnixConnections ?? MAX_UNIX_CONNECTIONS };
  const perSource = opts.maxPerSource ?? MAX_PER_SOURCE;
  const nonces = opts.nonces ?? new NonceCache(CONTROL_NONCE_TTL_MS);
  const rejected: Record<string, number> = opts.rejected ?? {};
  const open = { tcp: 0, unix: 0 };
  const bySource = new Map<string, number>();
  const sockets = new Set<Socket>();
  const rlog = rejectionLogFor(rejected, opts.log, opts.summaryMs ?? SUMMARY_MS);

  const reject = (reason: string, peer: string, source: string): void => {
    rejected[reason] = (rejected[reason] ?? 0) + 1;
    rlog.add(reason, source, `Control request from ${peer} rejected: ${reason} (${rejected[reason]} so far)`);
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

  const serve = (decode: (b: Uint8Array) => Decoded, via: "tcp" | "unix") => (sock: Socket) => {
    const source = via === "unix" ? "the unix socket" : (sock.remoteAddress ?? "?");
    const peer = via === "unix" ? "the unix socket" : `tcp ${source}:${sock.remotePort ?? "?"}`;
    if (open[via] >= limit[via]) {
      reject("busy", peer, source);
      sock.destroy();
      return;
    }
    if (via === "tcp" && (bySource.get(source) ?? 0) >= perSource) {
      reject("busy_source", peer, source);
      sock.destroy();
      return;
    }
    open[via]++;
    if (via === "tcp") bySource.set(source, (bySource.get(source) ?? 0) + 1);
    sockets.add(sock);
    let done = false;
    let handled = false;
    const reader = new FrameReader(MAX_REQUEST_BYTES);
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      open[via]--;
      if (via === "tcp") {
        const n = (bySource.get(source) ?? 1) - 1;
        if (n <= 0) bySource.delete(source);
        else bySource.set(source, n);
      }
      sockets.delete(sock);
    };
    // Absolute: not reset by incoming bytes, unlike the idle timeout below.
    const deadline = setTimeout(() => {
      if (done || handled) return;
      reject("slow", peer, source);
      sock.destroy();
    }, deadlineMs);
    sock.setTimeout(idleMs, () => {
      if (!done) reject("idle", peer, source);
      sock.destroy();
    });
    sock.on("close", finish);
    sock.on("error", () => sock.destroy());
    sock.on("data", (chunk: Buffer) => {
      if (handled) return;
      const r = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (!r.ok) {
        handled = true;
        reject(r.reason, peer, source);
        sock.destroy();
        return;
      }
      const first = r.frames[0];
      if (first === undefined) return;
      handled = true;
      clearTimeout(deadline);
      const d = decode(first);
      if (!d.ok) {
        reject(d.reason, peer, source);
        if (d.reason === "bad_mac") sock.end(frame(encodeRefusal(AUTH_FAILED)));
        else sock.destroy();
        return;
      }
      void answer(d, via, peer).then(
        (reply) => {
          if (reply === null) {
            reject("unknown", peer, source);
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

  const withRejected = (i: NodeInfo) => withControlRejections(i, rejected);

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
      // bind() creates the socket file with the process umask (0755 typically), and chmod can only come
      // after it: bound at `path` directly, the socket would be open to every local user for that moment.
      // So it is bound inside a fresh mkdtemp directory next to `path` (mode 0700, ours: nobody else can
      // reach the file in it), made 0600 there, and only then renamed to `path` (same filesystem, atomic).
      // Chosen over process.umask(), which is process-wide and would race any other file the daemon
      // creates meanwhile. The socket stays bound across the rename: connect() resolves the path to it.
      const tmp = mkdtempSync(join(dirname(path), ".drcm-sock-"));
      try {
        const inner = join(tmp, "s");
        await listen(unix, (s, cb) => s.listen(inner, cb));
        servers.push(unix);
        chmodSync(inner, 0o600);
        renameSync(inner, path);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      unixOpen = true;
    } catch (e) {
      // The TCP channel still works: log and go on rather than refuse to start the node.
      opts.log("error", `Cannot open control socket ${path}: ${errorMessage(e)}`);
    }
  }

  const bound = tcp?.address();
  let closed = false;
  return {
    tcpPort: typeof bound === "object" && bound !== null ? bound.port : opts.tcpPort,
    close(): void {
      if (closed) return;
      closed = true;
      for (const s of servers) s.close();
      for (const sock of sockets) sock.destroy();
      rlog.release();
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

/**
 * Rate-limited log of rejected connections (counting is the caller's, and exact). The first rejection of
 * each reason from each source is logged in full at once (a client with the wrong key must not look like
 * a dead node); later ones only in a summary line every `everyMs`, e.g. "4999 more control rejections in
 * the last 10 s: busy 4000, idle 999 from 127.0.0.1", so a flood writes a few lines, not one per
 * connection. A source is logged in full again after a quiet spell of `everyMs` with no rejection at all.
 * Not lib/node/rejections.ts: that one is driven by the driver's tick, summarizes per minute and words
 * its lines for heartbeat packets; this server has no tick, so it arms its own (unref'd) timer.
 */
class RejectionLog {
  /** Source -> reason -> count, since the last summary. */
  readonly #suppressed = new Map<string, Map<string, number>>();
  #suppressedTotal = 0;
  readonly #seen = new Set<string>();
  #last = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  users = 0;

  constructor(
    private readonly log: ControlOptions["log"],
    private readonly everyMs: number,
  ) {}

  add(reason: string, source: string, line: string): void {
    const now = Date.now();
    if (now - this.#last > this.everyMs && this.#suppressedTotal === 0) this.#seen.clear();
    this.#last = now;
    const key = `${reason}\u0000${source}`;
    if (!this.#seen.has(key) && this.#seen.size < FIRST_SEEN_LIMIT) {
      this.#seen.add(key);
      this.log("warn", `${line}; more like it are summarized every ${fmtSeconds(this.everyMs)}`);
      return;
    }
    const m = this.#suppressed.get(source) ?? new Map<string, number>();
    m.set(reason, (m.get(reason) ?? 0) + 1);
    this.#suppressed.set(source, m);
    this.#suppressedTotal++;
    if (this.#timer === null) {
      this.#timer = setTimeout(() => this.flush(), this.everyMs);
      this.#timer.unref?.();
    }
  }

  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#suppressedTotal === 0) return;
    const sources = [...this.#suppressed].map(([src, m]) => ({ src, n: [...m.values()].reduce((a, b) => a + b, 0), m })).sort((a, b) => b.n - a.n);
    const parts = sources.slice(0, 10).map(({ src, m }) => `${[...m].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(", ")} from ${src}`);
    const more = sources.length > 10 ? `; and ${sources.length - 10} more sources` : "";
    this.log("warn", `${this.#suppressedTotal} more control rejections in the last ${fmtSeconds(this.everyMs)}: ${parts.join("; ")}${more}`);
    this.#suppressed.clear();
    this.#suppressedTotal = 0;
  }

  release(): void {
    if (--this.users > 0) return;
    this.flush();
    logs.delete(this.key);
  }

  key: object = {};
}

/** Distinct "reason from source" pairs logged in full; past this (many sources) only summaries. */
const FIRST_SEEN_LIMIT = 64;
const fmtSeconds = (ms: number): string => `${ms % 1000 === 0 ? ms / 1000 : (ms / 1000).toFixed(1)} s`;

/** Servers sharing a `rejected` record (every listener of one node, lib/io/sockets.ts) share one log. */
const logs = new WeakMap<object, RejectionLog>();
function rejectionLogFor(rejected: object, log: ControlOptions["log"], everyMs: number): RejectionLog {
  let r = logs.get(rejected);
  if (r === undefined) {
    r = new RejectionLog(log, everyMs);
    r.key = rejected;
    logs.set(rejected, r);
  }
  r.users++;
  return r;
}
