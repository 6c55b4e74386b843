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
    expect(guard.accept(env("n", 1, 1), "10.1.2.3", 0)).toEqual({ ok: true, restarted: false });
  });

  test("normalizeIp() unwraps IPv4-mapped IPv6 and leaves other addresses alone", () => {
    expect(normalizeIp("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeIp("192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeIp("FE80::1")).toBe("fe80::1");
    expect(normalizeIp("::ffff:abcd")).toBe("::ffff:abcd");
  });
});
