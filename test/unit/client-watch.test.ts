// `--command=watch`: frame fitting and change highlighting, event dedup across nodes, and both loops
// (terminal and event stream) driven with a fake channel and a fake sleep that steps the cluster.
import { expect, test } from "bun:test";
import { PLAIN, makePaint } from "../../lib/client/paint.ts";
import { parseCommand } from "../../lib/client/commands.ts";
import { complete } from "../../lib/client/console.ts";
import { runCommand, type ClientContext } from "../../lib/client/run.ts";
import { utcStamp } from "../../lib/client/stamp.ts";
import { ChangeTracker, drawFrame, EventDeduper, fitLine, HIGHLIGHT_MS, lineKey, plain, type SeenEvent } from "../../lib/client/watch-view.ts";
import type { LiveIo } from "../../lib/client/watch.ts";
import type { CallResult, Caller, Endpoint } from "../../lib/io/control-client.ts";
import type { ClusterStatus } from "../../lib/core/types.ts";
import { CLUSTER, NOW, SCENARIOS } from "../fixtures/golden/scenarios.ts";

test("fitLine() expands TABs to spaces and cuts at the width, keeping colour codes free of width", () => {
  expect(fitLine("  cmnode1\tha1.test\tUp", 80)).toBe("  cmnode1       ha1.test        Up");
  expect(fitLine("abcdefghij", 4)).toBe("abcd");
  expect(fitLine("a\tb", 5)).toBe("a    ");
  const red = "\x1b[31mDown\x1b[0m rest";
  expect(fitLine(red, 80)).toBe(red);
  expect(plain(fitLine("\x1b[31mDownDown", 4))).toBe("Down");
  expect(fitLine("\x1b[31mDownDown", 4).endsWith("\x1b[0m")).toBe(true);
});

test("lineKey() ignores ages, uptimes and the report clock, not owners or states", () => {
  expect(lineKey("  cmnode3  alive  400ms ago  same  yes  2h00m")).toBe(lineKey("  cmnode3  alive  1.2s ago  same  yes  2h01m"));
  expect(lineKey("     why: its primary v1 is dead, no heartbeat for 1024 ms")).toBe(lineKey("     why: its primary v1 is dead, no heartbeat for 8199 ms"));
  expect(lineKey("Cluster Manager Status Monitor      Nov 25 18:44:37")).toBe(lineKey("Cluster Manager Status Monitor      Nov 25 18:44:38"));
  expect(lineKey("  cmnode1\tha1.test\tUp  \t10.0.0.1")).not.toBe(lineKey("  cmnode1\tha1.test\tDown\t10.0.0.1"));
  expect(lineKey("   IPaddr:\tvip\tha2.test\tOK-Backup\tNov 25 18:44:11")).not.toBe(lineKey("   IPaddr:\tvip\tha1.test\tOK-Normal\tNov 25 18:44:11"));
});

test("ChangeTracker highlights new lines for HIGHLIGHT_MS, nothing on the first frame, and not lines merely shifted down", () => {
  const t = new ChangeTracker();
  expect([...t.update(["a", "b  400ms ago", "c"], 0)]).toEqual([]);
  expect([...t.update(["a", "b  1.4s ago", "c"], 1000)]).toEqual([]);
  // A line inserted above b and c: only it is news.
  expect([...t.update(["a", "NEW", "b  2.4s ago", "c"], 2000)]).toEqual([1]);
  expect([...t.update(["a", "NEW", "b  3.4s ago", "c"], 2000 + HIGHLIGHT_MS - 1)]).toEqual([1]);
  expect([...t.update(["a", "NEW", "b  3.4s ago", "c"], 2000 + HIGHLIGHT_MS)]).toEqual([]);
  // A line that left and came back is news again.
  t.update(["a", "c"], 10_000);
  expect([...t.update(["a", "NEW", "c"], 11_000)]).toEqual([1]);
});

test("drawFrame() redraws from the corner, clears each line and the rest, fits the height and marks changes", () => {
  const lines = Array.from({ length: 30 }, (_, i) => `  line ${i}\tx`);
  const f = drawFrame(lines, new Set([2]), { columns: 40, rows: 10, color: false, title: "drcm watch" });
  expect(f.startsWith("\x1b[H")).toBe(true);
  expect(f.endsWith("\x1b[J")).toBe(true);
  const rows = f.slice(3, -3).split("\r\n");
  expect(rows.length).toBe(10);
  expect(rows.every((r) => r.endsWith("\x1b[K"))).toBe(true);
  expect(rows[0]).toBe("drcm watch\x1b[K");
  expect(rows[3]).toBe("> line 2        x\x1b[K");
  expect(rows[9]).toContain("... 22 more lines");
  expect(f).not.toContain("\t");
  const colored = drawFrame(["  a", "  b"], new Set([1]), { columns: 40, rows: 10, color: true, title: "t" });
  expect(colored).toContain("\x1b[7m  b\x1b[0m");
});

