// Day-2 operator state through the node driver: maintenance mode (cluster-wide and per node) and the
// lifecycle of moves (lifetime, clear, restarts, a lost command). Invariants 2 and 3 (someone takes
// over, things fail back) are switched off while maintenance freezes placement on purpose.
import { describe, expect, test } from "bun:test";
import { account, seeds, world } from "./harness.ts";
import type { World } from "./world.ts";

const FILE = "operator.test.ts";
const where = (w: World) => Object.fromEntries(w.slots.map((s) => [s.resource, w.hosts.filter((h) => h.present.has(s.resource)).map((h) => h.name).join(",")]));
const startsStops = (w: World, from: number) => w.journal.filter((j) => j.at >= from).map((j) => `${j.node} ${j.type} ${j.slot}`);

describe("maintenance mode", () => {
  const name = "NodeDriver in cluster maintenance: a rolling restart of every daemon starts and stops nothing, also after maintenance off";
  test(name, () => {
    for (const seed of seeds(10, 3100)) {
      const w = world({ file: FILE, test: name, nodes: 3, seed });
      w.startAll();
      w.run(w.checker.bounds.failbackMs + 1500);
      const before = where(w);
      const t0 = w.now;
      expect(w.command("cmnode2", { op: "maintenance", on: true, node: null })?.ok).toBe(true);
      w.run(w.now + 300);
      for (const h of w.hosts) expect(h.core!.maintenance).toBe(true);
      for (const h of w.hosts) {
        w.leave(h.name); // SIGTERM: in maintenance nothing is stopped
        w.run(w.now + 200);
        expect(h.driver).toBeNull();
        w.start(h.name); // the upgraded daemon: adopts what runs, touches nothing
        w.run(w.now + 1500);
        expect(h.core!.maintenance).toBe(true);
      }
      expect(where(w)).toEqual(before);
      expect(w.command("cmnode3", { op: "maintenance", on: false, node: null })?.ok).toBe(true);
      w.run(w.now + w.checker.bounds.failbackMs + 2000);
      expect(where(w)).toEqual(before);
      expect(startsStops(w, t0)).toEqual([]);
      account(w);
    }
  });

  const name2 = "NodeDriver in cluster maintenance takes nothing over from a dead host; maintenance off recovers it";
  test(name2, () => {
    for (const seed of seeds(10, 3200)) {
      const w = world({ file: FILE, test: name2, nodes: 3, seed });
      w.checker.enabled.delete(2);
      w.startAll();
      w.run(w.checker.bounds.failbackMs + 1500);
      w.command("cmnode1", { op: "maintenance", on: true, node: null });
      w.run(w.now + 300);
      w.powerOff("cmnode1");
      w.run(w.now + 3000);
      expect(w.holdersOf("ipaddr:vip1")).toEqual([]);
      expect(w.host("cmnode2").core!.status(w.now).slots.find((s) => s.slot === "ipaddr:vip1@cmnode1")!.reason).toContain("maintenance mode (cluster-wide)");
      w.command("cmnode2", { op: "maintenance", on: false, node: null });
      w.checker.enabled.add(2);
      w.run(w.now + w.checker.bounds.holderMs + 200);
      expect(w.holdersOf("ipaddr:vip1")).toEqual(["cmnode2"]);
      account(w);
    }
  });

  const name3 = "NodeDriver with one node in maintenance: its daemon restarts and nobody takes its resources; the rest of the cluster is managed";
  test(name3, () => {
    for (const seed of seeds(10, 3300)) {
      const w = world({ file: FILE, test: name3, nodes: 3, seed });
      w.checker.enabled.delete(2);
      w.startAll();
      w.run(w.checker.bounds.failbackMs + 1500);
      const t0 = w.now;
      expect(w.command("cmnode3", { op: "maintenance", on: true, node: "cmnode1" })?.ok).toBe(true);
      w.run(w.now + 300);
      expect(w.host("cmnode1").core!.maintenance).toBe(true);
      expect(w.host("cmnode2").core!.maintenance).toBe(false);
      w.leave("cmnode1");
      w.run(w.now + 1500); // longer than dead_time: still nobody takes vip1
      w.start("cmnode1");
      w.run(w.now + 1500);
      expect(w.holdersOf("ipaddr:vip1")).toEqual(["cmnode1"]);
      expect(startsStops(w, t0)).toEqual([]);
      // The others are still managed: cmnode2 dies, cmnode3 takes its floating IP.
      w.checker.enabled.add(2);
      w.kill("cmnode2");
      w.powerOff("cmnode2");
      w.run(w.now + w.checker.bounds.holderMs + 300);
      expect(w.holdersOf("ipaddr:vip2")).toEqual(["cmnode3"]);
      w.command("cmnode1", { op: "maintenance", on: false, node: "cmnode1" });
      w.run(w.now + 500);
      expect(w.host("cmnode1").core!.maintenance).toBe(false);
      account(w);
    }
  });
});

