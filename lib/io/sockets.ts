// The real Sockets port of the node driver: the UDP heartbeat endpoint and the control channel
// (TCP plus the unix socket under run_dir). A reload that moves a port opens the new socket first and
// closes the old one only on commit (TCP) or when every peer has moved (UDP), so a refused reload
// leaves everything as it was and a port change never leaves a moment with nothing listening.
import type { ControlApi } from "./control.ts";
import { startControl, type ControlServer } from "./control.ts";
import { openUdp, type UdpEndpoint } from "./udp.ts";
import type { OpenResult, SocketSpec, Sockets } from "../node/ports.ts";
import { CONTROL_NONCE_TTL_MS, NonceCache } from "../wire/control.ts";
import { DurableNonceCache } from "./nonce-file.ts";
import { errorMessage } from "../error.ts";

export interface RealSocketsOptions {
  readonly key: Uint8Array;
  /** This node's nodename (signed control requests must name it). */
  readonly self: string;
  /** Where the nonces of control commands are kept across restarts (null: memory only). */
  readonly noncesFile: string | null;
  /** The unix control socket (fixed for the life of the daemon: run_dir is restart-only). */
  readonly unixPath: string | null;
  readonly api: ControlApi;
  readonly onPacket: (bytes: Uint8Array, srcIp: string, localPort: number) => void;
  readonly onUdpError: (e: Error) => void;
  readonly log: (level: "info" | "warn" | "error", msg: string) => void;
}


/** The addresses a spec listens and sends on, per link (link 0 first). */
function linksOfSpec(spec: SocketSpec): { bindHost: string | null; sendHost: string }[] {
  return [{ bindHost: spec.bindHost, sendHost: spec.sendHost }, ...(spec.more ?? []).map((m) => ({ bindHost: m.bindHost, sendHost: m.sendHost }))];
}
const linksKey = (spec: SocketSpec | null): string => (spec === null ? "" : JSON.stringify(linksOfSpec(spec)));

export class RealSockets implements Sockets {
  /** One endpoint per heartbeat link (index = link). */
  #udp: UdpEndpoint[] = [];
  /** Receivers of earlier specs still open during a udpport move. */
  #oldUdp: UdpEndpoint[] = [];
  /** One control listener per address (the first link's, then each further link's own). */
  #tcp: ControlServer[] = [];
  #unix: ControlServer | null = null;
  /** One nonce cache for every control listener of this daemon: a rebind must not forget seen requests. */
  readonly #nonces: NonceCache;
  /** Control-channel rejections of every listener, for status. */
  readonly #rejected: Record<string, number> = {};
  #closed = false;

  constructor(private readonly o: RealSocketsOptions) {
    this.#nonces =
      o.noncesFile === null
        ? new NonceCache(CONTROL_NONCE_TTL_MS)
        : new DurableNonceCache(o.noncesFile, CONTROL_NONCE_TTL_MS, { warn: (m) => o.log("warn", m), error: (m) => o.log("error", m) });
  }

  /** Control-channel rejections of every listener so far, by reason. */
  controlRejected(): Record<string, number> {
    return { ...this.#rejected };
  }

  /** The first link's endpoint. */
  get udp(): UdpEndpoint | null {
    return this.#udp[0] ?? null;
  }

  open(spec: SocketSpec, current: SocketSpec | null, done: (r: OpenResult) => void): void {
    void this.#open(spec, current).then(done, (e: unknown) => done({ ok: false, error: errorMessage(e) }));
  }

  async #open(spec: SocketSpec, current: SocketSpec | null): Promise<OpenResult> {
    const udpChanged = current === null || current.udpPort !== spec.udpPort || linksKey(current) !== linksKey(spec);
    const tcpChanged = current === null || current.tcpPort !== spec.tcpPort || linksKey(current) !== linksKey(spec);
    const udp: UdpEndpoint[] = [];
    const tcp: ControlServer[] = [];
    let unix: ControlServer | null = null;
    const abort = () => {
      for (const u of udp) u.close();
      for (const t of tcp) t.close();
      unix?.close();
    };
    try {
      const links = linksOfSpec(spec);
      if (udpChanged) {
        const port = spec.udpPort;
        for (const l of links)
          udp.push(
            await openUdp(
              { bindHost: l.bindHost ?? l.sendHost, port, sendHost: l.sendHost, onError: this.o.onUdpError, receive: l.bindHost !== null },
              (bytes, srcIp) => this.o.onPacket(bytes, srcIp, port),
            ),
          );
      }
      if (tcpChanged) for (const l of links) if (l.bindHost !== null) tcp.push(await this.#control(l.bindHost, spec.tcpPort, null));
      if (current === null && this.o.unixPath !== null) unix = await this.#control(spec.bindHost, null, this.o.unixPath);
    } catch (e) {
      abort();
      return { ok: false, error: errorMessage(e) };
    }
    return {
      ok: true,
      commit: () => {
        if (this.#closed) return abort();
        if (udp.length > 0) {
          this.#oldUdp.push(...this.#udp);
          this.#udp = udp;
        }
        if (tcp.length > 0) {
          for (const t of this.#tcp) t.close();
          this.#tcp = tcp;
        }
        if (unix) this.#unix = unix;
      },
      abort,
    };
  }

  #control(host: string, tcpPort: number | null, unixPath: string | null): Promise<ControlServer> {
    return startControl({ tcpHost: host, tcpPort, unixPath, key: this.o.key, self: this.o.self, api: this.o.api, log: this.o.log, nonces: this.#nonces, rejected: this.#rejected }).catch((e: unknown) => {
      throw new Error(`Cannot listen on TCP ${host}:${tcpPort}: ${errorMessage(e)}`);
    });
  }

  retireOld(): void {
    for (const u of this.#oldUdp) u.close();
    this.#oldUdp = [];
  }

  send(ip: string, port: number, bytes: Uint8Array, link = 0): void {
    this.#udp[link]?.send(ip, port, bytes);
  }

  close(): void {
    this.#closed = true;
    this.retireOld();
    for (const u of this.#udp) u.close();
    for (const t of this.#tcp) t.close();
    this.#unix?.close();
    this.#udp = [];
    this.#tcp = [];
    this.#unix = null;
  }
}