const ev = (at: number, type: string, extra: Partial<SeenEvent["event"]> = {}, seq = 1): SeenEvent => ({ seq, at, event: { type, message: `${type} message`, ...extra } });

test("EventDeduper prints an event several nodes report once, and a repeat minutes later again", () => {
  const d = new EventDeduper();
  expect(d.fresh(ev(1000, "node_dead", { node: "n1" }))).toBe(true);
  expect(d.fresh(ev(1030, "node_dead", { node: "n1" }))).toBe(false);
  expect(d.fresh(ev(1030, "node_dead", { node: "n2" }))).toBe(true);
  expect(d.fresh(ev(1040, "takeover", { slot: "ipaddr:vip@n1", to: "n2" }))).toBe(true);
  expect(d.fresh(ev(120_000, "node_dead", { node: "n1" }))).toBe(true);
});

test("watch is a documented command with --json and --interval, completed in the console", () => {
  const p = parseCommand(["watch", "--json", "--interval=2s"]);
  expect(p.ok).toBe(true);
  expect(parseCommand(["watch", "a", "b"]).ok).toBe(false);
  expect(complete(CLUSTER, "wat")[0]).toEqual(["watch "]);
  expect(complete(CLUSTER, "watch --")[0]).toEqual(expect.arrayContaining(["--json", "--interval="]));
});

interface Fake {
  ctx: ClientContext;
  out: () => string;
  err: () => string;
  calls: string[];
  stop: AbortController;
}

/**
 * A 3-node cluster behind a fake channel. `steps[i]` runs before the i-th sleep returns (so the
 * loop sees the change on its next round); the watch is stopped after the last step.
 */
function fake(o: { tty: boolean; steps: ((w: World) => void)[]; color?: boolean }): Fake {
  const world: World = { view: SCENARIOS.healthy, events: new Map(CLUSTER.nodes.map((n) => [n.nodename, []])), seq: new Map(), down: new Set(), t: NOW };
  let out = "";
  let err = "";
  const calls: string[] = [];
  const stop = new AbortController();
  const caller: Caller = {
    async call(ep: Endpoint, command, args): Promise<CallResult> {
      calls.push(`${ep.nodename} ${command} ${args.join(" ")}`.trim());
      if (world.down.has(ep.nodename)) return { ok: false, error: "ECONNREFUSED" };
      const info = { nodename: ep.nodename, version: "2.0.0", uptimeMs: 1, rejected: {} };
      if (command === "status") return { ok: true, via: "tcp", reply: { ok: true, info, status: { ...world.view, self: ep.nodename } } };
      if (command === "events") {
        const all = world.events.get(ep.nodename)!;
        const since = Number(args[0]);
        return { ok: true, via: "tcp", reply: { ok: true, info, events: all.filter((e) => e.seq > since), last: all.at(-1)?.seq ?? 0, missed: false } };
      }
      return { ok: false, error: "unexpected" };
    },
  };
  let step = 0;
  const live: LiveIo = {
    tty: o.tty ? { columns: () => 100, rows: () => 200, onResize: () => () => {} } : null,
    signal: stop.signal,
    sleep: async () => {
      world.t += 1000;
      const s = o.steps[step++];
      if (s === undefined) stop.abort();
      else s(world);
    },
  };
  const ctx: ClientContext = {
    cluster: CLUSTER,
    self: CLUSTER.nodes[1]!,
    caller,
    now: () => world.t,
    stamp: utcStamp,
    paint: o.color ? makePaint(true) : PLAIN,
    json: false,
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    console: false,
    live,
  };
  return { ctx, out: () => out, err: () => err, calls, stop };
}

interface World {
  view: ClusterStatus;
  events: Map<string, SeenEvent[]>;
  seq: Map<string, number>;
  down: Set<string>;
  t: number;
}

function report(w: World, node: string, type: string, extra: Partial<SeenEvent["event"]> = {}, atOffset = 0): void {
  const list = w.events.get(node)!;
  list.push({ seq: (list.at(-1)?.seq ?? 0) + 1, at: w.t + atOffset, event: { type, message: `${type} ${extra.node ?? extra.slot ?? ""}`.trim(), ...extra } });
}

