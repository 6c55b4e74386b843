import { describe, expect, test } from "bun:test";
import type { Envelope, RejectReason } from "../../lib/wire/codec.ts";
import { PeerGuard, normalizeIp } from "../../lib/wire/guard.ts";
import { heartbeat } from "./wire-fixtures.ts";

const PEERS = new Map([
  ["cmnode1", "127.0.0.11"],
  ["cmnode2", "127.0.0.12"],
]);
const GRACE = 10_000;
const env = (from: string, inc: number, seq: number): Envelope => ({ from, inc, seq, body: heartbeat });

type Step = [from: string, inc: number, seq: number, ip: string, now: number, expected: "ok" | "restart" | RejectReason];

// Each row is a sequence fed to one fresh guard; every step's verdict is checked in order.
const table: [name: string, steps: Step[]][] = [
  ["first packet of a peer is accepted, not a restart", [["cmnode1", 100, 5, "127.0.0.11", 0, "ok"]]],
  ["unknown sender", [["cmnode9", 100, 1, "127.0.0.11", 0, "unknown_sender"]]],
  ["source other than the sender's keep_alive_ip", [["cmnode1", 100, 1, "127.0.0.12", 0, "bad_source"]]],
  ["IPv4-mapped IPv6 source is the same host", [["cmnode1", 100, 1, "::ffff:127.0.0.11", 0, "ok"]]],
  [
    "seq must grow within an incarnation",
    [
      ["cmnode1", 100, 1, "127.0.0.11", 0, "ok"],
      ["cmnode1", 100, 2, "127.0.0.11", 1, "ok"],
      ["cmnode1", 100, 2, "127.0.0.11", 2, "replay"],
      ["cmnode1", 100, 1, "127.0.0.11", 3, "replay"],
      ["cmnode1", 100, 9, "127.0.0.11", 4, "ok"],
    ],
  ],
  [
    "a higher incarnation is a restart and resets seq",
    [
      ["cmnode1", 100, 50, "127.0.0.11", 0, "ok"],
      ["cmnode1", 200, 1, "127.0.0.11", 1, "restart"],
      ["cmnode1", 200, 2, "127.0.0.11", 2, "ok"],
      ["cmnode1", 100, 51, "127.0.0.11", 3, "stale_incarnation"],
    ],
  ],
  [
    "a lower incarnation within the grace period is stale",
    [
      ["cmnode1", 200, 1, "127.0.0.11", 0, "ok"],
      ["cmnode1", 150, 1, "127.0.0.11", GRACE - 1, "stale_incarnation"],
    ],
  ],
  [
    "a lower incarnation after the grace period is a restart with a clock that went back",
    [
      ["cmnode1", 200, 1, "127.0.0.11", 0, "ok"],
      ["cmnode1", 150, 1, "127.0.0.11", GRACE, "restart"],
      ["cmnode1", 150, 2, "127.0.0.11", GRACE + 1, "ok"],
      ["cmnode1", 200, 2, "127.0.0.11", GRACE + 2, "stale_incarnation"],
    ],
  ],
  [
    "rejected packets do not refresh the grace timer",
    [
      ["cmnode1", 200, 5, "127.0.0.11", 0, "ok"],
      ["cmnode1", 200, 5, "127.0.0.11", GRACE - 1, "replay"],
      ["cmnode1", 150, 1, "127.0.0.11", GRACE, "restart"],
    ],
  ],
  [
    "an incarnation already left behind never comes back, even after the grace period",
    [
      ["cmnode1", 100, 1, "127.0.0.11", 0, "ok"],
      ["cmnode1", 200, 1, "127.0.0.11", 1, "restart"],
      ["cmnode1", 100, 2, "127.0.0.11", 1 + GRACE * 5, "stale_incarnation"],
    ],
  ],
  [
    "peers are tracked separately",
    [
      ["cmnode1", 100, 5, "127.0.0.11", 0, "ok"],
      ["cmnode2", 100, 1, "127.0.0.12", 1, "ok"],
      ["cmnode2", 100, 2, "127.0.0.12", 2, "ok"],
      ["cmnode1", 100, 5, "127.0.0.11", 3, "replay"],
    ],
  ],
];

