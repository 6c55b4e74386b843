// Heartbeat fan-out in clusters larger than FULL_MESH_PEERS + 1 nodes (lib/core/heartbeat.ts): every
// beat goes to a node's FAST_PEERS ring successors, the rest get one every dead_time / 2, a change of
// state goes to everyone. What must stay true: every survivor agrees on a death within dead_time plus
// two intervals, nobody is declared dead under heavy loss, and a node's traffic no longer grows with
// (nodes - 1) x 20 per second.
import { describe, expect, test } from "bun:test";
import { FAST_PEERS, FULL_MESH_PEERS } from "../../lib/core/heartbeat.ts";
import { names, seeds, world } from "./harness.ts";

const FILE = "fanout.test.ts";

describe("heartbeat fan-out", () => {
  for (const nodes of [16, 64]) {
    const name = `${nodes} nodes: each node sends a fraction of a full mesh, and every survivor agrees on a death within dead_time + 2 intervals`;
    test(name, () => {
      for (const seed of seeds(nodes === 16 ? 3 : 1, 4100 + nodes)) {
        const w = world({ file: FILE, test: name, nodes, seed, kinds: [] });
        w.startAll();
        w.run(3000);
        const m0 = w.messages;
        w.run(13_000);
        const perNodePerS = (w.messages - m0) / nodes / 10;
        const s = w.cluster.server;
        const mesh = (nodes - 1) * (1000 / s.keepAliveIntervalMs);
        const expected = FAST_PEERS * (1000 / s.keepAliveIntervalMs) + (nodes - 1 - FAST_PEERS) * (1000 / (s.deadTimeMs / 2));
        console.log(`fan-out ${nodes} nodes: ${perNodePerS.toFixed(0)} heartbeats/s sent per node (full mesh would be ${mesh})`);
        expect(perNodePerS).toBeLessThan(expected * 1.15);
        expect(perNodePerS).toBeGreaterThan(expected * 0.85);
        // A death: every survivor's node_dead within dead_time + 2 intervals of the victim's last beat.
        const all = names(nodes);
        const victim = all[Math.floor(nodes / 2)]!;
        const k = w.now;
        w.kill(victim);
        w.run(k + s.deadTimeMs + 2000);
        const dead = new Map<string, number>();
        for (const e of w.events) if (e.at >= k && e.e.type === "node_dead" && e.e.node === victim && !dead.has(e.node)) dead.set(e.node, e.at - k);
        expect([...dead.keys()].sort()).toEqual(all.filter((n) => n !== victim).sort());
        const latest = Math.max(...dead.values());
        const earliest = Math.min(...dead.values());
        console.log(`fan-out ${nodes} nodes: ${victim} killed, first survivor knew after ${earliest} ms, all ${nodes - 1} after ${latest} ms`);
        expect(latest).toBeLessThanOrEqual(s.deadTimeMs + 2 * s.keepAliveIntervalMs);
        expect(w.checker.falseDeaths).toBe(0);
      }
    }, 120_000);
  }

  const lossy = "16 nodes with 20% random loss for 5 simulated minutes: no false death";
  test(lossy, () => {
    for (const seed of seeds(2, 4200)) {
      const w = world({ file: FILE, test: lossy, nodes: 16, seed });
      w.startAll();
      w.run(2000);
      w.setDrop(0.2);
      w.run(w.now + 300_000);
      expect(w.events.filter((e) => e.e.type === "node_dead")).toEqual([]);
      expect(w.checker.falseDeaths).toBe(0);
    }
  }, 300_000);

  test(`up to ${FULL_MESH_PEERS + 1} nodes every node still beats every peer every interval`, () => {
    const w = world({ file: FILE, test: "mesh", nodes: FULL_MESH_PEERS + 1, seed: 7, kinds: [] });
    w.startAll();
    w.run(3000);
    const m0 = w.messages;
    w.run(13_000);
    const perNodePerS = (w.messages - m0) / (FULL_MESH_PEERS + 1) / 10;
    expect(perNodePerS).toBeGreaterThan(FULL_MESH_PEERS * 20 * 0.95);
  });
});
