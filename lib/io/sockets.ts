// The real Sockets port of the node driver: the UDP heartbeat endpoint and the control channel
// (TCP plus the unix socket under run_dir). A reload that moves a port opens the new socket first and
// closes the old one only on commit (TCP) or when every peer has moved (UDP), so a refused reload
// leaves everything as it was and a port change never leaves a moment with nothing listening.
import type { ControlApi } from "./control.ts";
import { startControl, type ControlServer } from "./control.ts";
import { openUdp, type UdpEndpoint } from "./udp.ts";
import type { OpenResult, SocketSpec, Sockets } from "../node/ports.ts";
import { CONTROL_NONCE_TTL_MS, NonceCache } from "../wire/control.ts";
import { errorMessage } from "../error.ts";

export interface RealSocketsOptions {
  readonly key: Uint8Array;
  /** The unix control socket (fixed for the life of the daemon: run_dir is restart-only). */
  readonly unixPath: string | null;
  readonly api: ControlApi;
  readonly onPacket: (bytes: Uint8Array, srcIp: string, localPort: number) => void;
  readonly onUdpError: (e: Error) => void;
  readonly log: (level: "info" | "warn" | "error", msg: string) => void;
}


export class RealSockets implements Sockets {
  #udp: UdpEndpoint | null = null;
  /** Receivers of earlier specs still open during a udpport move. */
  #oldUdp: UdpEndpoint[] = [];
  #tcp: ControlServer | null = null;
  #unix: ControlServer | null = null;
  /** One nonce cache for every control listener of this daemon: a rebind must not forget seen requests. */
  readonly #nonces = new NonceCache(CONTROL_NONCE_TTL_MS);
  /** Control-channel rejections of every listener, for status. */
  readonly #rejected: Record<string, number> = {};
  #closed = false;

  constructor(private readonly o: RealSocketsOptions) {}

  get udp(): UdpEndpoint | null {
    return this.#udp;
  }

  open(spec: SocketSpec, current: SocketSpec | null, done: (r: OpenResult) => void): void {
    void this.#open(spec, current).then(done, (e: unknown) => done({ ok: false, error: errorMessage(e) }));
  }

  async #open(spec: SocketSpec, current: SocketSpec | null): Promise<OpenResult> {
    const udpChanged = current === null || current.bindHost !== spec.bindHost || current.udpPort !== spec.udpPort || current.sendHost !== spec.sendHost;
    const tcpChanged = current === null || current.bindHost !== spec.bindHost || current.tcpPort !== spec.tcpPort;
    let udp: UdpEndpoint | null = null;
    let tcp: ControlServer | null = null;
    let unix: ControlServer | null = null;
    const abort = () => {
      udp?.close();
      tcp?.close();
      unix?.close();
    };
    try {
      if (udpChanged) {
        const port = spec.udpPort;
        udp = await openUdp({ bindHost: spec.bindHost, port, sendHost: spec.sendHost, onError: this.o.onUdpError }, (bytes, srcIp) =>
          this.o.onPacket(bytes, srcIp, port),
        );
      }
      if (tcpChanged) tcp = await this.#control(spec.bindHost, spec.tcpPort, null);
      if (current === null && this.o.unixPath !== null) unix = await this.#control(spec.bindHost, null, this.o.unixPath);
    } catch (e) {
      abort();
      return { ok: false, error: errorMessage(e) };
    }
    return {
      ok: true,
      commit: () => {
        if (this.#closed) return abort();
        if (udp) {
          if (this.#udp) this.#oldUdp.push(this.#udp);
          this.#udp = udp;
        }
        if (tcp) {
          this.#tcp?.close();
          this.#tcp = tcp;
        }
        if (unix) this.#unix = unix;
      },
      abort,
    };
  }

  #control(host: string, tcpPort: number | null, unixPath: string | null): Promise<ControlServer> {
    return startControl({ tcpHost: host, tcpPort, unixPath, key: this.o.key, api: this.o.api, log: this.o.log, nonces: this.#nonces, rejected: this.#rejected }).catch((e: unknown) => {
      throw new Error(`Cannot listen on TCP ${host}:${tcpPort}: ${errorMessage(e)}`);
    });
  }

  retireOld(): void {
    for (const u of this.#oldUdp) u.close();
    this.#oldUdp = [];
  }

  send(ip: string, port: number, bytes: Uint8Array): void {
    this.#udp?.send(ip, port, bytes);
  }

  close(): void {
    this.#closed = true;
    this.retireOld();
    this.#udp?.close();
    this.#tcp?.close();
    this.#unix?.close();
    this.#udp = null;
    this.#tcp = null;
    this.#unix = null;
  }
}
