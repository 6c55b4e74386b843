import { describe, expect, test } from "bun:test";
import {
  CONTROL_NONCE_TTL_MS,
  FrameReader,
  MAX_FRAME_BYTES,
  NonceCache,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  frame,
  type ControlRequest,
} from "../../lib/wire/control.ts";
import { encode } from "../../lib/wire/codec.ts";
import { KEY, OTHER_KEY, heartbeat } from "./wire-fixtures.ts";

const NOW = 1_700_000_000_000;
const req: ControlRequest = { nonce: "3b1f0c2e-aaaa", ts: NOW, to: "cmnode1", by: "root@vm1", command: "cm_stat", args: ["-n", "cmnode2"] };
const cache = () => new NonceCache(CONTROL_NONCE_TTL_MS);

describe("control messages", () => {
  test("encodeRequest() then decodeRequest() round-trips a request", () => {
    expect(decodeRequest(KEY, encodeRequest(KEY, req), NOW + 500, cache(), "cmnode1")).toEqual({ ok: true, req });
  });

  test("decodeRequest() rejects the same request twice as replay", () => {
    const seen = cache();
    const bytes = encodeRequest(KEY, req);
    expect(decodeRequest(KEY, bytes, NOW, seen, "cmnode1").ok).toBe(true);
    expect(decodeRequest(KEY, bytes, NOW + 29_000, seen, "cmnode1")).toEqual({ ok: false, reason: "replay" });
  });

  test("decodeRequest() rejects a timestamp more than 30 s away as stale, either way", () => {
    const bytes = encodeRequest(KEY, req);
    expect(decodeRequest(KEY, bytes, NOW + 30_001, cache(), "cmnode1")).toEqual({ ok: false, reason: "stale" });
    expect(decodeRequest(KEY, bytes, NOW - 30_001, cache(), "cmnode1")).toEqual({ ok: false, reason: "stale" });
    expect(decodeRequest(KEY, bytes, NOW + 30_000, cache(), "cmnode1").ok).toBe(true);
  });

  test("decodeRequest() keeps refusing a replay across the whole acceptance window", () => {
    const seen = cache();
    const bytes = encodeRequest(KEY, req);
    // First seen at the early edge of its window, replayed at the late edge.
    expect(decodeRequest(KEY, bytes, NOW - 30_000, seen, "cmnode1").ok).toBe(true);
    expect(decodeRequest(KEY, bytes, NOW + 30_000, seen, "cmnode1")).toEqual({ ok: false, reason: "replay" });
  });

  test("decodeRequest() rejects a wrong key as bad_mac and does not remember its nonce", () => {
    const seen = cache();
    expect(decodeRequest(KEY, encodeRequest(OTHER_KEY, req), NOW, seen, "cmnode1")).toEqual({ ok: false, reason: "bad_mac" });
    expect(seen.size).toBe(0);
    expect(decodeRequest(KEY, encodeRequest(KEY, req), NOW, seen, "cmnode1").ok).toBe(true);
  });

  test("decodeRequest() refuses a peer packet and a reply signed with the same key", () => {
    const peerPacket = encode(KEY, { from: "cmnode1", inc: 1, seq: 1, body: heartbeat });
    expect(decodeRequest(KEY, peerPacket, NOW, cache(), "cmnode1")).toEqual({ ok: false, reason: "malformed" });
    expect(decodeRequest(KEY, encodeReply(KEY, req.nonce, req), NOW, cache(), "cmnode1")).toEqual({ ok: false, reason: "malformed" });
  });

  test("decodeRequest() rejects signed requests with missing or wrong fields as malformed", () => {
    const bad = [
      { ...req, nonce: "" },
      { ...req, command: "" },
      { ...req, args: "cm_stat" },
      { ...req, ts: "now" },
    ] as unknown as ControlRequest[];
    for (const r of bad) expect(decodeRequest(KEY, encodeRequest(KEY, r), NOW, cache(), "cmnode1")).toEqual({ ok: false, reason: "malformed" });
  });

  test("decodeRequest() refuses a request for another node (a copy sent elsewhere) and one naming no node", () => {
    const bytes = encodeRequest(KEY, req);
    const seen = cache();
    expect(decodeRequest(KEY, bytes, NOW, seen, "cmnode2")).toEqual({ ok: false, reason: "wrong_target" });
    expect(seen.size).toBe(0);
    expect(decodeRequest(KEY, bytes, NOW, seen, "cmnode1").ok).toBe(true);
    const { to: _, ...noTarget } = req;
    expect(decodeRequest(KEY, encodeRequest(KEY, noTarget as ControlRequest), NOW, cache(), "cmnode1")).toEqual({ ok: false, reason: "malformed" });
  });

  test("decodeRequest() asks for an operator command's nonce to be kept across restarts, not for read-only ones", () => {
    const durable: boolean[] = [];
    const seen = new (class extends NonceCache {
      override add(nonce: string, now: number, keep = false): void {
        durable.push(keep);
        super.add(nonce, now, keep);
      }
    })(CONTROL_NONCE_TTL_MS);
    decodeRequest(KEY, encodeRequest(KEY, req), NOW, seen, "cmnode1");
    decodeRequest(KEY, encodeRequest(KEY, { ...req, nonce: "cmd-nonce-1", command: "command", args: ["{}"] }), NOW, seen, "cmnode1");
    expect(durable).toEqual([false, true]);
  });

  test("decodeReply() accepts the reply to its own request only", () => {
    const reply = { status: "HEALTHY", nodes: 2 };
    const bytes = encodeReply(KEY, req.nonce, reply);
    expect(decodeReply(KEY, bytes, req.nonce)).toEqual({ ok: true, reply });
    expect(decodeReply(KEY, bytes, "another-nonce")).toEqual({ ok: false, reason: "replay" });
    expect(decodeReply(OTHER_KEY, bytes, req.nonce)).toEqual({ ok: false, reason: "bad_mac" });
    expect(decodeReply(KEY, encodeRequest(KEY, req), req.nonce)).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("NonceCache", () => {
  test("has() remembers a nonce for ttlMs inclusive, then forgets it", () => {
    const c = new NonceCache(1000);
    c.add("a", 0);
    expect(c.has("a", 1000)).toBe(true);
    expect(c.has("a", 1001)).toBe(false);
    expect(c.size).toBe(0);
  });

  test("add() prunes expired nonces and stays under maxEntries", () => {
    const c = new NonceCache(1000, 100);
    for (let i = 0; i < 500; i++) c.add(`n${i}`, i);
    expect(c.size).toBe(100);
    expect(c.has("n499", 500)).toBe(true);
    expect(c.has("n0", 500)).toBe(false);
    c.add("late", 5000);
    expect(c.size).toBe(1);
  });
});

describe("framing", () => {
  test("frame() prefixes a 4-byte big-endian length", () => {
    expect([...frame(new Uint8Array([9, 8, 7]))]).toEqual([0, 0, 0, 3, 9, 8, 7]);
  });

  test("frame() refuses more than MAX_FRAME_BYTES", () => {
    expect(() => frame(new Uint8Array(MAX_FRAME_BYTES + 1))).toThrow(/over the 4194304-byte control frame limit/);
  });

  test("FrameReader.push() reassembles frames split and joined at every byte boundary", () => {
    const a = encodeRequest(KEY, req);
    const b = new Uint8Array(0);
    const c = encodeReply(KEY, req.nonce, "x".repeat(300));
    const stream = new Uint8Array([...frame(a), ...frame(b), ...frame(c)]);
    for (let chunk = 1; chunk <= stream.length; chunk += chunk < 16 ? 1 : 37) {
      const reader = new FrameReader();
      const got: Uint8Array[] = [];
      for (let at = 0; at < stream.length; at += chunk) {
        const r = reader.push(stream.subarray(at, at + chunk));
        if (!r.ok) throw new Error(`chunk ${chunk}: ${r.reason}`);
        got.push(...r.frames);
      }
      expect(got.map((f) => f.length)).toEqual([a.length, 0, c.length]);
      expect(got[0]).toEqual(a);
      expect(got[2]).toEqual(c);
      expect(reader.buffered).toBe(0);
    }
  });

  test("FrameReader.push() reports oversize from the prefix alone and stays failed", () => {
    const reader = new FrameReader(1000);
    expect(reader.push(new Uint8Array([0, 0, 3, 0xe9]))).toEqual({ ok: false, reason: "oversize" });
    expect(reader.push(frame(new Uint8Array(3)))).toEqual({ ok: false, reason: "oversize" });
    const big = new FrameReader();
    expect(big.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toEqual({ ok: false, reason: "oversize" });
  });

  test("FrameReader.push() holds a partial frame until the rest arrives", () => {
    const reader = new FrameReader();
    const f = frame(new Uint8Array([1, 2, 3, 4, 5]));
    expect(reader.push(f.subarray(0, 6))).toEqual({ ok: true, frames: [] });
    expect(reader.buffered).toBe(6);
    const r = reader.push(f.subarray(6));
    expect(r.ok && [...r.frames[0]!]).toEqual([1, 2, 3, 4, 5]);
  });
});