describe("PeerGuard", () => {
  for (const [name, steps] of table) {
    test(`accept() ${name}`, () => {
      const guard = new PeerGuard(PEERS, { restartGraceMs: GRACE });
      steps.forEach(([from, inc, seq, ip, now, expected], i) => {
        const r = guard.accept(env(from, inc, seq), ip, now);
        const verdict = r.ok ? (r.restarted ? "restart" : "ok") : r.reason;
        expect(`step ${i}: ${verdict}`).toBe(`step ${i}: ${expected}`);
      });
    });
  }

  test("accept() counts each rejection by reason and reject() adds reasons found by decode", () => {
    const guard = new PeerGuard(PEERS, { restartGraceMs: GRACE });
    guard.accept(env("cmnode1", 100, 1), "127.0.0.11", 0);
    guard.accept(env("cmnode1", 100, 1), "127.0.0.11", 1);
    guard.accept(env("cmnode1", 100, 1), "127.0.0.11", 2);
    guard.accept(env("nobody", 1, 1), "127.0.0.11", 3);
    guard.accept(env("cmnode2", 1, 1), "10.0.0.1", 4);
    guard.reject("bad_mac");
    guard.reject("oversize");
    expect(guard.counters).toEqual({
      oversize: 1,
      malformed: 0,
      bad_version: 0,
      bad_mac: 1,
      unknown_sender: 1,
      bad_source: 1,
      replay: 2,
      stale_incarnation: 0,
    });
  });

  test("accept() matches a keep_alive_ip configured in IPv4-mapped form", () => {
    const guard = new PeerGuard(new Map([["n", "::FFFF:10.1.2.3"]]), { restartGraceMs: GRACE });
    expect(guard.accept(env("n", 1, 1), "10.1.2.3", 0)).toEqual({ ok: true, restarted: false, link: 0 });
  });

  test("accept() with several links: the source must be that link's address, and each link keeps its own sequence", () => {
    const guard = new PeerGuard(new Map([["n", ["10.0.0.2", "10.1.0.2"]]]), { restartGraceMs: GRACE });
    const on = (seq: number, link: number) => ({ ...env("n", 1, seq), ...(link > 0 ? { link } : {}) });
    // The same beat on both links (same sequence number) is accepted once per link.
    expect(guard.accept(on(1, 0), "10.0.0.2", 0)).toEqual({ ok: true, restarted: false, link: 0 });
    expect(guard.accept(on(1, 1), "10.1.0.2", 0)).toEqual({ ok: true, restarted: false, link: 1 });
    // A copy of link 1's packet again on link 1: replay; signed for link 1 but sent from link 0's address: bad source.
    expect(guard.accept(on(1, 1), "10.1.0.2", 1)).toEqual({ ok: false, reason: "replay" });
    expect(guard.accept(on(2, 1), "10.0.0.2", 1)).toEqual({ ok: false, reason: "bad_source" });
    // A link number the sender does not have.
    expect(guard.accept(on(3, 5), "10.1.0.2", 1)).toEqual({ ok: false, reason: "bad_source" });
    // Link 1 ahead of link 0 (it was faster) does not make link 0's next beat a replay.
    expect(guard.accept(on(9, 1), "10.1.0.2", 2)).toEqual({ ok: true, restarted: false, link: 1 });
    expect(guard.accept(on(2, 0), "10.0.0.2", 2)).toEqual({ ok: true, restarted: false, link: 0 });
  });

  test("normalizeIp() unwraps IPv4-mapped IPv6 and leaves other addresses alone", () => {
    expect(normalizeIp("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeIp("192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeIp("FE80::1")).toBe("fe80::1");
    expect(normalizeIp("::ffff:abcd")).toBe("::ffff:abcd");
  });
});
