// Real sockets on 127.0.0.0/8 only. Each run uses its own 127.a.b.x block (from the pid) so
// parallel runs do not collide.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openUdp, type UdpEndpoint } from "../../lib/io/udp.ts";

const block = `127.${100 + (process.pid % 100)}.${(process.pid >> 7) & 255}`;
const IP_A = `${block}.1`;
const IP_B = `${block}.2`;
const opened: UdpEndpoint[] = [];
afterAll(() => opened.forEach((e) => e.close()));

type Got = { bytes: Uint8Array; ip: string; port: number };
async function endpoint(bindHost: string, sendHost: string, port = 0) {
  const got: Got[] = [];
  const ep = await openUdp({ bindHost, port, sendHost }, (bytes, ip, p) => got.push({ bytes: bytes.slice(), ip, port: p }));
  opened.push(ep);
  return { ep, got };
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(5);
}

/** A port nothing listens on: bind, note it, close. */
async function closedPort(): Promise<number> {
  const s = await Bun.udpSocket({ hostname: "127.0.0.1", port: 0 });
  const port = s.port;
  s.close();
  return port;
}

describe("openUdp", () => {
  test("openUdp() keeps reaching a peer's open port while sending to its closed one (a udpport move)", async () => {
    const a = await endpoint(IP_A, IP_A);
    const b = await endpoint(IP_B, IP_B);
    const closed = await closedPort();
    // Interleaved, as heartbeats during a port move: each refusal from the closed port must not
    // break the socket that reaches the open one.
    for (let i = 0; i < 40; i++) {
      a.ep.send(IP_B, closed, new Uint8Array([9]));
      a.ep.send(IP_B, b.ep.port, new Uint8Array([i]));
      await Bun.sleep(5);
    }
    await until(() => b.got.length >= 38, 1000);
    expect(b.got.length).toBeGreaterThanOrEqual(38);
  });

  test("openUdp() sends to every destination through one socket: no socket per peer, none reopened for a dead one", async () => {
    const a = await endpoint(IP_A, IP_A);
    const b = await endpoint(IP_B, IP_B);
    const dead = await closedPort();
    const fds = () => [...new Bun.Glob("*").scanSync("/proc/self/fd")].length;
    a.ep.send(IP_B, b.ep.port, new Uint8Array([0]));
    await until(() => b.got.length >= 1);
    const before = fds();
    // 30 destinations (the peers of a large cluster), one of them refusing every packet, 10 rounds.
    for (let round = 0; round < 10; round++) {
      for (let k = 0; k < 30; k++) a.ep.send(`${block}.${10 + k}`, dead, new Uint8Array([k]));
      a.ep.send(IP_B, b.ep.port, new Uint8Array([round]));
      await Bun.sleep(5);
    }
    await until(() => b.got.length >= 11, 1000);
    expect(b.got.length).toBe(11);
    expect(fds()).toBeLessThanOrEqual(before + 1);
  });

  test("openUdp() endpoints exchange packets and see each other's address", async () => {
    const a = await endpoint(IP_A, IP_A);
    const b = await endpoint(IP_B, IP_B);
    a.ep.send(IP_B, b.ep.port, new Uint8Array([1, 2, 3]));
    b.ep.send(IP_A, a.ep.port, new Uint8Array([4, 5]));
    await until(() => a.got.length > 0 && b.got.length > 0);
    // Packets leave from a per-destination socket on sendHost (ephemeral port): the address is what peers check.
    expect(b.got.map((g) => [[...g.bytes], g.ip])).toEqual([[[1, 2, 3], IP_A]]);
    expect(a.got.map((g) => [[...g.bytes], g.ip])).toEqual([[[4, 5], IP_B]]);
    expect([a.ep.sent, a.ep.received, a.ep.errors]).toEqual([1, 1, 0]);
  });

  test("openUdp() bound to 0.0.0.0 still sends from sendHost", async () => {
    const a = await endpoint("0.0.0.0", IP_A);
    const b = await endpoint(IP_B, IP_B);
    a.ep.send(IP_B, b.ep.port, new Uint8Array([7]));
    b.ep.send("127.0.0.1", a.ep.port, new Uint8Array([8]));
    await until(() => a.got.length > 0 && b.got.length > 0);
    expect(b.got.map((g) => g.ip)).toEqual([IP_A]);
    expect(a.got.map((g) => [...g.bytes])).toEqual([[8]]);
  });

  test("openUdp() fails to bind a used port with a clear message", async () => {
    const a = await endpoint(IP_A, IP_A);
    await expect(openUdp({ bindHost: IP_A, port: a.ep.port, sendHost: IP_A }, () => {})).rejects.toThrow(
      `Cannot bind UDP ${IP_A}:${a.ep.port}: address in use`,
    );
  });

  test("openUdp() fails on an address this host does not have, naming the sending socket", async () => {
    // 192.0.2.0/24 is TEST-NET-1: never configured on a real host; bind fails locally, nothing is sent.
    await expect(openUdp({ bindHost: "0.0.0.0", port: 0, sendHost: "192.0.2.77" }, () => {})).rejects.toThrow(
      "Cannot bind UDP 192.0.2.77:0 (sending socket): address not available on this host",
    );
  });

  test("send() never throws: oversize, bad address, bad port, after close", async () => {
    const errors: string[] = [];
    const ep = await openUdp({ bindHost: IP_A, port: 0, sendHost: IP_A, onError: (e) => errors.push(e.message) }, () => {});
    opened.push(ep);
    // Each destination has its own sending socket, opened on first use: the errors arrive once it is open.
    ep.send(IP_B, 9, new Uint8Array(70000));
    ep.send("not an address", 9, new Uint8Array(1));
    ep.send("127.0.0.99", 70000, new Uint8Array(1));
    await until(() => ep.errors >= 3);
    expect(ep.errors).toBe(3);
    expect(errors.length).toBe(3);
    ep.close();
    ep.send(IP_B, 9, new Uint8Array(1));
    ep.close();
    expect(ep.errors).toBe(3);
  });

  test("openUdp() counts an exception thrown by onPacket instead of crashing", async () => {
    const a = await openUdp({ bindHost: IP_A, port: 0, sendHost: IP_A }, () => {
      throw new Error("handler bug");
    });
    opened.push(a);
    const b = await endpoint(IP_B, IP_B);
    b.ep.send(IP_A, a.port, new Uint8Array([1]));
    await until(() => a.errors > 0);
    expect([a.received, a.errors]).toEqual([1, 1]);
  });

  // Sending to a dead peer on loopback queues ECONNREFUSED on the socket; without an error handler
  // Bun 1.4.5 ends the process. Run in child processes so a crash shows up as an exit status; both
  // socket layouts run at once to keep the ring fast.
  test("openUdp() node outlives its dead peers (same socket, and 0.0.0.0 + sending socket)", async () => {
    const dead = await closedPort();
    const results = await Promise.all([
      deadPeerChild(`${block}.3`, `${block}.3`, dead),
      deadPeerChild("0.0.0.0", `${block}.4`, dead),
    ]);
    for (const r of results) {
      if (r.code !== 0) console.log(`child (${r.bind}) stderr: ${r.stderr.slice(0, 400)}`);
      expect(r.code).toBe(0);
      expect(r.stats.errors).toBeGreaterThan(10);
      expect(r.stats.sent).toBeGreaterThan(100);
      expect(r.stats.gotLate).toBeGreaterThan(0);
      expect(r.stats.liveGotLate).toBeGreaterThan(0);
    }
  }, 15_000);
});

