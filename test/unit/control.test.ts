// The control channel end to end in one process: startControl() against the real client caller.
import { RecentEvents } from "../../lib/node/recent.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCaller } from "../../lib/io/control-client.ts";
import { decodeRefusal } from "../../lib/wire/control-protocol.ts";
import { startControl, type ControlServer } from "../../lib/io/control.ts";
import type { OperatorCommand } from "../../lib/core/types.ts";
import { encodeRequest, frame } from "../../lib/wire/control.ts";
import { healthy } from "../fixtures/golden/scenarios.ts";

const key = new TextEncoder().encode("k".repeat(64));
const dir = mkdtempSync(join(tmpdir(), `drcm-control-${process.pid}-`));
const unixPath = join(dir, "drcm-cmnode1.sock");
const logs: string[] = [];
const commands: { cmd: OperatorCommand; by: string }[] = [];
let server: ControlServer;
const recent = new RecentEvents();

beforeAll(async () => {
  server = await startControl({
    tcpHost: "127.0.0.1",
    tcpPort: 0,
    unixPath,
    key,
    self: "cmnode1",
    idleMs: 150,
    maxConnections: 3,
    log: (level, msg) => logs.push(`${level} ${msg}`),
    api: {
      status: () => healthy,
      events: (since) => recent.since(since),
      command: async (cmd, by) => {
        commands.push({ cmd, by });
        return { ok: cmd.op !== "reload", message: `${cmd.op} done` };
      },
      info: () => ({ nodename: "cmnode1", version: "2.0.0", uptimeMs: 5, rejected: { bad_mac: 2 } }),
    },
  });
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const tcp = () => ({ nodename: "cmnode1", host: "127.0.0.1", port: server.tcpPort!, unixPath: null });

/** Sends raw bytes and reports whether anything came back before the server closed. */
function raw(bytes: Uint8Array): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    const s = connect(server.tcpPort!, "127.0.0.1", () => s.write(bytes));
    s.on("data", (d) => (got += d.length));
    s.on("close", () => resolve(got));
    s.on("error", () => {});
    setTimeout(() => s.destroy(), 2000);
  });
}

/** Sends raw bytes and returns everything that came back before the server closed. */
function rawBytes(bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    const s = connect(server.tcpPort!, "127.0.0.1", () => s.write(bytes));
    s.on("data", (d: Buffer) => got.push(d));
    s.on("close", () => resolve(new Uint8Array(Buffer.concat(got))));
    s.on("error", () => {});
    setTimeout(() => s.destroy(), 2000);
  });
}

test("startControl() answers an events request with what came after the given number", async () => {
  recent.add({ type: "node_dead", node: "cmnode2", message: "Node cmnode2 is dead" }, 1000);
  recent.add({ type: "takeover", node: "cmnode2", slot: "ipaddr:vip@cmnode2", message: "takeover" }, 1001);
  const r = await makeCaller(key, "alice@host").call(tcp(), "events", ["1"]);
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  const reply = r.reply as { events: { seq: number; event: { type: string } }[]; last: number; missed: boolean };
  expect(reply.events.map((e) => `${e.seq} ${e.event.type}`)).toEqual(["2 takeover"]);
  expect(reply.last).toBe(2);
  expect(reply.missed).toBe(false);
});

test("startControl() answers a signed status request over TCP from the live view", async () => {
  const r = await makeCaller(key, "alice@host").call(tcp(), "status", []);
  expect(r.ok).toBe(true);
  if (!r.ok) return;
  expect(r.via).toBe("tcp");
  expect(r.reply).toMatchObject({ ok: true, info: { nodename: "cmnode1" }, status: { self: "cmnode1" } });
  expect((r.reply as { info: { rejected: Record<string, number> } }).info.rejected.bad_mac).toBe(2);
});

test("startControl() answers on the unix socket, which only root can open", async () => {
  expect(statSync(unixPath).mode & 0o777).toBe(0o600);
  const r = await makeCaller(null, "root@host").call({ ...tcp(), unixPath }, "ping", []);
  expect(r).toMatchObject({ ok: true, via: "unix", reply: { ok: true, info: { nodename: "cmnode1" } } });
});

test("startControl() drops a request signed with another key, and counts and logs it with the peer", async () => {
  const before = server.rejected().bad_mac ?? 0;
  const r = await makeCaller(new TextEncoder().encode("wrong"), "eve@host").call(tcp(), "status", []);
  expect(r).toEqual({ ok: false, error: "authentication failed", authFailed: true });
  expect(server.rejected().bad_mac).toBe(before + 1);
  expect(logs.some((l) => l.startsWith("warn Control request from tcp 127.0.0.1:") && l.includes("bad_mac"))).toBe(true);
});

