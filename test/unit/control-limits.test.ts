// The control server under abuse (issue 18, item 3): slow clients, floods of rejected connections, and
// the unix socket's mode from the moment it exists.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCaller } from "../../lib/io/control-client.ts";
import { startControl, type ControlOptions, type ControlServer } from "../../lib/io/control.ts";
import { decodeReply, encodeRequest, frame, FrameReader } from "../../lib/wire/control.ts";
import { healthy } from "../fixtures/golden/scenarios.ts";

const key = new TextEncoder().encode("k".repeat(64));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function server(extra: Partial<ControlOptions> = {}): Promise<{ s: ControlServer; unixPath: string; dir: string; logs: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), `drcm-limits-${process.pid}-`));
  const unixPath = join(dir, "drcm-cmnode1.sock");
  const logs: string[] = [];
  const s = await startControl({
    tcpHost: "0.0.0.0",
    tcpPort: 0,
    unixPath,
    key,
    self: "cmnode1",
    log: (level, msg) => logs.push(`${level} ${msg}`),
    api: {
      status: () => healthy,
      events: () => ({ events: [], last: 0, missed: false }),
      command: async (cmd) => ({ ok: true, message: `${cmd.op} done` }),
      info: () => ({ nodename: "cmnode1", version: "2.0.0", uptimeMs: 5, rejected: {} }),
    },
    ...extra,
  });
  cleanups.push(() => {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { s, unixPath, dir, logs };
}

/** A client that announces a 100-byte frame and then sends one byte every 200 ms; resolves `closed` when the server hangs up. */
function slowClient(port: number): { sock: Socket; closed: Promise<number> } {
  const started = performance.now();
  const sock = connect({ host: "127.0.0.1", port });
  sock.on("error", () => {});
  let timer: ReturnType<typeof setInterval> | undefined;
  sock.on("connect", () => {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, 100);
    let i = 0;
    timer = setInterval(() => {
      if (i < 4) sock.write(head.subarray(i, i + 1));
      else sock.write("x");
      i++;
    }, 200);
  });
  const closed = new Promise<number>((resolve) =>
    sock.on("close", () => {
      clearInterval(timer);
      resolve(performance.now() - started);
    }),
  );
  cleanups.push(() => sock.destroy());
  return { sock, closed };
}

/** A signed ping over TCP from `localAddress` (127.0.0.2 is another loopback source); resolves with the reply or an error. */
function signedPing(port: number, localAddress: string): Promise<{ ok: boolean; ms: number; reply?: unknown }> {
  const started = performance.now();
  const nonce = crypto.randomUUID();
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port, localAddress }, () =>
      sock.write(frame(encodeRequest(key, { nonce, ts: Date.now(), to: "cmnode1", by: "t@h", command: "ping", args: [] }))),
    );
    const reader = new FrameReader();
    const t = setTimeout(() => sock.destroy(), 3000);
    sock.on("data", (b: Buffer) => {
      const r = reader.push(new Uint8Array(b));
      const f = r.ok ? r.frames[0] : undefined;
      if (f === undefined) return;
      const d = decodeReply(key, f, nonce);
      clearTimeout(t);
      sock.destroy();
      resolve({ ok: d.ok, ms: performance.now() - started, reply: d.ok ? d.reply : undefined });
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(t);
      resolve({ ok: false, ms: performance.now() - started });
    });
  });
}

test("40 slowloris connections from one host starve neither the unix socket nor another host, and each is closed by the absolute deadline", async () => {
  const { s, unixPath } = await server({ requestDeadlineMs: 1500 });
  const port = s.tcpPort!;
  const slow = Array.from({ length: 40 }, () => slowClient(port));
  await Bun.sleep(700); // every slow client has sent a few bytes; the idle timer (2 s) alone would keep them all
  const t0 = performance.now();
  const local = await makeCaller(null, "root@host").call({ nodename: "cmnode1", host: "127.0.0.1", port, unixPath }, "command", [JSON.stringify({ op: "standby", node: "cmnode1" })]);
  const unixMs = performance.now() - t0;
  expect(local).toMatchObject({ ok: true, via: "unix", reply: { ok: true, message: "standby done" } });
  const other = await signedPing(port, "127.0.0.2");
  expect(other.ok).toBe(true);
  expect(other.reply).toMatchObject({ ok: true, info: { nodename: "cmnode1" } });
  expect(unixMs).toBeLessThan(300);
  expect(other.ms).toBeLessThan(300);
  // At most 8 of the 40 got a slot; the others were turned away at once.
  expect(s.rejected().busy_source).toBe(32);
  // The admitted ones kept sending a byte every 200 ms and are still dropped ~1.5 s after accept.
  const lifetimes = await Promise.all(slow.map((c) => c.closed));
  expect(Math.max(...lifetimes)).toBeLessThan(2200);
  expect(s.rejected().slow).toBe(8);
  expect(s.rejected().idle).toBeUndefined();
  console.log(`unix standby under the flood: ${unixMs.toFixed(1)} ms; TCP ping from 127.0.0.2: ${other.ms.toFixed(1)} ms; slowest slow client closed after ${Math.max(...lifetimes).toFixed(0)} ms`);
});