/** A node on `ip` that sends to a dead port for 2 s while a live peer keeps sending to it. */
async function deadPeerChild(bind: string, ip: string, dead: number) {
  const script = `
    import { openUdp } from ${JSON.stringify(join(import.meta.dir, "../../lib/io/udp.ts"))};
    let got = 0, gotLate = 0, liveGotLate = 0;
    const start = Date.now();
    const node = await openUdp({ bindHost: "${bind}", port: 0, sendHost: "${ip}" }, () => { got++; if (Date.now() - start > 1000) gotLate++; });
    const live = await openUdp({ bindHost: "${ip}", port: 0, sendHost: "${ip}" }, () => { if (Date.now() - start > 1000) liveGotLate++; });
    for (let i = 0; i < 400 && Date.now() - start < 2000; i++) {
      node.send("127.0.0.1", ${dead}, new Uint8Array([i & 255]));
      if (i % 10 === 0) live.send("${ip}", node.port, new Uint8Array([1]));
      // The node keeps reaching its live peer too (Bun 1.4.5 breaks a socket that saw ECONNREFUSED).
      if (i % 10 === 5) node.send("${ip}" === "0.0.0.0" ? "127.0.0.1" : "${ip}", live.port, new Uint8Array([2]));
      await Bun.sleep(5);
    }
    await Bun.sleep(50);
    console.log(JSON.stringify({ errors: node.errors, sent: node.sent, got, gotLate, liveGotLate }));
    node.close(); live.close();
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  const [out, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const stats = (code === 0 ? JSON.parse(out.trim()) : { errors: 0, sent: 0, got: 0, gotLate: 0, liveGotLate: 0 }) as {
    liveGotLate: number;
    errors: number;
    sent: number;
    got: number;
    gotLate: number;
  };
  return { bind, code, stderr, stats };
}
