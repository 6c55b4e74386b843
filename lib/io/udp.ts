// The UDP edge: one socket receives on bindHost:port; packets leave from sendHost (the node's
// keep_alive_ip) so that peers' source-address check passes even when the receiver is bound to
// 0.0.0.0. A dead peer is the normal case: sending to it makes the kernel queue ECONNREFUSED on the
// socket, which Bun reports through the socket's error handler (and, without one, ends the process).
// Every error here is counted and handed to onError, never thrown after the sockets are open.

export interface UdpOptions {
  readonly bindHost: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Source address of everything sent: this node's keep_alive_ip. */
  readonly sendHost: string;
  /** Told about every counted error (for a rate-limited log line); must not throw. */
  readonly onError?: (err: Error) => void;
  /** false: send only (another endpoint's wildcard receiver gets this link's packets); `port` is then 0. */
  readonly receive?: boolean;
}

export interface UdpEndpoint {
  /** Never throws: a failed send (dead peer, oversize, closed) is counted in `errors`. */
  send(host: string, port: number, bytes: Uint8Array): void;
  close(): void;
  /** The bound receive port (useful when `port` was 0). */
  readonly port: number;
  /** Socket errors, failed sends and exceptions thrown by onPacket. */
  readonly errors: number;
  readonly sent: number;
  readonly received: number;
}

type PacketHandler = (bytes: Uint8Array, srcIp: string, srcPort: number) => void;

const WHY: Record<string, string> = {
  EADDRINUSE: "address in use",
  EADDRNOTAVAIL: "address not available on this host",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOENT: "cannot resolve host",
  EINVAL: "invalid address",
};

function bindError(host: string, port: number, err: unknown, what: string): Error {
  const code = (err as { code?: unknown } | null)?.code;
  const why = (typeof code === "string" ? WHY[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
  return new Error(`Cannot bind UDP ${host}:${port}${what}: ${why}`);
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

export async function openUdp(opts: UdpOptions, onPacket: PacketHandler): Promise<UdpEndpoint> {
  let errors = 0;
  let sent = 0;
  let received = 0;
  let closed = false;

  const fail = (err: unknown): void => {
    errors++;
    try {
      opts.onError?.(asError(err));
    } catch {
      // A logging failure must not turn a counted error into a crash.
    }
  };

  const handler = {
    data(_socket: unknown, data: Uint8Array, port: number, address: string): void {
      received++;
      try {
        onPacket(data, address, port);
      } catch (err) {
        fail(err);
      }
    },
    // Bun 1.4.5 calls error(err) with the socket as `this`; its types say error(socket, err).
    // Take the last argument so both shapes count the same error.
    error(...args: unknown[]): void {
      fail(args[args.length - 1]);
    },
  };

  const bindSocket = async (host: string, port: number, what: string) => {
    try {
      return await Bun.udpSocket({ hostname: host, port, binaryType: "uint8array", socket: handler });
    } catch (err) {
      throw bindError(host, port, err, what);
    }
  };

  // Bun 1.4.5: once a socket has seen ECONNREFUSED (an ICMP port unreachable for something it sent),
  // it neither sends nor receives any more. So the receiving socket never sends, and every
  // destination (address and port) gets its own sending socket bound to sendHost: a dead peer breaks
  // only its own socket, which is replaced on the next send to it.
  const receiver = opts.receive === false ? null : await bindSocket(opts.bindHost, opts.port, "");
  // Fail fast at start when sendHost is not an address of this host.
  const probe = await bindSocket(opts.sendHost, 0, " (sending socket)").catch((err) => {
    receiver?.close();
    throw err;
  });
  probe.close();

  interface Sender {
    socket: import("bun").udp.Socket<"uint8array"> | null;
    broken: boolean;
    opening: boolean;
    /** The newest packet asked for while the socket was being (re)opened. */
    pending: { port: number; bytes: Uint8Array } | null;
  }
  const senders = new Map<string, Sender>();

  const transmit = (entry: Sender, host: string, port: number, bytes: Uint8Array): void => {
    try {
      // false = the kernel buffer is full; the packet is lost like any other UDP loss.
      if (entry.socket!.send(bytes, port, host)) sent++;
      else fail(new Error(`UDP send to ${host}:${port} dropped: socket buffer full`));
    } catch (err) {
      entry.broken = true;
      fail(err);
    }
  };

  const reopen = (entry: Sender, host: string): void => {
    entry.opening = true;
    try {
      entry.socket?.close();
    } catch {
      // already closed by Bun after its error
    }
    entry.socket = null;
    Bun.udpSocket({
      hostname: opts.sendHost,
      port: 0,
      binaryType: "uint8array",
      socket: {
        data() {
          // Peers answer nothing on this socket.
        },
        error(...args: unknown[]) {
          entry.broken = true;
          fail(args[args.length - 1]);
        },
      },
    }).then(
      (socket) => {
        entry.opening = false;
        if (closed) {
          socket.close();
          return;
        }
        entry.socket = socket;
        entry.broken = false;
        const p = entry.pending;
        entry.pending = null;
        if (p) transmit(entry, host, p.port, p.bytes);
      },
      (err) => {
        entry.opening = false;
        entry.pending = null;
        fail(err);
      },
    );
  };

  return {
    send(host, port, bytes) {
      if (closed) return;
      // Per destination address and port: during a udpport move one of the two ports is closed, and
      // the ICMP refusals it draws must not break the socket that reaches the other.
      const dest = `${host}|${port}`;
      let entry = senders.get(dest);
      if (!entry) {
        entry = { socket: null, broken: true, opening: false, pending: null };
        senders.set(dest, entry);
      }
      if (entry.broken || entry.socket === null) {
        entry.pending = { port, bytes };
        if (!entry.opening) reopen(entry, host);
        return;
      }
      transmit(entry, host, port, bytes);
    },
    close() {
      if (closed) return;
      closed = true;
      receiver?.close();
      for (const e of senders.values()) {
        try {
          e.socket?.close();
        } catch {
          // already closed
        }
      }
      senders.clear();
    },
    port: receiver?.port ?? 0,
    get errors() {
      return errors;
    },
    get sent() {
      return sent;
    },
    get received() {
      return received;
    },
  };
}
