import { describe, expect, test } from "bun:test";
import type { Envelope, RejectReason } from "../../lib/wire/codec.ts";
import { PeerGuard, normalizeIp } from "../../lib/wire/guard.ts";
import { heartbeat } from "./wire-fixtures.ts";

const PEERS = new Map([
  ["cmnode1", "127.0.0.11"],
  ["cmnode2", "127.0.0.12"],
]);
const SELF = "cmnode0";
const SELF_INC = 1000;
/** ack: the incarnation of ours this packet acks (null: no ack field at all). */
const env = (from: string, inc: number, seq: number, ack: number | null = SELF_INC): Envelope => ({
  from,
  inc,
  seq,
  ...(ack === null ? {} : { ack: { [SELF]: ack } }),
  body: heartbeat,
});
const guardOf = (peers: ReadonlyMap<string, string | readonly string[]> = PEERS, selfInc = SELF_INC) => new PeerGuard(peers, { self: SELF, selfInc });

type Step = [from: string, inc: number, seq: number, ip: string, ack: number | null, expected: "ok" | "restart" | RejectReason];

// Each row is a sequence fed to one fresh guard (this node: cmnode0, incarnation 1000); every step's verdict is checked in order.
const table: [name: string, steps: Step[]][] = [
  ["first packet of a peer that acks this run is accepted, not a restart", [["cmnode1", 100, 5, "127.0.0.11", SELF_INC, "ok"]]],
  [
    "first contact needs the ack of this run: none, or an earlier run's, is unverified",
    [
      ["cmnode1", 100, 5, "127.0.0.11", null, "unverified"],
      ["cmnode1", 100, 6, "127.0.0.11", SELF_INC - 1, "unverified"],
      ["cmnode1", 100, 7, "127.0.0.11", SELF_INC, "ok"],
      // Once tracked, the sequence is what counts: compact beats carry no ack.
      ["cmnode1", 100, 8, "127.0.0.11", null, "ok"],
    ],
  ],
  ["unknown sender", [["cmnode9", 100, 1, "127.0.0.11", SELF_INC, "unknown_sender"]]],
  ["source other than the sender's keep_alive_ip", [["cmnode1", 100, 1, "127.0.0.12", SELF_INC, "bad_source"]]],
  ["IPv4-mapped IPv6 source is the same host", [["cmnode1", 100, 1, "::ffff:127.0.0.11", SELF_INC, "ok"]]],
  [
    "seq must grow within an incarnation",
    [
      ["cmnode1", 100, 1, "127.0.0.11", SELF_INC, "ok"],
      ["cmnode1", 100, 2, "127.0.0.11", null, "ok"],
      ["cmnode1", 100, 2, "127.0.0.11", null, "replay"],
      ["cmnode1", 100, 1, "127.0.0.11", SELF_INC, "replay"],
      ["cmnode1", 100, 9, "127.0.0.11", null, "ok"],
    ],
  ],
  [
    "a higher incarnation is a restart once it acks this run, and resets seq",
    [
      ["cmnode1", 100, 50, "127.0.0.11", SELF_INC, "ok"],
      ["cmnode1", 200, 1, "127.0.0.11", null, "unverified"],
      ["cmnode1", 200, 2, "127.0.0.11", SELF_INC, "restart"],
      ["cmnode1", 200, 3, "127.0.0.11", null, "ok"],
      ["cmnode1", 100, 51, "127.0.0.11", SELF_INC, "stale_incarnation"],
    ],
  ],
  [
    "a lower incarnation is never accepted again, however long the peer was silent",
    [
      ["cmnode1", 200, 1, "127.0.0.11", SELF_INC, "ok"],
      ["cmnode1", 150, 1, "127.0.0.11", SELF_INC, "stale_incarnation"],
      ["cmnode1", 199, 9, "127.0.0.11", SELF_INC, "stale_incarnation"],
    ],
  ],
  [
    "a newer run seen, even unverified, ends the old one: its packets are copies",
    [
      ["cmnode1", 100, 1, "127.0.0.11", SELF_INC, "ok"],
      ["cmnode1", 200, 1, "127.0.0.11", null, "unverified"],
      // Recorded before the restart, with a higher sequence than this node had seen: still refused.
      ["cmnode1", 100, 2, "127.0.0.11", SELF_INC, "stale_incarnation"],
    ],
  ],
  [
    "peers are tracked separately",
    [
      ["cmnode1", 100, 5, "127.0.0.11", SELF_INC, "ok"],
      ["cmnode2", 100, 1, "127.0.0.12", SELF_INC, "ok"],
      ["cmnode2", 100, 2, "127.0.0.12", null, "ok"],
      ["cmnode1", 100, 5, "127.0.0.11", SELF_INC, "replay"],
    ],
  ],
];

