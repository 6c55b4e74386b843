// The read-only HTTP side of a node (`http_port` in [CM_SERVER], off by default):
//   GET /metrics      Prometheus text exposition (lib/node/metrics-text.ts)
//   GET /status.json  the `status --json` document (lib/client/render-json.ts, schema drcm.status/1)
//   GET /             the live status page (lib/io/http-page.ts), embedded in the binary
//   GET /events       server-sent events for the page: `status` (the status document, on change) and
//                     `events` (cluster events this node reported), a comment every 5 s otherwise
// Nothing here reaches the control commands: there is no route that changes anything, and any
// method but GET and HEAD is 405. Bounds, so a flood of requests cannot delay heartbeats: the request
// line and headers are capped (Bun rejects larger ones), bodies at 1 KiB, at most MAX_IN_FLIGHT
// requests and MAX_STREAMS event streams at a time (503 past that, counted), idle connections closed
// after IDLE_S, and the status is built at most once per CACHE_MS whatever the number of scrapers.
import type { Server } from "bun";
import type { ClusterStatus } from "../core/types.ts";
import type { NodeInfo } from "../wire/control-protocol.ts";
import { errorMessage } from "../error.ts";
import { PAGE_HTML } from "./http-page.ts";

export interface HttpApi {
  status(): ClusterStatus;
  /** Node info with the control-channel rejections merged in (as the control channel's ping answers). */
  info(): NodeInfo;
  /** The `status --json` document (lib/client/render-json.ts, injected: lib/io does not import lib/client). */
  statusJson(status: ClusterStatus, info: NodeInfo, nowWallMs: number): unknown;
  /** The exposition text for this status and info. */
  metrics(status: ClusterStatus, info: NodeInfo): string;
  events(since: number): { events: readonly unknown[]; last: number; missed: boolean };
}

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
  readonly api: HttpApi;
  readonly log: (level: "info" | "warn" | "error", msg: string) => void;
  /** Tests shorten or lower these. */
  readonly cacheMs?: number;
  readonly maxInFlight?: number;
  readonly maxStreams?: number;
}

export interface HttpServer {
  readonly port: number;
  /** Requests refused by reason (busy, method, not_found, too_long). */
  rejected(): Record<string, number>;
  /** Requests served by route. */
  served(): Record<string, number>;
  close(): void;
}

const CACHE_MS = 200;
const MAX_IN_FLIGHT = 64;
const MAX_STREAMS = 16;
const IDLE_S = 10;
const MAX_URL = 2048;
const STREAM_CHECK_MS = 250;
const STREAM_PING_MS = 5000;
/** Rejections are logged at most this often (with the counts since). */
const LOG_EVERY_MS = 60_000;

