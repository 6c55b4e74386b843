// Seeds, replay lines and the random fault schedule shared by the simulation tests.
import type { ResourceKind, ServerConfig } from "../../lib/config/model.ts";
import { makeCluster, nodeName } from "./topology.ts";
import { World } from "./world.ts";

/** `count` seeds starting at `base`, or just SIM_SEED when it is set (replay of one failing run). */
export function seeds(count: number, base: number): number[] {
  const one = process.env.SIM_SEED;
  if (one !== undefined && one !== "") return [Number(one)];
  return Array.from({ length: count }, (_, i) => base + i);
}

export interface SimSpec {
  readonly file: string;
  readonly test: string;
  readonly nodes: number;
  readonly seed: number;
  readonly server?: Partial<ServerConfig>;
  readonly kinds?: readonly ResourceKind[];
  readonly inactive?: readonly string[];
  readonly backups?: number;
}

export function world(s: SimSpec): World {
  const cluster = makeCluster({ nodes: s.nodes, server: s.server, kinds: s.kinds, inactive: s.inactive, backups: s.backups });
  return new World({ seed: s.seed, cluster, replayCmd: `SIM_SEED=${s.seed} bun test ./test/sim/${s.file} -t "${s.test}"` });
}

export const names = (n: number): string[] => Array.from({ length: n }, (_, i) => nodeName(i));

/** Run totals for the figures printed at the end of each test file. */
export const totals = { runs: 0, steps: 0, messages: 0, simMs: 0, maxDuplicateMs: 0, maxGapMs: 0 };
export function account(w: World): void {
  totals.runs++;
  totals.steps += w.steps;
  totals.messages += w.messages;
  totals.simMs += w.now;
  totals.maxDuplicateMs = Math.max(totals.maxDuplicateMs, w.checker.maxDuplicateMs);
  totals.maxGapMs = Math.max(totals.maxGapMs, w.checker.maxGapMs);
}
export function figures(label: string, startedAt: number): string {
  const line = `${label}: ${totals.runs} runs, ${totals.steps} steps, ${totals.messages} messages, ${(totals.simMs / 1000).toFixed(0)} s simulated in ${((performance.now() - startedAt) / 1000).toFixed(1)} s; longest duplicate between agreeing nodes ${totals.maxDuplicateMs} ms, longest gap ${totals.maxGapMs} ms`;
  Object.assign(totals, { runs: 0, steps: 0, messages: 0, simMs: 0, maxDuplicateMs: 0, maxGapMs: 0 });
  return line;
}

/**
 * Random faults for `durationMs`, then everything is healed and restored and the cluster gets a quiet
 * period long enough for invariants 2 and 3 (holders, failback) to be judged.
 */
export function chaos(w: World, durationMs: number, opts: { heavy?: boolean } = {}): void {
  const all = w.hosts.map((h) => h.name);
  const s = w.cluster.server;
  const end = w.now + durationMs;
  const r = w.rng;
  while (w.now < end) {
    w.run(w.now + r.int(300, 2500));
    const victim = r.pick(all);
    const h = w.host(victim);
    switch (r.int(0, opts.heavy ? 12 : 8)) {
      case 0:
        if (h.core) w.kill(victim);
        else w.start(victim);
        break;
      case 1:
        if (h.core) w.restart(victim);
        else w.start(victim);
        break;
      case 2:
        w.stall(victim, r.int(100, 3 * s.deadTimeMs));
        break;
      case 3:
        w.isolate(victim);
        break;
      case 4: {
        const cut = r.int(1, Math.max(1, Math.floor(all.length / 2)));
        const shuffled = [...all].sort(() => r.next() - 0.5);
        w.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        break;
      }
      case 5:
        w.heal();
        break;
      case 6:
        w.setDrop(r.pick([0, 0.05, 0.1, 0.2]));
        break;
      case 7:
        w.clockJump(victim, r.pick([-5000, -200, 150, 2000]));
        break;
      case 8:
        if (h.core) w.leave(victim);
        else w.start(victim);
        break;
      case 9:
        w.dup = r.pick([0, 0.05, 0.2]);
        w.reorder = r.pick([0, 0.05, 0.2]);
        break;
      case 10:
        if (h.down) w.start(victim);
        else w.powerOff(victim);
        break;
      case 11: {
        // Operator move of a random resource to one of its candidates, typed on a random node.
        const slot = r.pick(w.slots);
        const by = r.pick(all);
        if (w.host(by).core) w.command(by, { op: "move", resource: slot.resource, node: r.pick(slot.candidates) });
        break;
      }
      case 12: {
        const by = r.pick(all);
        if (w.host(by).core) w.command(by, { op: h.standby ? "unstandby" : "standby", node: victim });
        break;
      }
    }
  }
  settle(w);
}

/** Heal, restart every daemon that is not running, and wait out failback. */
export function settle(w: World): void {
  const stallEnd = Math.max(...w.hosts.map((h) => h.stalledUntil));
  if (stallEnd > w.now) w.run(stallEnd + 1);
  w.heal();
  w.setDrop(0);
  w.dup = 0;
  w.reorder = 0;
  for (const h of w.hosts) if (!h.core && !h.leaving) w.start(h.name);
  w.run(w.now + w.cluster.server.deadTimeMs * 2);
  let late = false;
  for (const h of w.hosts)
    if (!h.core && !h.leaving) {
      w.start(h.name);
      late = true;
    }
  if (late) w.run(w.now + w.cluster.server.deadTimeMs * 2);
  // Operator state is undone too: nobody stays in standby and every moved resource is moved back to its owner.
  for (const h of w.hosts) if (h.standby) w.command(h.name, { op: "unstandby", node: h.name });
  if (w.moved.size > 0) {
    w.run(w.now + w.cluster.server.keepAliveIntervalMs * 2);
    for (const s of w.slots) if (w.moved.has(s.resource)) w.command(s.owner, { op: "move", resource: s.resource, node: s.owner });
    w.moved.clear();
  }
  w.run(w.now + w.checker.bounds.failbackMs + 3 * w.cluster.server.keepAliveIntervalMs);
}
