// Compact beats (protocol 3, lib/core/heartbeat.ts and peers.ts): between changes a node sends its
// state version and fresh ages instead of its whole state; a receiver that lacks that version asks
// for it (want) and gets it at once; a change, a restarted or silent peer, or 5 s without a full
// heartbeat send the whole state again.
import { describe, expect, test } from "bun:test";
import { Core } from "../../lib/core/node.ts";
import { FULL_REFRESH_MS } from "../../lib/core/heartbeat.ts";
import { NOTHING_PERSISTED } from "../../lib/core/operator.ts";
import type { MessageBody, Step } from "../../lib/core/types.ts";
import { makeCluster } from "../sim/topology.ts";

const cluster = makeCluster({ nodes: 2, kinds: [] });
const [A, B] = cluster.nodes.map((n) => n.nodename) as [string, string];
const kinds = (st: Step, to: string) => st.send.filter((m) => m.to === to).map((m) => m.body.kind);
const bodyTo = (st: Step, to: string): MessageBody | undefined => st.send.find((m) => m.to === to)?.body;

/** Two cores exchanging everything for `ms`, ticking every 50 ms; returns the kinds a sent to b. */
function exchange(a: Core, b: Core, from: number, ms: number): string[] {
  const seen: string[] = [];
  for (let t = from; t < from + ms; t += 50) {
    for (const [x, y, xn, yn] of [[a, b, A, B], [b, a, B, A]] as const) {
      const st = x.tick(t);
      for (const m of st.send.filter((m) => m.to === yn)) {
        if (xn === A) seen.push(m.body.kind);
        const back = y.onMessage({ from: xn, incarnation: xn === A ? 1 : 2, body: m.body }, t + 1);
        for (const r of back.send.filter((r) => r.to === xn)) x.onMessage({ from: yn, incarnation: yn === A ? 1 : 2, body: r.body }, t + 2);
      }
    }
  }
  return seen;
}

describe("compact beats", () => {
  test("between changes a node sends beats, with a full heartbeat after a change and every FULL_REFRESH_MS", () => {
    const a = new Core(cluster, A, { now: 0, persisted: NOTHING_PERSISTED });
    const b = new Core(cluster, B, { now: 0, persisted: NOTHING_PERSISTED });
    exchange(a, b, 0, 3000);
    const seen = exchange(a, b, 3000, 10_000);
    const full = seen.filter((k) => k === "heartbeat").length;
    const beats = seen.filter((k) => k === "beat").length;
    expect(full + beats).toBe(200);
    // 10 s of quiet: the refresh every 5 s (plus its two repeats at most), beats otherwise.
    expect(full).toBeGreaterThanOrEqual(2);
    expect(full).toBeLessThanOrEqual(2 * Math.ceil(10_000 / FULL_REFRESH_MS));
    expect(b.status(13_000).nodes.find((n) => n.nodename === A)!.state).toBe("alive");
  });

  test("a beat of a state version the receiver lacks makes it ask (want), and the answer is the whole state at once", () => {
    const a = new Core(cluster, A, { now: 0, persisted: NOTHING_PERSISTED });
    const b = new Core(cluster, B, { now: 0, persisted: NOTHING_PERSISTED });
    exchange(a, b, 0, 3000);
    const st = b.onMessage({ from: A, incarnation: 1, body: { kind: "beat", sv: 999, heard: [] } }, 3001);
    expect(kinds(st, A)).toContain("want");
    // Asked at most once per interval.
    expect(kinds(b.onMessage({ from: A, incarnation: 1, body: { kind: "beat", sv: 999, heard: [] } }, 3010), A)).not.toContain("want");
    const answer = a.onMessage({ from: B, incarnation: 2, body: { kind: "want" } }, 3011);
    const body = bodyTo(answer, B);
    expect(body?.kind).toBe("heartbeat");
    expect(body && body.kind === "heartbeat" ? body.sv : null).toBeGreaterThan(0);
  });

  test("a beat from a daemon not heard before (new incarnation) is no sign of life: it asks for the state", () => {
    const b = new Core(cluster, B, { now: 0, persisted: NOTHING_PERSISTED });
    const st = b.onMessage({ from: A, incarnation: 7, body: { kind: "beat", sv: 3, heard: [] } }, 100);
    expect(kinds(st, A)).toContain("want");
    expect(b.status(100).nodes.find((n) => n.nodename === A)!.heartbeatAgeMs).toBeNull();
  });

  test("the uptime and hold ages of a peer keep growing between its full heartbeats", () => {
    const a = new Core(cluster, A, { now: 0, persisted: NOTHING_PERSISTED });
    const b = new Core(cluster, B, { now: 0, persisted: NOTHING_PERSISTED });
    exchange(a, b, 0, 3000);
    const u1 = b.status(3000).nodes.find((n) => n.nodename === A)!.uptimeMs!;
    exchange(a, b, 3000, 2000);
    const u2 = b.status(5000).nodes.find((n) => n.nodename === A)!.uptimeMs!;
    expect(u2 - u1).toBeGreaterThanOrEqual(1900);
    expect(u2 - u1).toBeLessThanOrEqual(2100);
  });
});