describe("moves", () => {
  const name = "NodeDriver move --lifetime pins until it runs out, then the resource fails back to its owner";
  test(name, () => {
    for (const seed of seeds(10, 3400)) {
      const w = world({ file: FILE, test: name, nodes: 3, seed });
      w.checker.enabled.delete(3);
      w.startAll();
      w.run(w.checker.bounds.failbackMs + 1500);
      expect(w.command("cmnode3", { op: "move", resource: "ipaddr:vip1", node: "cmnode2", lifetimeMs: 4000 })?.ok).toBe(true);
      w.run(w.now + 1000);
      expect(w.holdersOf("ipaddr:vip1")).toEqual(["cmnode2"]);
      const st = w.host("cmnode1").core!.status(w.now);
      expect(st.pins.map((p) => `${p.resource}>${p.node}`)).toEqual(["ipaddr:vip1>cmnode2"]);
      expect(st.pins[0]!.leftMs).toBeGreaterThan(2000);
      expect(st.slots.find((s) => s.slot === "ipaddr:vip1@cmnode1")!.reason).toBe("moved to cmnode2 by an operator");
      w.run(w.now + 3500);
      expect(w.host("cmnode2").core!.status(w.now).pins).toEqual([]);
      w.run(w.now + w.checker.bounds.failbackMs);
      expect(w.holdersOf("ipaddr:vip1")).toEqual(["cmnode1"]);
      account(w);
    }
  });

  const name2 = "NodeDriver move survives restarts of the other daemons and a lost command datagram; clear undoes it on every node";
  test(name2, () => {
    for (const seed of seeds(10, 3500)) {
      const w = world({ file: FILE, test: name2, nodes: 3, seed });
      w.checker.enabled.delete(3);
      w.startAll();
      w.run(w.checker.bounds.failbackMs + 1500);
      // cmnode3 cannot hear cmnode1, where the move is typed: it learns it from cmnode2's heartbeats.
      w.cut("cmnode1", "cmnode3");
      expect(w.command("cmnode1", { op: "move", resource: "ipaddr:vip1", node: "cmnode2" })?.ok).toBe(true);
      w.run(w.now + 500);
      expect(w.host("cmnode3").core!.status(w.now).pins.map((p) => p.node)).toEqual(["cmnode2"]);
      w.heal();
      w.run(w.now + 1000);
      // Every daemon but the target restarts, one after another, the one the move was typed on first.
      for (const name of ["cmnode1", "cmnode3"]) {
        w.leave(name);
        w.run(w.now + 300);
        w.start(name);
        w.run(w.now + 2500);
      }
      for (const h of w.hosts) expect(h.core!.status(w.now).pins.map((p) => `${p.resource}>${p.node}`)).toEqual(["ipaddr:vip1>cmnode2"]);
      expect(w.holdersOf("ipaddr:vip1")).toEqual(["cmnode2"]);
      expect(w.command("cmnode3", { op: "clear", resource: null })?.ok).toBe(true);
      expect(w.command("cmnode3", { op: "clear", resource: "ipaddr:vip1" })?.rejected).toContain("nothing to clear");
      w.checker.enabled.add(3);
      w.run(w.now + w.checker.bounds.failbackMs + 500);
      for (const h of w.hosts) expect(h.core!.status(w.now).pins).toEqual([]);
      expect(w.holdersOf("ipaddr:vip1")).toEqual(["cmnode1"]);
      account(w);
    }
  });

  const name3 = "NodeDriver move ends on every node when its target stops holding it (the target's daemon stops)";
  test(name3, () => {
    for (const seed of seeds(10, 3600)) {
      const w = world({ file: FILE, test: name3, nodes: 3, seed });
      w.checker.enabled.delete(3);
      w.startAll();
      w.run(w.checker.bounds.failbackMs + 1500);
      w.command("cmnode1", { op: "move", resource: "ipaddr:vip1", node: "cmnode3" });
      w.run(w.now + 1000);
      expect(w.holdersOf("ipaddr:vip1")).toEqual(["cmnode3"]);
      w.leave("cmnode3");
      w.run(w.now + 500);
      w.start("cmnode3"); // it persisted the pin, but the peers' newer generation (pin ended) wins
      w.checker.enabled.add(3);
      w.run(w.now + w.checker.bounds.failbackMs + 2000);
      for (const h of w.hosts) expect(h.core!.status(w.now).pins).toEqual([]);
      expect(w.holdersOf("ipaddr:vip1")).toEqual(["cmnode1"]);
      account(w);
    }
  });
});

describe("failure history", () => {
  const name = "NodeDriver keeps failed watches with their count until cleanup, and every node shows them";
  test(name, () => {
    for (const seed of seeds(5, 3700)) {
      const w = world({ file: FILE, test: name, nodes: 3, seed });
      w.startAll();
      w.run(w.checker.bounds.failbackMs + 1500);
      w.failWatch("cmnode1", "service:svc1");
      w.run(w.now + 6000); // checks every second: max_failures (3) and the handover
      for (const h of w.hosts) {
        const f = h.core!.status(w.now).failures.filter((x) => x.slot === "service:svc1@cmnode1" && x.action === "watch");
        expect(f.map((x) => x.node)).toEqual(["cmnode1"]);
        expect(f[0]!.count).toBeGreaterThanOrEqual(3);
        expect(f[0]!.detail).toBe("exit 1");
      }
      w.failWatch("cmnode1", "service:svc1", false);
      w.command("cmnode3", { op: "cleanup", resource: "service:svc1" });
      w.run(w.now + 500);
      for (const h of w.hosts) expect(h.core!.status(w.now).failures).toEqual([]);
      account(w);
    }
  });

  test("NodeDriver forgets a failed action after failure_timeout", () => {
    const w = world({ file: FILE, test: "failure_timeout", nodes: 2, seed: 3800, server: { failureTimeoutMs: 3000 } });
    w.startAll();
    w.run(w.checker.bounds.failbackMs + 1500);
    w.failWatch("cmnode1", "service:svc1");
    w.run(w.now + 1500);
    w.failWatch("cmnode1", "service:svc1", false);
    expect(w.host("cmnode2").core!.status(w.now).failures.length).toBe(1);
    w.run(w.now + 4000);
    expect(w.host("cmnode2").core!.status(w.now).failures).toEqual([]);
    expect(w.host("cmnode1").core!.status(w.now).failures).toEqual([]);
  });
});
