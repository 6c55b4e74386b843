// Failure and partition cases one by one, each over many seeds; the invariants are checked throughout.
import { afterAll, describe, expect, test } from "bun:test";
import { account, figures, seeds, world } from "./harness.ts";
import type { World } from "./world.ts";
import type { ServerConfig } from "../../lib/config/model.ts";
import { makeCluster } from "./topology.ts";

const FILE = "scenarios.test.ts";
const started = performance.now();
const takeoverMs: number[] = [];
const leaveMs: number[] = [];
const failbackMs: number[] = [];
afterAll(() => {
  const stat = (xs: number[]) => (xs.length ? `min ${Math.min(...xs)} / max ${Math.max(...xs)} ms over ${xs.length}` : "none");
  console.log(figures("sim scenarios", started));
  console.log(`  floating IP takeover after a kill (from the kill): ${stat(takeoverMs)}`);
  console.log(`  floating IP takeover after a graceful stop: ${stat(leaveMs)}`);
  console.log(`  failback after the primary restarted (from the restart): ${stat(failbackMs)}`);
});

/** Run until `cond` holds (checked every ms), at most `maxMs`; returns the time it took or fails the run. */
function until(w: World, cond: () => boolean, maxMs: number, what: string): number {
  const t0 = w.now;
  while (!cond()) {
    if (w.now - t0 > maxMs) w.fail(`Timed out after ${maxMs} ms waiting for: ${what}`);
    w.run(w.now + 1);
  }
  return w.now - t0;
}
const on = (w: World, res: string) => w.hosts.filter((h) => h.present.has(res)).map((h) => h.name);
const heldBy = (w: World, res: string) => w.holdersOf(res);

