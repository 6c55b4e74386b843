// LinkMonitor (lib/node/links.ts): a link silent for dead_time while its node is heard on another
// one is reported once (link_down) and again when heard (link_up); a node silent everywhere is dead,
// not "all links down".
import { describe, expect, test } from "bun:test";
import { LinkMonitor } from "../../lib/node/links.ts";

const DEAD = 800;
const links = new Map([
  ["n2", ["10.0.0.12", "10.1.0.12"]],
  ["n3", ["10.0.0.13", "10.1.0.13"]],
]);

function beat(m: LinkMonitor, node: string, link: number, t: number) {
  return m.heard(node, link, t);
}

describe("LinkMonitor", () => {
  test("LinkMonitor reports a silent link once, names the live one, and reports it up again", () => {
    const m = new LinkMonitor(links, DEAD);
    const events: string[] = [];
    for (let t = 0; t <= 3000; t += 50) {
      beat(m, "n2", 0, t);
      beat(m, "n3", 0, t);
      beat(m, "n3", 1, t);
      // link 2 of n2 only until 1000 ms, then again from 2500 ms
      if (t <= 1000 || t >= 2500) {
        const up = beat(m, "n2", 1, t);
        if (up) events.push(`${t} ${up.type} ${up.node} ${up.link}`);
      }
      for (const e of m.check(t)) events.push(`${t} ${e.type} ${e.node} ${e.link} ${e.message}`);
    }
    expect(events).toEqual([
      "1800 link_down n2 2 Heartbeat link 2 to n2 (10.1.0.12) is down: silent for 800 ms; n2 is still heard on link 1",
      "2500 link_up n2 2",
    ]);
    expect(m.states(3000).map((s) => `${s.node}/${s.link}:${s.up}`)).toEqual(["n2/0:true", "n2/1:true", "n3/0:true", "n3/1:true"]);
  });

  test("LinkMonitor says nothing about the links of a dead node, and judges them afresh after it returns", () => {
    const m = new LinkMonitor(links, DEAD);
    const events: string[] = [];
    for (let t = 0; t <= 6000; t += 50) {
      const alive = t <= 1000 || t >= 3000;
      if (alive) beat(m, "n2", 0, t);
      // link 2 of n2 never comes back after the restart
      if (t <= 1000) beat(m, "n2", 1, t);
      beat(m, "n3", 0, t);
      beat(m, "n3", 1, t);
      for (const e of m.check(t)) events.push(`${t} ${e.type} ${e.node} ${e.link}`);
    }
    // Nothing while n2 is dead (1000-3000); link 2 reported dead_time after n2 is heard again.
    expect(events).toEqual(["3800 link_down n2 2"]);
  });

  test("LinkMonitor with one link per node reports nothing and lists no states", () => {
    const m = new LinkMonitor(new Map([["n2", ["10.0.0.12"]]]), DEAD);
    expect(m.heard("n2", 0, 0)).toBeNull();
    expect(m.check(5000)).toEqual([]);
    expect(m.states(5000)).toEqual([]);
  });
});
