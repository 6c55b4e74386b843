// Random faults on whole clusters of the real core; the six invariants are checked at every step.
import { afterAll, describe, expect, test } from "bun:test";
import { account, chaos, figures, seeds, world } from "./harness.ts";

const FILE = "chaos.test.ts";
const started = performance.now();
afterAll(() => console.log(figures("sim chaos", started)));

describe("Core under random faults", () => {
  for (const [nodes, count, ms] of [
    [2, 60, 20000],
    [3, 60, 20000],
    [4, 40, 20000],
    [16, 6, 15000],
    [64, 1, 5000],
  ] as const) {
    const name = `Core() keeps the invariants with ${nodes} nodes under kill, restart, stall, partition, loss and clock jumps`;
    test(name, () => {
      for (const seed of seeds(count, 1000 * nodes)) {
        const w = world({ file: FILE, test: name, nodes, seed });
        w.startAll();
        w.run(2000);
        chaos(w, ms, { heavy: true });
        account(w);
        // after the quiet period every slot is back on its owner, once
        for (const s of w.slots) {
          const holders = w.holdersOf(s.resource);
          if (s.exclusive && (holders.length !== 1 || holders[0] !== s.owner)) w.fail(`After the quiet period ${s.resource} is on ${holders.join(", ") || "no node"}, not only on its owner ${s.owner}`);
        }
        expect(w.hosts.every((h) => h.core !== null)).toBe(true);
      }
    }, 60_000);
  }
});
