import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import {
  MAGIC,
  MAC_BYTES,
  MAX_PACKET_BYTES,
  PROTOCOL_VERSION,
  decode,
  encode,
  type Envelope,
} from "../../lib/wire/codec.ts";
import { KEY, OTHER_KEY, command, heartbeat } from "./wire-fixtures.ts";

const env: Envelope = { from: "cmnode1", inc: 1718000000000, seq: 7, body: heartbeat };

/** Signs arbitrary payload bytes the way encode does, to reach the checks behind the MAC. */
function signed(payload: Uint8Array | string, version = PROTOCOL_VERSION, key = KEY): Uint8Array {
  const body = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  const head = new Uint8Array(MAGIC.length + 1 + body.length);
  head.set(MAGIC);
  head[MAGIC.length] = version;
  head.set(body, MAGIC.length + 1);
  const mac = createHmac("sha256", key).update(head).digest();
  const out = new Uint8Array(head.length + MAC_BYTES);
  out.set(head);
  out.set(mac, head.length);
  return out;
}

describe("codec", () => {
  test("encode() then decode() round-trips a heartbeat and a command", () => {
    expect(decode(KEY, encode(KEY, env))).toEqual({ ok: true, env });
    const cmd: Envelope = { from: "cmnode2", inc: 5, seq: 0, body: command };
    expect(decode(KEY, encode(KEY, cmd))).toEqual({ ok: true, env: cmd });
  });

  test("decode() keeps the optional heartbeat fields (heard)", () => {
    const withHeard: Envelope = { ...env, body: { ...heartbeat, heard: [120, 4000] } };
    expect(decode(KEY, encode(KEY, withHeard))).toEqual({ ok: true, env: withHeard });
  });

  test("encode() lays out magic, version, JSON and a trailing HMAC-SHA256", () => {
    const p = encode(KEY, env);
    expect(new TextDecoder().decode(p.subarray(0, 4))).toBe("DRCM");
    expect(p[4]).toBe(4);
    expect(JSON.parse(new TextDecoder().decode(p.subarray(5, p.length - 32)))).toEqual(env);
    const mac = createHmac("sha256", KEY).update(p.subarray(0, p.length - 32)).digest();
    expect(Buffer.from(p.subarray(p.length - 32)).equals(mac)).toBe(true);
  });

  test("encode() refuses a message over MAX_PACKET_BYTES with a clear error", () => {
    const big: Envelope = { ...env, body: { ...heartbeat, failed: Array.from({ length: 4000 }, (_, i) => `slot-${i}-${"y".repeat(20)}`) } };
    expect(() => encode(KEY, big)).toThrow(/over the 60000-byte packet limit/);
  });

  test("decode() rejects a packet over MAX_PACKET_BYTES as oversize", () => {
    expect(decode(KEY, new Uint8Array(MAX_PACKET_BYTES + 1))).toEqual({ ok: false, reason: "oversize" });
  });

  test("decode() rejects a wrong key as bad_mac", () => {
    expect(decode(OTHER_KEY, encode(KEY, env))).toEqual({ ok: false, reason: "bad_mac" });
  });

  test("decode() rejects a flipped byte in the JSON or the MAC as bad_mac", () => {
    const p = encode(KEY, env);
    const inJson = p.slice();
    inJson[10]! ^= 1;
    expect(decode(KEY, inJson)).toEqual({ ok: false, reason: "bad_mac" });
    const inMac = p.slice();
    inMac[p.length - 1]! ^= 0x80;
    expect(decode(KEY, inMac)).toEqual({ ok: false, reason: "bad_mac" });
  });

  test("decode() rejects another protocol version as bad_version", () => {
    expect(decode(KEY, signed(JSON.stringify(env), 1))).toEqual({ ok: false, reason: "bad_version" });
    expect(decode(KEY, signed(JSON.stringify(env), 2))).toEqual({ ok: false, reason: "bad_version" });
  });

  test("decode() rejects wrong magic, empty and short packets as malformed", () => {
    const p = encode(KEY, env);
    const wrongMagic = p.slice();
    wrongMagic[0] = 0x58;
    expect(decode(KEY, wrongMagic)).toEqual({ ok: false, reason: "malformed" });
    expect(decode(KEY, new Uint8Array(0))).toEqual({ ok: false, reason: "malformed" });
    expect(decode(KEY, p.subarray(0, 30))).toEqual({ ok: false, reason: "malformed" });
    // A 1.x request: 16-byte header + 40 ASCII bytes of authkey.sha1.
    expect(decode(KEY, new TextEncoder().encode("KEEPALIVE".padEnd(56, "0")))).toEqual({ ok: false, reason: "malformed" });
  });

  test("decode() rejects correctly signed but invalid content as malformed", () => {
    const cases: (string | Uint8Array)[] = [
      "not json",
      new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]), // invalid UTF-8
      "null",
      "[]",
      JSON.stringify({ ...env, from: "" }),
      JSON.stringify({ ...env, inc: -1 }),
      JSON.stringify({ ...env, seq: 1.5 }),
      JSON.stringify({ ...env, seq: "7" }),
      JSON.stringify({ from: "cmnode1", inc: 1, seq: 1 }),
      JSON.stringify({ ...env, body: { ...heartbeat, kind: "gossip" } }),
      JSON.stringify({ ...env, body: { ...heartbeat, holds: [{ slot: "a", role: "owner", claim: 0, heldMs: 0 }] } }),
      JSON.stringify({ ...env, body: { ...heartbeat, alive: "cmnode1" } }),
      JSON.stringify({ ...env, body: { ...heartbeat, uptimeMs: undefined } }),
      JSON.stringify({ ...env, body: { ...command, command: { op: "shutdown" } } }),
      JSON.stringify({ ...env, body: { ...command, command: { op: "move", resource: "ipaddr:web" } } }),
    ];
    for (const c of cases) expect(decode(KEY, signed(c))).toEqual({ ok: false, reason: "malformed" });
  });

  test("decode() drops unknown fields instead of passing them to the core", () => {
    const withExtra = { ...env, extra: 1, body: { ...heartbeat, future: true } };
    const r = decode(KEY, signed(JSON.stringify(withExtra)));
    expect(r).toEqual({ ok: true, env });
  });
});
