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

  // Everything leaves through one sending socket bound to sendHost (the receiver may be bound to the
  // wildcard). Sending to a dead peer draws an ICMP port unreachable; Linux (Bun sets IP_RECVERR) then
  // fails the socket's *next* send with ECONNREFUSED without sending it, whoever it is for. That send is
  // made once more at once (the error is consumed by the failure), so a dead peer costs its own packets
  // only. (Until this release there was a socket per destination, which a dead peer made Bun reopen on
  // every beat: 20 socket/bind/close a second for nothing.)
  const receiver = opts.receive === false ? null : await bindSocket(opts.bindHost, opts.port, "");
  const sendHandler = {
    data(): void {
      // Peers answer nothing on this socket.
    },
    error(...args: unknown[]): void {
      fail(args[args.length - 1]);
    },
  };
  type SendSocket = import("bun").udp.Socket<"uint8array">;
  // Fail fast at start when sendHost is not an address of this host.
  let sender: SendSocket | null;
  try {
    sender = await Bun.udpSocket({ hostname: opts.sendHost, port: 0, binaryType: "uint8array", socket: sendHandler });
  } catch (err) {
    receiver?.close();
    throw bindError(opts.sendHost, 0, err, " (sending socket)");
  }
  let opening = false;
  /** Asked for while the sending socket is being reopened (bounded: the newest are kept). */
  let pending: { host: string; port: number; bytes: Uint8Array }[] = [];
  const PENDING_MAX = 256;

  const reopen = (): void => {
    opening = true;
    const opened = (socket: SendSocket): void => {
      opening = false;
      if (closed) {
        socket.close();
        return;
      }
      sender = socket;
      const queued = pending;
      pending = [];
      for (const p of queued) transmit(socket, p.host, p.port, p.bytes);
    };
    const failed = (err: unknown): void => {
      opening = false;
      pending = [];
      fail(err);
    };
    // Bun.udpSocket throws at once for some errors and rejects for others.
    new Promise<SendSocket>((resolve) => resolve(Bun.udpSocket({ hostname: opts.sendHost, port: 0, binaryType: "uint8array", socket: sendHandler }))).then(opened, failed);
  };

  const transmit = (socket: SendSocket, host: string, port: number, bytes: Uint8Array): void => {
    let ok: boolean;
    try {
      ok = socket.send(bytes, port, host);
    } catch {
      // An earlier packet's ICMP error, reported on this send (see above): this one was not sent.
      try {
        ok = socket.send(bytes, port, host);
      } catch (err) {
        fail(err);
        if (socket.closed && sender === socket) sender = null;
        return;
      }
    }
    // false = the kernel buffer is full; the packet is lost like any other UDP loss.
    if (ok) sent++;
    else fail(new Error(`UDP send to ${host}:${port} dropped: socket buffer full`));
  };

  return {
    send(host, port, bytes) {
      if (closed) return;
      if (sender === null || sender.closed) {
        sender = null;
        if (pending.length >= PENDING_MAX) pending.shift();
        pending.push({ host, port, bytes });
        if (!opening) reopen();
        return;
      }
      transmit(sender, host, port, bytes);
    },
    close() {
      if (closed) return;
      closed = true;
      receiver?.close();
      try {
        sender?.close();
      } catch {
        // already closed
      }
      sender = null;
      pending = [];
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