const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
  // The page uses only what the binary serves: no CDN, no inline script from elsewhere, no framing.
  "Content-Security-Policy": "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export function startHttp(o: HttpOptions): HttpServer {
  const cacheMs = o.cacheMs ?? CACHE_MS;
  const maxInFlight = o.maxInFlight ?? MAX_IN_FLIGHT;
  const maxStreams = o.maxStreams ?? MAX_STREAMS;
  const rejected: Record<string, number> = {};
  const served: Record<string, number> = {};
  let inFlight = 0;
  let streams = 0;
  let lastLog = 0;
  const refuse = (reason: string, status: number, headers: Record<string, string> = {}): Response => {
    rejected[reason] = (rejected[reason] ?? 0) + 1;
    const now = Date.now();
    if (now - lastLog >= LOG_EVERY_MS) {
      lastLog = now;
      o.log("warn", `HTTP requests refused so far: ${Object.entries(rejected).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    }
    return new Response(`${status}\n`, { status, headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...headers } });
  };

  // One snapshot of the node for every reader within cacheMs.
  let snap: { at: number; status: ClusterStatus; info: NodeInfo; json?: string; metrics?: string } | null = null;
  const snapshot = () => {
    const now = Date.now();
    if (snap === null || now - snap.at >= cacheMs) snap = { at: now, status: o.api.status(), info: o.api.info() };
    return snap;
  };
  const statusJson = (): string => {
    const s = snapshot();
    s.json ??= JSON.stringify(o.api.statusJson(s.status, s.info, s.at));
    return s.json;
  };
  const metricsText = (): string => {
    const s = snapshot();
    s.metrics ??= o.api.metrics(s.status, s.info);
    return s.metrics;
  };

  const stream = (req: Request, server: Server<undefined>): Response => {
    if (streams >= maxStreams) return refuse("busy", 503, { "Retry-After": "5" });
    streams++;
    server.timeout(req, 0);
    const enc = new TextEncoder();
    let timer: ReturnType<typeof setInterval> | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      streams--;
      if (timer !== null) clearInterval(timer);
    };
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        let lastJson = "";
        let lastEvent = Math.max(0, o.api.events(0).last - 50);
        let quietSince = Date.now();
        const push = () => {
          if (done) return;
          try {
            const json = statusJson();
            if (json !== lastJson) {
              lastJson = json;
              ctl.enqueue(enc.encode(`event: status\ndata: ${json}\n\n`));
              quietSince = Date.now();
            }
            const ev = o.api.events(lastEvent);
            if (ev.events.length > 0) {
              lastEvent = ev.last;
              ctl.enqueue(enc.encode(`event: events\ndata: ${JSON.stringify({ events: ev.events, missed: ev.missed })}\n\n`));
              quietSince = Date.now();
            }
            if (Date.now() - quietSince >= STREAM_PING_MS) {
              ctl.enqueue(enc.encode(`: ping\n\n`));
              quietSince = Date.now();
            }
          } catch {
            finish();
            try {
              ctl.close();
            } catch {
              // already closed by the client
            }
          }
        };
        ctl.enqueue(enc.encode(`retry: 2000\n\n`));
        push();
        timer = setInterval(push, STREAM_CHECK_MS);
      },
      cancel() {
        finish();
      },
    });
    req.signal.addEventListener("abort", finish);
    return new Response(body, { headers: { ...SECURITY_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive" } });
  };

  const server = Bun.serve({
    hostname: o.host,
    port: o.port,
    idleTimeout: IDLE_S,
    maxRequestBodySize: 1024,
    development: false,
    fetch(req, srv) {
      if (req.url.length > MAX_URL) return refuse("too_long", 414);
      if (req.method !== "GET" && req.method !== "HEAD") return refuse("method", 405, { Allow: "GET, HEAD" });
      const path = new URL(req.url).pathname;
      if (path === "/events") {
        served.events = (served.events ?? 0) + 1;
        return stream(req, srv);
      }
      if (inFlight >= maxInFlight) return refuse("busy", 503, { "Retry-After": "1" });
      inFlight++;
      try {
        switch (path) {
          case "/metrics":
            served.metrics = (served.metrics ?? 0) + 1;
            return new Response(metricsText(), { headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } });
          case "/status.json":
            served.status = (served.status ?? 0) + 1;
            return new Response(statusJson(), { headers: { ...SECURITY_HEADERS, "Content-Type": "application/json; charset=utf-8" } });
          case "/":
          case "/index.html":
            served.page = (served.page ?? 0) + 1;
            return new Response(PAGE_HTML, { headers: { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8" } });
          default:
            return refuse("not_found", 404);
        }
      } finally {
        inFlight--;
      }
    },
    error(e) {
      o.log("error", `HTTP request failed: ${errorMessage(e)}`);
      return new Response("500\n", { status: 500, headers: SECURITY_HEADERS });
    },
  });

  return {
    port: server.port ?? o.port,
    rejected: () => ({ ...rejected }),
    served: () => ({ ...served }),
    close: () => void server.stop(true),
  };
}