test("watch on a terminal: alternate screen, one frame per interval in place, the failover highlighted, restored at the end", async () => {
  const f = fake({
    tty: true,
    steps: [
      (w) => {
        w.view = SCENARIOS.failedOver;
        report(w, "cmnode2", "node_dead", { node: "cmnode1" });
      },
      () => {},
    ],
  });
  expect(await runCommand(f.ctx, ["watch"], { node: null, count: 1 })).toBe(0);
  const out = f.out();
  expect(out.startsWith("\x1b[?1049h")).toBe(true);
  expect(out.endsWith("\x1b[?25h\x1b[?1049l")).toBe(true);
  const frames = out.split("\x1b[H").slice(2);
  expect(frames.length).toBe(3);
  expect(frames.every((fr) => !fr.includes("\t") && !fr.includes("\n\n"))).toBe(true);
  const rows = (fr: string) => fr.split("\r\n").map((r) => r.replace(/\x1b\[[KJ]/g, ""));
  // First frame: nothing marked. Second: the node that went Down and the takeover are marked.
  expect(rows(frames[0]!).filter((r) => r.startsWith(">"))).toEqual([]);
  const marked = rows(frames[1]!).filter((r) => r.startsWith(">"));
  expect(marked.some((r) => /cmnode1 +ha1\.test +Down/.test(r))).toBe(true);
  expect(marked.some((r) => r.includes("OK-Backup"))).toBe(true);
  expect(marked.some((r) => r.includes("node_dead"))).toBe(true);
  expect(marked.some((r) => r.includes("Answered by"))).toBe(false);
  expect(rows(frames[1]!)[0]).toContain("from cmnode2");
  // Still marked one second later (HIGHLIGHT_MS is 5 s).
  expect(rows(frames[2]!).filter((r) => r.startsWith(">")).length).toBe(marked.length);
});

test("watch without a terminal prints each cluster event once, in time order, from every node, nothing from before it started", async () => {
  const f = fake({
    tty: false,
    steps: [
      (w) => {
        report(w, "cmnode2", "node_dead", { node: "cmnode1" }, 10);
        report(w, "cmnode3", "node_dead", { node: "cmnode1" }, 12);
        report(w, "cmnode2", "takeover", { slot: "ipaddr:vip@cmnode1", to: "cmnode2", from: "cmnode1" }, 20);
        report(w, "cmnode3", "node_ready", { node: "cmnode3" }, 5);
        w.down.add("cmnode1");
      },
      (w) => {
        w.down.delete("cmnode1");
        w.events.set("cmnode1", []);
        report(w, "cmnode1", "node_ready", { node: "cmnode1" }, 1);
      },
      () => {},
    ],
  });
  // An event from before the watch started.
  const before = { seq: 1, at: NOW - 60_000, event: { type: "takeover", message: "old news" } };
  // Seed the history through the fake channel's state: the first events request returns it.
  const calls = f.calls;
  const orig = f.ctx.caller.call.bind(f.ctx.caller);
  let first = true;
  const ctx: ClientContext = {
    ...f.ctx,
    caller: {
      call: async (ep, command, args, t) => {
        if (first && command === "events" && ep.nodename === "cmnode2") {
          first = false;
          return { ok: true, via: "tcp", reply: { ok: true, events: [before], last: 0, missed: false } };
        }
        return orig(ep, command, args, t);
      },
    },
  };
  expect(await runCommand(ctx, ["watch"], { node: null, count: 1 })).toBe(0);
  const lines = f.out().trim().split("\n");
  expect(lines.map((l) => l.replace(/^\w+ \d+ [\d:.]+ /, ""))).toEqual([
    "cmnode3 node_ready: node_ready cmnode3",
    "cmnode2 node_dead: node_dead cmnode1",
    "cmnode2 takeover: takeover ipaddr:vip@cmnode1",
    "cmnode1 node_ready: node_ready cmnode1",
  ]);
  expect(f.out()).not.toContain("old news");
  expect(f.err()).toContain("drcm: watch: cmnode1 did not answer (ECONNREFUSED)");
  expect(f.err()).toContain("drcm: watch: cmnode1 answers again");
  expect(f.err().match(/did not answer/g)?.length).toBe(1);
  expect(calls.some((c) => c === "cmnode2 events 2")).toBe(true);
});

test("watch --json prints one JSON object per event", async () => {
  const f = fake({ tty: true, steps: [(w) => report(w, "cmnode2", "node_dead", { node: "cmnode1" }, 1), () => {}] });
  expect(await runCommand(f.ctx, ["watch", "--json"], { node: null, count: 1 })).toBe(0);
  const o = JSON.parse(f.out().trim());
  expect(o).toMatchObject({ reporter: "cmnode2", type: "node_dead", node: "cmnode1" });
  expect(typeof o.at).toBe("string");
});

test("watch refuses a bad --interval and runs nowhere without a live client", async () => {
  const f = fake({ tty: false, steps: [] });
  expect(await runCommand(f.ctx, ["watch", "--interval=5ms"], { node: null, count: 1 })).toBe(1);
  expect(f.err()).toContain('Cannot parse "--interval=5ms"');
  const { live: _, ...noLive } = f.ctx;
  let err = "";
  expect(await runCommand({ ...noLive, err: (s) => void (err += s) }, ["watch"], { node: null, count: 1 })).toBe(1);
  expect(err).toContain("watch needs a live client");
});