describe("failover", () => {
  const name = "Core() moves a killed owner's floating IP to the first backup, then to the next";
  test(name, () => {
    for (const seed of seeds(40, 100)) {
      const w = world({ file: FILE, test: name, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      expect(heldBy(w, "ipaddr:vip1")).toEqual(["cmnode1"]);
      w.kill("cmnode1");
      takeoverMs.push(until(w, () => heldBy(w, "ipaddr:vip1").includes("cmnode2"), w.checker.bounds.holderMs, "vip1 on cmnode2"));
      expect(heldBy(w, "crontab:cron1")).toEqual(["cmnode2"]);
      w.run(w.now + 500);
      w.kill("cmnode2"); // 3 nodes, 2 dead: cmnode3 alone has no quorum
      w.run(w.now + 2000);
      expect(heldBy(w, "ipaddr:vip1")).toEqual([]);
      w.start("cmnode2");
      until(w, () => heldBy(w, "ipaddr:vip2").includes("cmnode2"), 2000, "vip2 back on cmnode2");
      account(w);
    }
  });

  const name2 = "Core() hands over at once when a peer stops gracefully";
  test(name2, () => {
    for (const seed of seeds(40, 200)) {
      const w = world({ file: FILE, test: name2, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      w.leave("cmnode1");
      leaveMs.push(until(w, () => heldBy(w, "ipaddr:vip1").includes("cmnode2"), w.cluster.server.deadTimeMs / 2, "vip1 on cmnode2 well before dead_time"));
      until(w, () => w.host("cmnode1").core === null, 1000, "cmnode1 daemon exits");
      // keep_services = 0 by default: its own service is stopped too; crontabs and IPs always
      expect(w.host("cmnode1").present.size).toBe(0);
      account(w);
    }
  });

  const name3 = "Core() of a restarted daemon releases what it no longer owns within dead_time";
  test(name3, () => {
    for (const seed of seeds(40, 300)) {
      const w = world({ file: FILE, test: name3, nodes: 3, seed, server: { autoFailback: false } });
      w.startAll();
      w.run(1500);
      w.kill("cmnode1"); // SIGKILL: vip1 stays configured on cmnode1's host
      until(w, () => heldBy(w, "ipaddr:vip1").includes("cmnode2"), w.checker.bounds.holderMs, "takeover");
      w.run(w.now + 300);
      expect(on(w, "ipaddr:vip1").sort()).toEqual(["cmnode1", "cmnode2"]);
      w.start("cmnode1");
      until(w, () => !w.host("cmnode1").present.has("ipaddr:vip1"), w.cluster.server.deadTimeMs, "cmnode1 releases its leftover vip1");
      w.run(w.now + 3000);
      expect(on(w, "ipaddr:vip1")).toEqual(["cmnode2"]); // auto_failback = 0: it stays
      account(w);
    }
  });

  const name4 = "Core() fails back after failback_delay, make-before-break for IPs";
  test(name4, () => {
    for (const seed of seeds(40, 400)) {
      const w = world({ file: FILE, test: name4, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      w.powerOff("cmnode1");
      until(w, () => heldBy(w, "ipaddr:vip1").length === 1, w.checker.bounds.holderMs, "takeover");
      w.run(w.now + 1000);
      w.start("cmnode1");
      const t0 = w.now;
      let gap = false;
      const took = until(
        w,
        () => {
          if (heldBy(w, "ipaddr:vip1").length === 0) gap = true;
          return on(w, "ipaddr:vip1").join() === "cmnode1";
        },
        w.checker.bounds.failbackMs + 500,
        "vip1 back on cmnode1 alone",
      );
      failbackMs.push(took);
      expect(w.now - t0).toBeGreaterThanOrEqual(w.cluster.server.failbackDelayMs);
      expect(gap).toBe(false);
      account(w);
    }
  });
});

describe("operator", () => {
  const name = "Core() leaves resources on the backup with auto_failback = 0 until an operator moves them";
  test(name, () => {
    for (const seed of seeds(20, 500)) {
      const w = world({ file: FILE, test: name, nodes: 3, seed, server: { autoFailback: false } });
      w.startAll();
      w.run(1500);
      w.powerOff("cmnode1");
      w.run(w.now + 1500);
      w.start("cmnode1");
      w.run(w.now + 8000);
      expect(on(w, "ipaddr:vip1")).toEqual(["cmnode2"]);
      const st = w.host("cmnode3").core!.status(w.now).slots.find((s) => s.slot === "ipaddr:vip1@cmnode1")!;
      expect(st.desired).toBe("cmnode2");
      const step = w.command("cmnode3", { op: "move", resource: "ipaddr:vip1", node: "cmnode1" });
      expect(step?.rejected).toBeUndefined();
      until(w, () => on(w, "ipaddr:vip1").join() === "cmnode1", 1000, "vip1 moved to cmnode1");
      expect(w.command("cmnode3", { op: "move", resource: "ipaddr:vip1", node: "nosuch" })?.rejected).toContain("nosuch");
      account(w);
    }
  });

  const name2 = "Core() in standby holds nothing and keeps heartbeating";
  test(name2, () => {
    for (const seed of seeds(20, 600)) {
      const w = world({ file: FILE, test: name2, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      const step = w.command("cmnode3", { op: "standby", node: "cmnode1" });
      expect(step?.forwardedTo).toContain("cmnode1");
      until(w, () => w.host("cmnode1").present.size === 0, 1000, "cmnode1 empties");
      expect(w.host("cmnode1").core!.standby).toBe(true);
      expect(heldBy(w, "ipaddr:vip1")).toEqual(["cmnode2"]);
      const st = w.host("cmnode2").core!.status(w.now);
      expect(st.nodes.find((n) => n.nodename === "cmnode1")!.state).toBe("standby");
      w.command("cmnode2", { op: "unstandby", node: "cmnode1" });
      until(w, () => on(w, "ipaddr:vip1").join() === "cmnode1", w.checker.bounds.failbackMs + 500, "vip1 back after unstandby");
      account(w);
    }
  });

  const name3 = "Core() restarts a failing resource in place, hands it on after max_failures, cleanup clears it";
  test(name3, () => {
    for (const seed of seeds(20, 700)) {
      const w = world({ file: FILE, test: name3, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      w.failWatch("cmnode1", "service:svc1");
      until(w, () => heldBy(w, "service:svc1").includes("cmnode2") && !w.host("cmnode1").present.has("service:svc1"), 6000, "svc1 handed to cmnode2");
      const st = w.host("cmnode1").core!.status(w.now).slots.find((s) => s.slot === "service:svc1@cmnode1")!;
      expect(st.failedOn).toEqual(["cmnode1"]);
      expect(w.events.filter((e) => e.node === "cmnode1" && e.e.type === "resource_failed").length).toBeGreaterThanOrEqual(3);
      w.failWatch("cmnode1", "service:svc1", false);
      w.host("cmnode1").faulted.delete("service:svc1");
      w.command("cmnode2", { op: "cleanup", resource: "service:svc1" });
      until(w, () => on(w, "service:svc1").join() === "cmnode1", w.checker.bounds.failbackMs + 500, "svc1 back on cmnode1 after cleanup");
      account(w);
    }
  });

  const name5 = "Core() leaves no duplicate when a moved resource's target resumes after a stall: the claim winner keeps it";
  test(name5, () => {
    for (const seed of seeds(20, 1450)) {
      const w = world({ file: FILE, test: name5, nodes: 3, seed });
      const dead = w.cluster.server.deadTimeMs;
      const beat = w.cluster.server.keepAliveIntervalMs;
      w.startAll();
      w.run(1500);
      for (const resource of ["ipaddr:vip1", "service:svc1"]) expect(w.command("cmnode3", { op: "move", resource, node: "cmnode2" })?.rejected).toBeUndefined();
      until(w, () => on(w, "ipaddr:vip1").join() === "cmnode2" && on(w, "service:svc1").join() === "cmnode2", 1000, "vip1 and svc1 moved to cmnode2");
      w.run(w.now + 500);
      w.stall("cmnode2", 3000); // cmnode1 takes both back with a newer claim meanwhile
      w.run(w.now + 3000);
      expect(on(w, "ipaddr:vip1").sort()).toEqual(["cmnode1", "cmnode2"]);
      // once cmnode2 runs again, the duplicate ends within dead_time + a few intervals (invariant 1 for the IP)
      until(w, () => on(w, "ipaddr:vip1").join() === "cmnode1" && on(w, "service:svc1").join() === "cmnode1", dead + 8 * beat, "the stale cmnode2 releases vip1 and svc1");
      w.run(w.now + 10_000);
      expect(on(w, "ipaddr:vip1")).toEqual(["cmnode1"]);
      expect(on(w, "service:svc1")).toEqual(["cmnode1"]);
      for (const h of w.hosts) expect(h.core!.status(w.now).slots.find((x) => x.slot === "ipaddr:vip1@cmnode1")!.desired).toBe("cmnode1");
      account(w);
    }
  });

  const name6 = "Core() forgets a move whose target never took it, so the old holder does not wait for ever";
  test(name6, () => {
    for (const seed of seeds(10, 1480)) {
      const w = world({ file: FILE, test: name6, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      w.checker.enabled.delete(2); // the crontab is unheld on purpose while the lost move lasts
      w.checker.enabled.delete(3);
      w.cut("cmnode1", "cmnode2"); // cmnode3 still relays liveness: nobody is dead, but the command cannot reach cmnode2
      w.command("cmnode1", { op: "move", resource: "crontab:cron1", node: "cmnode2" });
      w.run(w.now + 500);
      expect(on(w, "crontab:cron1")).toEqual([]); // break-before-make: released for a move that never comes
      const s = w.cluster.server;
      until(w, () => on(w, "crontab:cron1").join() === "cmnode1", 2 * s.deadTimeMs + s.actionTimeoutMs.crontab + 500, "cron1 back on cmnode1");
      account(w);
    }
  });

  const name4 = "NodeDriver reload command: forwarded to every peer, and every node runs the new config";
  test(name4, () => {
    const w = world({ file: FILE, test: name4, nodes: 3, seed: 1 });
    w.startAll();
    w.run(500);
    w.setConfig(makeCluster({ nodes: 3, server: { failbackDelayMs: 7000 }, fingerprint: "e".repeat(64) }));
    const step = w.command("cmnode1", { op: "reload" });
    expect(step?.ok).toBe(true);
    expect([...new Set(step?.forwardedTo)].sort()).toEqual(["cmnode2", "cmnode3"]);
    w.run(w.now + 500);
    for (const h of w.hosts) expect(h.driver!.cluster.server.failbackDelayMs).toBe(7000);
  });
});

describe("reload rules", () => {
  /** Every node reloads `next`, one after another `gapMs` apart; nobody may die and nothing may move. */
  const rolling = (nodes: number, seed: number, next: Partial<ServerConfig>, gapMs: number) => {
    const w = world({ file: FILE, test: "reload rules", nodes, seed });
    w.startAll();
    w.run(w.checker.bounds.failbackMs + 2000);
    const before = w.journal.length;
    w.setConfig(makeCluster({ nodes, server: next, fingerprint: "d".repeat(64) }));
    for (const h of w.hosts) {
      expect(w.reload(h.name)?.ok).toBe(true);
      w.run(w.now + gapMs);
    }
    w.run(w.now + 5000);
    expect(w.events.filter((e) => e.e.type === "node_dead" || e.e.type === "node_suspect").map((e) => `${e.node} ${e.e.message}`)).toEqual([]);
    expect(w.journal.slice(before)).toEqual([]);
    return w;
  };

  test("NodeDriver reload of a new udpport on every node, even seconds apart: no death, no move, old port closed", () => {
    for (const seed of seeds(5, 2100)) {
      for (const gap of [3, 2000]) {
        const w = rolling(3, seed, { udpport: 54000 }, gap);
        for (const h of w.hosts) expect([...h.listen]).toEqual([54000]);
      }
    }
  });

  test("NodeDriver reload of keep_alive_interval and dead_time on every node: no death, no move", () => {
    for (const seed of seeds(5, 2200)) {
      rolling(3, seed, { keepAliveIntervalMs: 100, deadTimeMs: 1200 }, 700);
      rolling(3, seed, { keepAliveIntervalMs: 20, deadTimeMs: 400 }, 300);
    }
  });

  test("NodeDriver reload that changes a restart-only key is refused whole, naming the key", () => {
    const w = world({ file: FILE, test: "restart-only", nodes: 2, seed: 7 });
    w.startAll();
    w.run(1500);
    w.setConfig(makeCluster({ nodes: 2, server: { logDir: "/srv/log", failbackDelayMs: 9000, lines: { log_dir: 12 } }, fingerprint: "c".repeat(64) }));
    const r = w.reload("cmnode1");
    expect(r?.ok).toBe(false);
    expect(r?.message).toContain("restart needed to change log_dir (/etc/drcm/cm.cfg:12");
    // Never half-applied: the live key of the same file did not take effect either.
    expect(w.host("cmnode1").driver!.cluster.server.failbackDelayMs).toBe(5000);
  });
});

describe("split brain", () => {
  const name = "Core() in a minority partition drops every floating IP and crontab, the majority takes over";
  test(name, () => {
    for (const [nodes, base] of [
      [3, 800],
      [5, 850],
    ] as const) {
      for (const seed of seeds(25, base)) {
        const w = world({ file: FILE, test: name, nodes, seed });
        w.startAll();
        w.run(1500);
        w.isolate("cmnode1");
        until(
          w,
          () => on(w, "ipaddr:vip1").join() === "cmnode2" && on(w, "crontab:cron1").join() === "cmnode2",
          w.checker.bounds.minorityMs,
          "vip1 and cron1 only on cmnode2",
        );
        expect(w.host("cmnode1").present.has("service:svc1")).toBe(true); // non-exclusive primary keeps running
        w.heal();
        until(w, () => on(w, "ipaddr:vip1").join() === "cmnode1", w.checker.bounds.failbackMs + 1500, "vip1 back after heal");
        account(w);
      }
    }
  });

  const name2 = "Core() with two nodes and ping_targets: the side that reaches no target neither takes over nor keeps";
  test(name2, () => {
    for (const seed of seeds(25, 900)) {
      const w = world({ file: FILE, test: name2, nodes: 2, seed, server: { pingTargets: ["192.0.2.1"] } });
      w.startAll();
      w.run(1500);
      w.cut("cmnode1", "cmnode2");
      w.setPing("cmnode2", false);
      w.run(w.now + 2500);
      expect(on(w, "ipaddr:vip1")).toEqual(["cmnode1"]);
      expect(on(w, "ipaddr:vip2")).toEqual(["cmnode1"]);
      expect(w.host("cmnode2").present.has("crontab:cron2")).toBe(false);
      account(w);
    }
  });

  const name3 = "Core() runs fence_script before taking over a dead peer's floating IP, and only on success";
  test(name3, () => {
    for (const seed of seeds(25, 950)) {
      const w = world({ file: FILE, test: name3, nodes: 2, seed, server: { fenceScript: "/etc/drcm/fence.sh" } });
      w.startAll();
      w.run(1500);
      w.host("cmnode2").fenceFail = true;
      w.checker.enabled.delete(2); // the IP and crontab stay unheld on purpose while fencing fails
      w.kill("cmnode1");
      w.run(w.now + 2500);
      expect(on(w, "ipaddr:vip1")).toEqual(["cmnode1"]); // fencing failed: no takeover of the IP
      expect(heldBy(w, "service:svc1")).toEqual(["cmnode2"]); // services need no fencing
      w.host("cmnode2").fenceFail = false;
      w.lastDisturb = w.now;
      w.checker.enabled.add(2);
      w.run(w.now + 2 * w.cluster.server.deadTimeMs);
      expect(w.host("cmnode1").down).toBe(true); // fenced (powered off)
      expect(on(w, "ipaddr:vip1")).toEqual(["cmnode2"]);
      expect(w.events.some((e) => e.e.type === "fence" && e.e.message.startsWith("Fenced node cmnode1"))).toBe(true);
      account(w);
    }
  });
});

describe("local health", () => {
  const name = "Core() stalled by SIGSTOP does not accuse its peers and gives up what was taken over";
  test(name, () => {
    for (const seed of seeds(40, 1100)) {
      const w = world({ file: FILE, test: name, nodes: 3, seed });
      w.startAll();
      w.run(1500);
      w.stall("cmnode1", 3000);
      w.run(w.now + 3000 + 1);
      expect(w.events.some((e) => e.node === "cmnode1" && e.e.type === "local_stall")).toBe(true);
      w.run(w.now + w.cluster.server.deadTimeMs);
      expect(w.events.filter((e) => e.node === "cmnode1" && e.e.type === "node_dead")).toEqual([]);
      expect(on(w, "ipaddr:vip1")).toEqual(["cmnode2"]);
      account(w);
    }
  });

  const name2 = "Core() with node_is_active = 0 runs no primaries and shows as inactive";
  test(name2, () => {
    for (const seed of seeds(20, 1200)) {
      const w = world({ file: FILE, test: name2, nodes: 3, seed, inactive: ["cmnode1"] });
      w.startAll();
      w.run(2000);
      expect(w.host("cmnode1").present.size).toBe(0);
      expect(heldBy(w, "ipaddr:vip1")).toEqual(["cmnode2"]);
      expect(w.host("cmnode2").core!.status(w.now).nodes.find((n) => n.nodename === "cmnode1")!.state).toBe("inactive");
      account(w);
    }
  });

  const name3 = "Core() sees no false death with defaults and 20% random loss over 10 simulated minutes";
  test(name3, () => {
    for (const [nodes, count] of [
      [2, 3],
      [3, 3],
      [4, 2],
    ] as const) {
      for (const seed of seeds(count, 1300 + nodes * 10)) {
        const w = world({ file: FILE, test: name3, nodes, seed });
        w.startAll();
        w.run(1000);
        w.setDrop(0.2);
        w.run(w.now + 600_000);
        expect(w.events.filter((e) => e.e.type === "node_dead")).toEqual([]);
        expect(w.checker.falseDeaths).toBe(0);
        account(w);
      }
    }
  }, 60000);
});
