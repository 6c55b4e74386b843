// Client side of the control channel: one request, one reply, then close.
// The local node is reached through its unix socket when we can open it (root on the node),
// any node over TCP with a signed request. Timeouts are short on purpose: a down node must cost
// well under a second, never the 5 s per node of 1.x.

import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { decodeReply, encodeRequest, frame, FrameReader } from "../wire/control.ts";
import { parseJson } from "../wire/codec.ts";
import { AUTH_FAILED, decodeRefusal, type LocalRequest } from "../wire/control-protocol.ts";
import { currentUserName } from "./passwd.ts";
import { errorMessage } from "../error.ts";

export interface Endpoint {
  readonly nodename: string;
  /** keep_alive_ip (or name) and tcpport. */
  readonly host: string;
  /** The node's other heartbeat link addresses: tried when `host` cannot be reached. */
  readonly alternates?: readonly string[];
  readonly port: number;
  /** Unix socket to try first (local node only), or null. */
  readonly unixPath: string | null;
}

export interface Timeouts {
  /** TCP connect. */
  readonly connectMs: number;
  /** Whole request, connect included. */
  readonly totalMs: number;
}
const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 300, totalMs: 1000 };

/** `authFailed`: the node answered with the refusal frame, the request's key is not its key. */
export type CallResult = { ok: true; reply: unknown; via: "unix" | "tcp" } | { ok: false; error: string; authFailed?: true };

export interface Caller {
  call(ep: Endpoint, command: string, args: readonly string[], t?: Timeouts): Promise<CallResult>;
}

/** The real channel. `key` null: TCP is impossible (no readable authkey), only the unix socket. */
export function makeCaller(key: Uint8Array | null, by: string, keyError: string | null = null): Caller {
  const noKey = keyError ?? "no readable auth key for TCP";
  return {
    async call(ep, command, args, t = DEFAULT_TIMEOUTS) {
      const started = performance.now();
      if (ep.unixPath !== null && existsSync(ep.unixPath)) {
        const r = await exchange({ path: ep.unixPath }, new TextEncoder().encode(JSON.stringify({ by, command, args: [...args] } satisfies LocalRequest)), t, (b) => {
          const v = parseJson(b);
          return v === undefined ? { ok: false, error: "malformed reply" } : { ok: true, reply: v };
        });
        // EACCES (not root) or a stale file: fall back to TCP within what is left of the budget.
        if (r.ok) return { ok: true, reply: r.reply, via: "unix" };
        if (key === null) return { ok: false, error: `unix socket ${ep.unixPath}: ${r.error.startsWith("no reply") ? `no reply after ${Math.round(performance.now() - started)} ms` : r.error}; ${noKey}` };
      }
      if (key === null) return { ok: false, error: noKey };
      const hosts = [ep.host, ...(ep.alternates ?? [])];
      const viaTcp = (host: string, budget: number, connectMs: number): Promise<Decoded> => {
        const nonce = randomUUID();
        const req = encodeRequest(key, { nonce, ts: Date.now(), to: ep.nodename, by, command, args: [...args] });
        return exchange({ host, port: ep.port }, req, { connectMs: Math.min(connectMs, budget), totalMs: budget }, (b) => {
          const refused = decodeRefusal(b);
          if (refused !== null) return { ok: false, error: refused };
          const d = decodeReply(key, b, nonce);
          return d.ok ? { ok: true, reply: d.reply } : { ok: false, error: `reply rejected: ${d.reason}` };
        });
      };
      let r: Decoded;
      if (hosts.length === 1) r = await viaTcp(ep.host, Math.max(100, t.totalMs - (performance.now() - started)), t.connectMs);
      else if (command === "command") {
        // An operator command must reach the node once: one link after the other, each given a share of the connect time.
        r = { ok: false, error: "no link tried" };
        for (const [i, host] of hosts.entries()) {
          const left = Math.max(100, t.totalMs - (performance.now() - started));
          r = await viaTcp(host, left, Math.max(100, t.connectMs / (hosts.length - i)));
          // Once the request reached a node, another link would run it twice: only a failed connect moves on.
          if (r.ok || r.sent) break;
        }
      } else {
        // Read-only requests go out on every link at once (each with its own nonce); the first answer wins.
        const left = Math.max(100, t.totalMs - (performance.now() - started));
        r = await firstOk(hosts.map((h) => viaTcp(h, left, t.connectMs)));
      }
      if (r.ok) return { ok: true, reply: r.reply, via: "tcp" };
      if (r.error === AUTH_FAILED) return { ok: false, error: r.error, authFailed: true };
      // The time the user waited, not the budget left for the last try ("no reply within 100 ms" after 1.2 s).
      const waited = Math.round(performance.now() - started);
      return { ok: false, error: r.error.startsWith("no reply") ? `no reply after ${waited} ms` : r.error };
    },
  };
}

type Target = { path: string } | { host: string; port: number };

/** The first successful result, or the first one's failure when none succeeds. */
function firstOk(all: Promise<Decoded>[]): Promise<Decoded> {
  return new Promise((resolve) => {
    const results: Decoded[] = [];
    let pending = all.length;
    all.forEach((p, i) =>
      void p.then((r) => {
        results[i] = r;
        pending--;
        if (r.ok) resolve(r);
        else if (pending === 0) resolve(results[0]!);
      }),
    );
  });
}
/** `sent`: the request was written to a connected socket (the node may have acted on it). */
type Decoded = { ok: true; reply: unknown } | { ok: false; error: string; sent?: true };

function exchange(target: Target, request: Uint8Array, t: Timeouts, decode: (b: Uint8Array) => Decoded): Promise<Decoded> {
  return new Promise((resolve) => {
    let settled = false;
    let sock: Socket;
    let sent = false;
    const done = (r: Decoded): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      sock.destroy();
      resolve(!r.ok && sent ? { ...r, sent: true } : r);
    };
    try {
      sock = "path" in target ? createConnection(target.path) : createConnection({ host: target.host, port: target.port });
    } catch (e) {
      resolve({ ok: false, error: errorMessage(e) });
      return;
    }
    const connectTimer = setTimeout(() => done({ ok: false, error: `connect timed out after ${t.connectMs} ms` }), t.connectMs);
    const totalTimer = setTimeout(() => done({ ok: false, error: `no reply within ${t.totalMs} ms` }), t.totalMs);
    const reader = new FrameReader();
    sock.once("connect", () => {
      clearTimeout(connectTimer);
      sent = true;
      sock.write(frame(request));
    });
    sock.on("data", (chunk: Buffer) => {
      const r = reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (!r.ok) return done({ ok: false, error: "reply too large" });
      const f = r.frames[0];
      if (f !== undefined) done(decode(f));
    });
    sock.on("error", (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
    sock.on("close", () => done({ ok: false, error: "connection closed without a reply (refused by the node?)" }));
  });
}

/**
 * `user@hostname`, what the server logs as "who asked". The login name from the password database,
 * not $USER: a root shell from `su` or `sudo -s` may have no $USER or another user's.
 */
export function whoAmI(host: string, user: () => string = currentUserName): string {
  let name = "";
  try {
    name = user();
  } catch {
    name = "";
  }
  return `${name !== "" ? name : `uid${process.getuid?.() ?? "?"}`}@${host}`;
}