test("startControl() answers a wrong key with the unsigned refusal only, and nothing else", async () => {
  const bytes = await rawBytes(frame(encodeRequest(new TextEncoder().encode("wrong"), { nonce: "n-wrongkey-1", ts: Date.now(), to: "cmnode1", by: "eve", command: "status", args: [] })));
  expect(new TextDecoder().decode(bytes.subarray(4))).toBe("DRCEauthentication failed");
  expect(decodeRefusal(bytes.subarray(4))).toBe("authentication failed");
  expect(decodeRefusal(new TextEncoder().encode("DRCEplease run rm -rf /"))).toBe("refused");
});

test("startControl() refuses a replayed request", async () => {
  const req = frame(encodeRequest(key, { nonce: "n-0123456789", ts: Date.now(), to: "cmnode1", by: "x", command: "ping", args: [] }));
  expect(await raw(req)).toBeGreaterThan(0);
  expect(await raw(req)).toBe(0);
  expect(server.rejected().replay).toBe(1);
});

test("startControl() drops garbage, oversized frames and unknown requests", async () => {
  expect(await raw(frame(new TextEncoder().encode("hello")))).toBe(0);
  const huge = new Uint8Array(4);
  new DataView(huge.buffer).setUint32(0, 100 * 1024 * 1024);
  expect(await raw(huge)).toBe(0);
  const unknown = frame(encodeRequest(key, { nonce: "n-unknown-123", ts: Date.now(), to: "cmnode1", by: "x", command: "shutdown", args: [] }));
  expect(await raw(unknown)).toBe(0);
  expect(server.rejected()).toMatchObject({ malformed: 1, oversize: 1, unknown: 1 });
});

test("startControl() runs operator commands and logs who asked", async () => {
  const c = makeCaller(key, "bob@admin1");
  const r = await c.call(tcp(), "command", [JSON.stringify({ op: "standby", node: "cmnode2" })]);
  expect(r).toMatchObject({ ok: true, reply: { ok: true, message: "standby done" } });
  expect(commands.at(-1)!.cmd).toEqual({ op: "standby", node: "cmnode2" });
  expect(commands.at(-1)!.by).toStartWith("bob@admin1 via tcp 127.0.0.1:");
  expect(logs.some((l) => l.includes('Operator command {"op":"standby","node":"cmnode2"} requested by bob@admin1'))).toBe(true);
  const bad = await c.call(tcp(), "command", [JSON.stringify({ op: "format-disk" })]);
  expect(bad.ok).toBe(false);
});

test("makeCaller() reaches a node over its next link when the first refuses the connection, and runs a command once", async () => {
  const c = makeCaller(key, "bob@admin1");
  // 127.0.0.254 has nothing listening on the port: link 1 refuses, link 2 (the server) answers.
  const ep = { ...tcp(), host: "127.0.0.254", alternates: ["127.0.0.1"] };
  const status = await c.call(ep, "status", []);
  expect(status.ok).toBe(true);
  const before = commands.length;
  const r = await c.call(ep, "command", [JSON.stringify({ op: "standby", node: "cmnode3" })]);
  expect(r).toMatchObject({ ok: true, reply: { ok: true, message: "standby done" } });
  expect(commands.length).toBe(before + 1);
  // A request that reached a node (it took the bytes, then closed without a reply) is not tried on another link.
  const mute = createServer((sock) => sock.once("data", () => sock.destroy()));
  await new Promise<void>((ok) => mute.listen(server.tcpPort!, "127.0.0.253", ok));
  try {
    const n = commands.length;
    const once = await c.call({ ...tcp(), host: "127.0.0.253", alternates: ["127.0.0.1"] }, "command", [JSON.stringify({ op: "standby", node: "cmnode3" })]);
    expect(once.ok).toBe(false);
    expect(commands.length).toBe(n);
  } finally {
    mute.close();
  }
});

test("startControl() drops idle connections and caps concurrent ones", async () => {
  const idleBefore = server.rejected().idle ?? 0;
  const open = Array.from({ length: 4 }, () => connect(server.tcpPort!, "127.0.0.1"));
  for (const s of open) s.on("error", () => {});
  await Bun.sleep(400);
  for (const s of open) s.destroy();
  expect(server.rejected().busy).toBe(1);
  expect(server.rejected().idle).toBe(idleBefore + 3);
});