describe("PeerGuard", () => {
  for (const [name, steps] of table) {
    test(`accept() ${name}`, () => {
      const guard = guardOf();
      steps.forEach(([from, inc, seq, ip, ack, expected], i) => {
        const r = guard.accept(env(from, inc, seq, ack), ip);
        const verdict = r.ok ? (r.restarted ? "restart" : "ok") : r.reason;
        expect(`step ${i}: ${verdict}`).toBe(`step ${i}: ${expected}`);
      });
    });
  }

  test("a packet recorded during an earlier run of this node is refused by the new run (replay after restart)", () => {
    // Run 1 of this node accepts a command from cmnode2; an attacker records it.
    const run1 = guardOf(PEERS, 1000);
    const recorded: Envelope = { from: "cmnode2", inc: 500, seq: 77, ack: { [SELF]: 1000 }, body: { kind: "command", command: { op: "standby", node: SELF }, by: "root" } };
    expect(run1.accept(recorded, "127.0.0.12").ok).toBe(true);
    // This node restarts (a higher incarnation): the copy does not ack the new run.
    const run2 = guardOf(PEERS, 2000);
    expect(run2.accept(recorded, "127.0.0.12")).toEqual({ ok: false, reason: "unverified" });
    expect(run2.counters.unverified).toBe(1);
  });

  test("acks() names the highest incarnation heard from each peer, verified or not, and keeps the object until it changes", () => {
    const guard = guardOf();
    expect(guard.acks()).toEqual({});
    guard.accept(env("cmnode1", 100, 1, null), "127.0.0.11");
    const a = guard.acks();
    expect(a).toEqual({ cmnode1: 100 });
    guard.accept(env("cmnode1", 100, 2), "127.0.0.11");
    expect(guard.acks()).toBe(a);
    // An older run (a copy) does not lower it; a forged source does not count at all.
    guard.accept(env("cmnode1", 50, 1), "127.0.0.11");
    guard.accept(env("cmnode2", 900, 1), "127.0.0.11");
    expect(guard.acks()).toEqual({ cmnode1: 100 });
    guard.accept(env("cmnode2", 300, 1, null), "127.0.0.12");
    expect(guard.acks()).toEqual({ cmnode1: 100, cmnode2: 300 });
  });

  test("setPeers() keeps the replay state of the peers that stay and forgets removed ones", () => {
    const guard = guardOf();
    guard.accept(env("cmnode1", 100, 5), "127.0.0.11");
    guard.accept(env("cmnode2", 100, 5), "127.0.0.12");
    guard.setPeers(new Map([["cmnode1", "127.0.0.11"]]));
    expect(guard.accept(env("cmnode1", 100, 5), "127.0.0.11")).toEqual({ ok: false, reason: "replay" });
    expect(guard.accept(env("cmnode2", 100, 6), "127.0.0.12")).toEqual({ ok: false, reason: "unknown_sender" });
    expect(guard.acks()).toEqual({ cmnode1: 100 });
    expect(guard.knownSource("127.0.0.12")).toBe(false);
    expect(guard.knownSource("127.0.0.11")).toBe(true);
    expect(guard.knownSource("::ffff:127.0.0.11")).toBe(true);
  });

  test("accept() counts each rejection by reason and reject() adds reasons found by decode", () => {
    const guard = guardOf();
    guard.accept(env("cmnode1", 100, 1), "127.0.0.11");
    guard.accept(env("cmnode1", 100, 1), "127.0.0.11");
    guard.accept(env("cmnode1", 100, 1), "127.0.0.11");
    guard.accept(env("nobody", 1, 1), "127.0.0.11");
    guard.accept(env("cmnode2", 1, 1), "10.0.0.1");
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
      unverified: 0,
    });
  });

  test("accept() matches a keep_alive_ip configured in IPv4-mapped form", () => {
    const guard = guardOf(new Map([["n", "::FFFF:10.1.2.3"]]));
    expect(guard.accept(env("n", 1, 1), "10.1.2.3", 0)).toEqual({ ok: true, restarted: false, link: 0 });
  });

  test("accept() with several links: the source must be that link's address, and each link keeps its own sequence", () => {
    const guard = guardOf(new Map([["n", ["10.0.0.2", "10.1.0.2"]]]));
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