test("a full TCP side (every slot taken, from several hosts) leaves the unix socket its own slots", async () => {
  const { s, unixPath } = await server({ maxConnections: 4, maxPerSource: 2, requestDeadlineMs: 1500 });
  const port = s.tcpPort!;
  const hold = ["127.0.0.1", "127.0.0.1", "127.0.0.3", "127.0.0.3"].map((localAddress) => {
    const c = connect({ host: "127.0.0.1", port, localAddress });
    c.on("error", () => {});
    cleanups.push(() => c.destroy());
    return c;
  });
  await Bun.sleep(100);
  expect(await signedPing(port, "127.0.0.2")).toMatchObject({ ok: false });
  expect(s.rejected().busy).toBe(1);
  const local = await makeCaller(null, "root@host").call({ nodename: "cmnode1", host: "127.0.0.1", port, unixPath }, "ping", []);
  expect(local).toMatchObject({ ok: true, via: "unix" });
  for (const c of hold) c.destroy();
});

test("a flood of rejected connections logs the first of each reason per source, then one exact summary", async () => {
  const { s, logs } = await server({ summaryMs: 1500 });
  const port = s.tcpPort!;
  const garbage = frame(new TextEncoder().encode("hello"));
  const one = (localAddress: string) =>
    new Promise<void>((resolve) => {
      const c = connect({ host: "127.0.0.1", port, localAddress }, () => c.write(garbage));
      c.on("error", () => {});
      c.on("close", () => resolve());
    });
  // Batches of 6 + 1 stay under the per-source cap (8), so every connection is rejected for the same reason.
  for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: 7 }, (_, j) => one(j === 0 ? "127.0.0.2" : "127.0.0.1")));
  expect(s.rejected()).toEqual({ malformed: 350 });
  const rejectLines = () => logs.filter((l) => l.includes("rejected") || l.includes("rejections"));
  expect(rejectLines().length).toBe(2);
  expect(rejectLines()[0]).toMatch(/^warn Control request from tcp 127\.0\.0\.[12]:\d+ rejected: malformed \(\d+ so far\); more like it are summarized every 1\.5 s$/);
  await Bun.sleep(1600);
  expect(rejectLines().length).toBe(3);
  expect(rejectLines()[2]).toBe("warn 348 more control rejections in the last 1.5 s: malformed 299 from 127.0.0.1; malformed 49 from 127.0.0.2");
});

test("the unix socket is never reachable with a mode wider than 0600, even under umask 000", async () => {
  const dir = mkdtempSync(join(tmpdir(), `drcm-umask-${process.pid}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "drcm-cmnode1.sock");
  // Another process stats the path as fast as it can and reports every mode it saw.
  const watcher = Bun.spawn(
    ["bun", "-e", `const fs=require("node:fs");const seen=new Set();const end=Date.now()+4000;while(Date.now()<end){try{seen.add((fs.statSync(${JSON.stringify(path)}).mode&0o777).toString(8))}catch{}}console.log([...seen].join(","))`],
    { stdout: "pipe" },
  );
  const old = process.umask(0);
  try {
    await Bun.sleep(300);
    for (let i = 0; i < 30; i++) {
      const s = await startControl({
        tcpHost: "127.0.0.1",
        tcpPort: null,
        unixPath: path,
        key,
        self: "cmnode1",
        log: () => {},
        api: { status: () => healthy, events: () => ({ events: [], last: 0, missed: false }), command: async () => ({ ok: true, message: "" }), info: () => ({ nodename: "cmnode1", version: "2", uptimeMs: 0, rejected: {} }) },
      });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir)).toEqual(["drcm-cmnode1.sock"]); // the private bind directory is gone
      s.close();
      await Bun.sleep(20);
    }
  } finally {
    process.umask(old);
  }
  const seen = (await new Response(watcher.stdout).text()).trim();
  expect(seen).toBe("600");
});
