// What the cores report (events for the log and alert scripts) and what they ask the agents to do,
// around failover, failback, moves and restarts: one event per real transition, no false alarms.
import { afterAll, describe, expect, test } from "bun:test";
import { account, figures, seeds, world } from "./harness.ts";
import type { World } from "./world.ts";

const FILE = "events.test.ts";
const started = performance.now();
afterAll(() => console.log(figures("sim events", started)));

function until(w: World, cond: () => boolean, maxMs: number, what: string): void {
  const t0 = w.now;
  while (!cond()) {
    if (w.now - t0 > maxMs) w.fail(`Timed out after ${maxMs} ms waiting for: ${what}`);
    w.run(w.now + 1);
  }
}
const on = (w: World, res: string) => w.hosts.filter((h) => h.present.has(res)).map((h) => h.name);
const eventsSince = (w: World, t0: number, type: string) => w.events.filter((x) => x.at >= t0 && x.e.type === type);

describe("events", () => {
  const name = "Core() emits takeover and failback for every slot kind, crontabs included";
  test(name, () => {
    for (const seed of seeds(10, 3000)) {
      const w = world({ file: FILE, test: name, nodes: 3, seed, kinds: ["filesystem", "service", "application", "crontab", "ipaddr"] });
      w.startAll();
      w.run(1500);
      const own = w.slots.filter((s) => s.owner === "cmnode1");
      expect(own.length).toBe(5);
      w.powerOff("cmnode1");
      until(w, () => own.every((s) => on(w, s.resource).join() === "cmnode2"), w.checker.bounds.holderMs, "cmnode2 holds every slot of cmnode1");
      w.run(w.now + 500);
      const t0 = w.now;
      w.start("cmnode1");
      until(w, () => own.every((s) => on(w, s.resource).join() === "cmnode1"), w.checker.bounds.failbackMs + 500, "every slot back on cmnode1");
      for (const s of own) {
        // DRCM_NODE is the node concerned: the failed owner on takeover, the returning owner on failback.
        const took = w.events.filter((x) => x.at < t0 && x.node === "cmnode2" && x.e.type === "takeover" && x.e.slot === s.id);
        expect(took.map((x) => [x.e.node, x.e.from, x.e.to])).toEqual([["cmnode1", "cmnode1", "cmnode2"]]);
        expect(took[0]!.e.message).toContain("cmnode2 is taking over");
        const back = eventsSince(w, t0, "failback").filter((x) => x.node === "cmnode1" && x.e.slot === s.id);
        expect(back.map((x) => [x.e.node, x.e.from, x.e.to])).toEqual([["cmnode1", "cmnode2", "cmnode1"]]);
      }
      account(w);
    }
  });

  const name2 = "Core() reports no duplicate_holder for planned make-before-break moves, and does after a partition heal";
  test(name2, () => {
    for (const seed of seeds(10, 3100)) {
      const w = world({ file: FILE, test: name2, nodes: 3, seed });
      w.checker.enabled.delete(3); // the move keeps vip1 off its owner on purpose
      w.startAll();
      w.run(1500);
      w.powerOff("cmnode1");
      w.run(w.now + 1500);
      w.start("cmnode1");
      until(w, () => on(w, "ipaddr:vip1").join() === "cmnode1", w.checker.bounds.failbackMs + 500, "failback of vip1");
      w.run(w.now + 500);
      w.command("cmnode2", { op: "move", resource: "ipaddr:vip1", node: "cmnode3" });
      until(w, () => on(w, "ipaddr:vip1").join() === "cmnode3", 1000, "vip1 moved to cmnode3");
      w.command("cmnode1", { op: "standby", node: "cmnode2" });
      until(w, () => on(w, "ipaddr:vip2").length === 1 && on(w, "ipaddr:vip2")[0] !== "cmnode2", 1000, "vip2 off the standby node");
      w.run(w.now + 500); // every slot of cmnode2 has moved (an unstandby racing in-flight starts is a real duplicate)
      w.command("cmnode1", { op: "unstandby", node: "cmnode2" });
      until(w, () => on(w, "ipaddr:vip2").join() === "cmnode2", w.checker.bounds.failbackMs + 500, "vip2 back after unstandby");
      expect(eventsSince(w, 0, "duplicate_holder").map((x) => x.e.message)).toEqual([]);
      account(w);
    }
    for (const seed of seeds(10, 3150)) {
      const w = world({ file: FILE, test: name2, nodes: 2, seed });
      w.startAll();
      w.run(1500);
      w.cut("cmnode1", "cmnode2"); // no quorum with two nodes: both sides keep or take vip1
      until(w, () => on(w, "ipaddr:vip1").length === 2, 2000, "vip1 on both sides");
      const t0 = w.now;
      w.heal();
      until(w, () => on(w, "ipaddr:vip1").length === 1, w.checker.bounds.duplicateMs, "one vip1 holder after the heal");
      expect(eventsSince(w, t0, "duplicate_holder").length).toBeGreaterThan(0);
      // the winner announces the address again once the loser released it
      const winner = on(w, "ipaddr:vip1")[0]!;
      w.run(w.now + 200);
      expect(w.journal.some((j) => j.at >= t0 && j.node === winner && j.type === "start" && j.reason.includes("announcing again"))).toBe(true);
      account(w);
    }
  });

  const name3 = "Core() starts a failed-back floating IP once on its owner";
  test(name3, () => {
    for (const seed of seeds(10, 3200)) {
      const w = world({ file: FILE, test: name3, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      w.powerOff("cmnode1");
      w.run(w.now + 1500);
      const t0 = w.now;
      w.start("cmnode1");
      until(w, () => on(w, "ipaddr:vip1").join() === "cmnode1", w.checker.bounds.failbackMs + 500, "failback of vip1");
      w.run(w.now + 1000);
      const starts = w.journal.filter((j) => j.at >= t0 && j.node === "cmnode1" && j.type === "start" && j.slot === "ipaddr:vip1@cmnode1");
      expect(starts.map((j) => j.reason)).toEqual(["failback from cmnode2"]);
      account(w);
    }
  });

  const name4 = "Core() emits one node_alive per peer transition and none about itself";
  test(name4, () => {
    for (const seed of seeds(10, 3300)) {
      const w = world({ file: FILE, test: name4, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      const alive = (t0: number) => eventsSince(w, t0, "node_alive");
      expect(alive(0).filter((x) => x.e.node === x.node)).toEqual([]);
      for (const h of w.hosts)
        for (const p of w.hosts) if (p !== h) expect(alive(0).filter((x) => x.node === h.name && x.e.node === p.name).length).toBe(1);
      const t0 = w.now;
      w.kill("cmnode3");
      w.run(w.now + 100);
      w.start("cmnode3"); // a quick restart: peers never saw it dead, only a new incarnation
      w.run(w.now + 1500);
      for (const n of ["cmnode1", "cmnode2"]) {
        const about = alive(t0).filter((x) => x.node === n && x.e.node === "cmnode3");
        expect(about.map((x) => x.e.message)).toEqual([expect.stringContaining("restarted")]);
      }
      expect(alive(0).filter((x) => x.e.node === x.node)).toEqual([]);
      account(w);
    }
  });
  const name5 = "Core() reports a peer that is down at start-up as dead once, and alive only once it is heard";
  test(name5, () => {
    for (const seed of seeds(10, 3400)) {
      const w = world({ file: FILE, test: name5, nodes: 3, seed });
      w.start("cmnode1");
      w.start("cmnode3");
      w.run(3000);
      const t0 = w.now;
      w.start("cmnode2");
      w.run(w.now + 2000);
      const about = (n: string, type: string) => w.events.filter((x) => x.node === n && x.e.node === "cmnode2" && x.e.type === type);
      for (const n of ["cmnode1", "cmnode3"]) {
        const dead = about(n, "node_dead");
        expect(dead.map((x) => x.e.message)).toEqual(["Node cmnode2 has not been heard since this node started"]);
        expect(dead[0]!.at).toBeGreaterThanOrEqual(w.cluster.server.deadTimeMs);
        const alive = about(n, "node_alive");
        expect(alive.length).toBe(1);
        expect(alive[0]!.at).toBeGreaterThanOrEqual(t0);
      }
      account(w);
    }
  });

  const name6 = "Core() reports a failback when the owner's daemon restarts on a host that kept its resources";
  test(name6, () => {
    for (const failbackDelayMs of [0, 300, 2000])
      for (const seed of seeds(5, 3500)) {
        const w = world({ file: FILE, test: name6, nodes: 3, seed, server: { failbackDelayMs }, kinds: ["filesystem", "service", "application", "crontab", "ipaddr"] });
        w.startAll();
        w.run(1500);
        const own = w.slots.filter((s) => s.owner === "cmnode1");
        w.kill("cmnode1"); // the daemon only: the host keeps its address, crontab and services
        until(w, () => own.every((s) => w.events.some((x) => x.node === "cmnode2" && x.e.type === "takeover" && x.e.slot === s.id)), w.checker.bounds.holderMs, "cmnode2 takes over");
        w.run(w.now + 300);
        const t0 = w.now;
        w.start("cmnode1");
        until(w, () => own.every((s) => on(w, s.resource).join() === "cmnode1"), w.checker.bounds.failbackMs + 2000, "every slot back on cmnode1");
        w.run(w.now + 500);
        for (const s of own) {
          const back = eventsSince(w, t0, "failback").filter((x) => x.e.slot === s.id);
          expect(back.map((x) => [x.node, x.e.from, x.e.to])).toEqual([["cmnode1", "cmnode2", "cmnode1"]]);
          expect(eventsSince(w, t0, "takeover").filter((x) => x.e.slot === s.id)).toEqual([]);
        }
        account(w);
      }
  });

  const name7 = "Core() never lets a node outside a slot's candidates hold it, even when every host runs the application at start-up";
  test(name7, () => {
    for (const backups of [0, 1])
      for (const seed of seeds(10, 3600)) {
        const w = world({ file: FILE, test: name7, nodes: 3, seed, backups, kinds: ["application"] });
        for (const h of w.hosts) for (const s of w.slots) h.present.add(s.resource); // a status command that always says "running"
        w.startAll();
        const t0 = w.now;
        for (let t = 0; t < 3000; t += 10) {
          w.run(t0 + t);
          for (const s of w.slots)
            for (const h of w.hosts) {
              const held = h.core?.status(w.now + h.clockOffset).slots.find((x) => x.slot === s.id)?.holders.some((x) => x.node === h.name) ?? false;
              if (held && !s.candidates.includes(h.name)) w.fail(`${h.name} holds ${s.id} (candidates ${s.candidates.join(",")})`);
            }
        }
        // Settled: each slot held by its owner only, and nothing reported as a move between nodes.
        for (const s of w.slots) {
          const holders = w.host(s.owner).core!.status(w.now).slots.find((x) => x.slot === s.id)!.holders;
          expect(holders.map((x) => x.node)).toEqual([s.owner]);
        }
        expect(w.events.filter((x) => x.e.type === "takeover" || x.e.type === "failback" || x.e.type === "duplicate_holder").map((x) => x.e.message)).toEqual([]);
        account(w);
      }
  });

  const alertName = "alert_on = one: a death and a return alert from one node; takeovers from the node that acts; alert_on = all: from every node";
  test(alertName, () => {
    for (const alertOn of ["one", "all"] as const) {
      const w = world({ file: FILE, test: alertName, nodes: 3, seed: 7, server: { alertOn } });
      w.startAll();
      w.run(1500);
      // Start-up: a node finding its peers alive is not news for anyone's mailbox (alert_on = one).
      const startup = w.events.filter((x) => x.alert && x.e.type === "node_alive");
      if (alertOn === "one") expect(startup).toEqual([]);
      const t0 = w.now;
      w.powerOff("cmnode1");
      until(w, () => eventsSince(w, t0, "takeover").length > 0, w.checker.bounds.holderMs, "a takeover");
      w.run(w.now + 300);
      const dead = eventsSince(w, t0, "node_dead");
      expect(dead.map((x) => x.node).sort()).toEqual(["cmnode2", "cmnode3"]);
      const alerted = (xs: typeof dead) => xs.filter((x) => x.alert).map((x) => x.node).sort();
      expect(alerted(dead)).toEqual(alertOn === "one" ? ["cmnode2"] : ["cmnode2", "cmnode3"]);
      // What a node does itself always alerts from it.
      const took = eventsSince(w, t0, "takeover");
      expect(took.every((x) => x.alert)).toBe(true);
      const t1 = w.now;
      w.start("cmnode1");
      until(w, () => eventsSince(w, t1, "node_alive").filter((x) => x.e.node === "cmnode1").length >= 2, 3000, "cmnode1 seen back by both");
      const back = eventsSince(w, t1, "node_alive").filter((x) => x.e.node === "cmnode1");
      // The lowest live node other than the returning one reports its return.
      expect(alerted(back)).toEqual(alertOn === "one" ? ["cmnode2"] : ["cmnode2", "cmnode3"]);
      account(w);
    }
  });
});
