// runCommand() with a fake channel: exit codes, 1.x output framing, node and resource naming.
import { expect, test } from "bun:test";
import { complete } from "../../lib/client/console.ts";
import { parseCommand } from "../../lib/client/commands.ts";
import { PLAIN } from "../../lib/client/paint.ts";
import { resolveNode, resolveResource } from "../../lib/client/resolve.ts";
import { runCommand, takeOptions, type ClientContext } from "../../lib/client/run.ts";
import { NO_ANSWER_GRACE_MS, REPORT_DEADLINE_MS } from "../../lib/client/deadline.ts";
import { utcStamp } from "../../lib/client/stamp.ts";
import { whoAmI, type CallResult, type Caller, type Endpoint } from "../../lib/io/control-client.ts";
import type { ClusterStatus } from "../../lib/core/types.ts";
import { CLUSTER, NOW, SCENARIOS } from "../fixtures/golden/scenarios.ts";

interface Run {
  code: number;
  out: string;
  err: string;
  calls: { node: string; command: string; args: readonly string[]; unix: boolean }[];
}

/** `down`: nodes that refuse at once; `frozen`: nodes that never answer; `view`: what each answering node reports. */
async function run(
  words: string[],
  o: { down?: string[]; frozen?: string[]; refuse?: string[]; view?: ClusterStatus; self?: string | null; console?: boolean; node?: string | null; count?: number; precheck?: string | null; keyError?: string; rejected?: Record<string, number>; late?: Record<string, number> } = {},
): Promise<Run> {
  const r: Run = { code: -1, out: "", err: "", calls: [] };
  const caller: Caller = {
    async call(ep: Endpoint, command, args): Promise<CallResult> {
      r.calls.push({ node: ep.nodename, command, args, unix: ep.unixPath !== null });
      if (o.frozen?.includes(ep.nodename)) return new Promise<CallResult>(() => {});
      const lateMs = o.late?.[ep.nodename];
      if (lateMs !== undefined) await Bun.sleep(lateMs);
      if (o.down?.includes(ep.nodename)) return { ok: false, error: "ECONNREFUSED" };
      if (o.refuse?.includes(ep.nodename)) return { ok: false, error: "authentication failed", authFailed: true };
      const info = { nodename: ep.nodename, version: "2.0.0", uptimeMs: 1, rejected: o.rejected ?? {} };
      if (command === "ping") return { ok: true, via: "tcp", reply: { ok: true, info } };
      if (command === "status") return { ok: true, via: "tcp", reply: { ok: true, info, status: { ...(o.view ?? SCENARIOS.healthy), self: ep.nodename } } };
      return { ok: true, via: "tcp", reply: { ok: true, message: `accepted by ${ep.nodename}` } };
    },
  };
  const self = o.self === undefined ? "cmnode1" : o.self;
  const ctx: ClientContext = {
    cluster: CLUSTER,
    self: self === null ? null : CLUSTER.nodes.find((n) => n.nodename === self)!,
    caller,
    now: () => NOW,
    stamp: utcStamp,
    paint: PLAIN,
    json: false,
    out: (s) => void (r.out += s),
    err: (s) => void (r.err += s),
    console: o.console ?? false,
    precheckReload: async () => o.precheck ?? null,
    ...(o.keyError === undefined ? {} : { keyError: o.keyError }),
  };
  r.code = await runCommand(ctx, words, { node: o.node ?? null, count: o.count ?? 1 });
  return r;
}

test("runCommand() cm_stat asks the local node (over its unix socket) and the peers at once, and exits 0", async () => {
  const r = await run(["cm_stat"]);
  expect(r.code).toBe(0);
  expect(r.calls).toEqual([
    { node: "cmnode1", command: "status", args: [], unix: true },
    { node: "cmnode2", command: "status", args: [], unix: false },
    { node: "cmnode3", command: "status", args: [], unix: false },
  ]);
  expect(r.out).toContain("Answered by: cmnode1");
  expect(r.out).not.toContain("No answer");
  expect(r.out).toContain("Cluster status: HEALTHY");
});

test("runCommand() cm_stat falls back to another node, says which, and still exits 0 with all down", async () => {
  const r = await run(["cm_stat"], { down: ["cmnode1"] });
  expect(r.code).toBe(0);
  expect(r.err).toContain("cmnode1 did not answer (ECONNREFUSED)");
  expect(r.err).toContain("status from cmnode2");
  expect(r.out).toContain("Answered by: cmnode2");
  const all = await run(["cm_stat"], { down: ["cmnode1", "cmnode2", "cmnode3"] });
  expect(all.code).toBe(0);
  expect(all.out).toContain("Cluster status: All nodes DOWN and all resources FAILED");
});

test("runCommand() rstats exits 1 when any node failed, not only the last", async () => {
  const r = await run(["rstats"], { down: ["cmnode1"], view: SCENARIOS.failedOver });
  expect(r.code).toBe(1);
  expect(r.out).toStartWith("rstats ack cmnode1@10.213.0.11 failed with recv error\nrstats cmnode2@10.213.0.12 successful\n");
  expect((await run(["rstats"], { view: SCENARIOS.healthy })).code).toBe(0);
});

test("runCommand() rstats NODE and -nNODE select one node; an unknown one exits 255", async () => {
  const r = await run(["rstats", "HA2.TEST"]);
  expect(r.calls.map((c) => c.node)).toEqual(["cmnode2"]);
  expect((await run(["rstats", "-n10.213.0.13"])).calls.map((c) => c.node)).toEqual(["cmnode3"]);
  const bad = await run(["rstats"], { node: "nosuch" });
  expect(bad).toMatchObject({ code: 255, out: "rstats ERROR no cluster node found for nosuch\n" });
});

test("runCommand() ping keeps the 1.x lines and fails when any node failed", async () => {
  const r = await run(["ping"], { down: ["cmnode1"] });
  expect(r.out).toBe(
    "ping DRCM cluster\nping cmnode1@10.213.0.11 failed with recv error\nping cmnode2@10.213.0.12 successful\nping cmnode3@10.213.0.13 successful\nping DRCM cluster failed\n",
  );
  expect(r.code).toBe(1);
  const c3 = await run(["ping", "-c3", "-ncmnode2"]);
  expect(c3.out).toBe(`ping cmnode2\n${"ping cmnode2@10.213.0.12 successful\n".repeat(3)}ping cmnode2 successful\n`);
  expect(c3.code).toBe(0);
  expect(await run(["ping"], { node: "x" })).toMatchObject({ code: 255, out: "ping ERROR no cluster node found for x\n" });
});

test("runCommand() health exits with the plugin code, CRITICAL when the local node is unreachable", async () => {
  expect((await run(["health"], { view: SCENARIOS.failedOver })).code).toBe(1);
  const r = await run(["health"], { down: ["cmnode1"] });
  expect(r.code).toBe(2);
  expect(r.out).toBe("DRCM CRITICAL - cmnode1 did not answer (ECONNREFUSED)\n");
});

// A frozen node (SIGSTOP) accepts the connection and never replies: the report must not wait for it.
const elapsed = async (f: () => Promise<Run>): Promise<{ r: Run; ms: number }> => {
  const t0 = performance.now();
  const r = await f();
  return { r, ms: performance.now() - t0 };
};

test("runCommand() cm_stat with a frozen peer reports at the deadline, the rest shown, the peer as no answer", async () => {
  const { r, ms } = await elapsed(() => run(["cm_stat"], { frozen: ["cmnode2"] }));
  expect(ms).toBeGreaterThanOrEqual(REPORT_DEADLINE_MS - 5);
  expect(ms).toBeLessThan(REPORT_DEADLINE_MS + 300);
  expect(r.code).toBe(0);
  expect(r.out).toContain("Answered by: cmnode1\n  No answer within 150 ms: cmnode2\n");
  // The answering node's view decides Up/Down, not the missed deadline.
  expect(r.out).toContain("  cmnode2\tha2.test\tUp  \t");
  expect(r.out).toContain("Health: WARNING");
  expect(r.out).toContain("    cmnode2 did not answer within 150 ms\n");
  expect(r.err).toBe("");
});

test("runCommand() cm_stat with the local daemon frozen uses the first peer that answered, by the deadline", async () => {
  const { r, ms } = await elapsed(() => run(["cm_stat"], { frozen: ["cmnode1"] }));
  expect(ms).toBeLessThan(REPORT_DEADLINE_MS + 300);
  expect(r.code).toBe(0);
  expect(r.err).toBe("drcm: cmnode1 did not answer within 150 ms\ndrcm: status from cmnode2\n");
  expect(r.out).toContain("Answered by: cmnode2\n  No answer within 150 ms: cmnode1\n");
  expect(r.out).toContain("  cmnode1\tha1.test\tUp  \t");
});

test("runCommand() cm_stat when no node answers at all: no answer, not Down, after the deadline and the grace", async () => {
  const { r, ms } = await elapsed(() => run(["cm_stat"], { frozen: ["cmnode1", "cmnode2", "cmnode3"] }));
  expect(ms).toBeGreaterThanOrEqual(REPORT_DEADLINE_MS + NO_ANSWER_GRACE_MS - 20);
  expect(ms).toBeLessThan(REPORT_DEADLINE_MS + NO_ANSWER_GRACE_MS + 300);
  expect(r.code).toBe(0);
  expect(r.out).toContain("  cmnode1\tha1.test\tNo answer\t");
  expect(r.out).not.toContain("\tDown\t");
  expect(r.out).toContain("  No answer within 150 ms: cmnode1, cmnode2, cmnode3\n");
});

test("runCommand() cm_stat when nothing came by the deadline reports the first late answer at once", async () => {
  const { r, ms } = await elapsed(() => run(["cm_stat"], { frozen: ["cmnode1", "cmnode3"], late: { cmnode2: 400 } }));
  expect(ms).toBeGreaterThanOrEqual(390);
  expect(ms).toBeLessThan(400 + 300);
  expect(r.out).toContain("Answered by: cmnode2");
  expect(r.out).toContain("  No answer within 150 ms: cmnode1, cmnode3\n");
  // With an answer in time, a late node is not waited for.
  const quick = await elapsed(() => run(["cm_stat"], { late: { cmnode2: 400 } }));
  expect(quick.ms).toBeLessThan(REPORT_DEADLINE_MS + 200);
  expect(quick.r.out).toContain("No answer within 150 ms: cmnode2");
});

test("runCommand() health with a frozen node: WARNING for it at the deadline, CRITICAL only when nobody answered", async () => {
  const peer = await elapsed(() => run(["health"], { frozen: ["cmnode3"] }));
  expect(peer.ms).toBeLessThan(REPORT_DEADLINE_MS + 300);
  expect(peer.r.code).toBe(1);
  expect(peer.r.out).toStartWith("DRCM WARNING - 3/3 nodes up");
  expect(peer.r.out).toContain(": cmnode3 did not answer within 150 ms |");
  const local = await run(["health"], { frozen: ["cmnode1"] });
  expect(local.code).toBe(1);
  expect(local.out).toContain("cmnode1 did not answer within 150 ms");
  const none = await run(["health"], { frozen: ["cmnode1"], down: ["cmnode2", "cmnode3"] });
  expect(none.code).toBe(2);
  expect(none.out).toBe("DRCM CRITICAL - cmnode1 did not answer within 150 ms; cmnode2 did not answer (ECONNREFUSED); cmnode3 did not answer (ECONNREFUSED)\n");
});

test("runCommand() status --json with a frozen peer lists it among the health problems", async () => {
  const { r, ms } = await elapsed(() => run(["status", "--json"], { frozen: ["cmnode2"] }));
  expect(ms).toBeLessThan(REPORT_DEADLINE_MS + 300);
  const j = JSON.parse(r.out);
  expect(j.answeredBy).toBe("cmnode1");
  expect(j.health).toMatchObject({ state: "WARNING", problems: ["cmnode2 did not answer within 150 ms"] });
});

test("runCommand() status --json prints the JSON document", async () => {
  const r = await run(["status", "--json"]);
  expect(JSON.parse(r.out)).toMatchObject({ schema: "drcm.status/1", answeredBy: "cmnode1" });
});

test("runCommand() operator commands resolve names and send the OperatorCommand", async () => {
  const s = await run(["standby", "HA2.test"]);
  expect(s).toMatchObject({ code: 0, out: "accepted by cmnode1\n" });
  expect(JSON.parse(s.calls[0]!.args[0]!)).toEqual({ op: "standby", node: "cmnode2" });
  const m = await run(["move", "vip", "10.213.0.13"]);
  expect(JSON.parse(m.calls[0]!.args[0]!)).toEqual({ op: "move", resource: "ipaddr:vip", node: "cmnode3" });
  const c = await run(["cleanup", "application:sleeper"], { down: ["cmnode1"] });
  expect(c.calls.map((x) => x.node)).toEqual(["cmnode1", "cmnode2"]);
  expect(JSON.parse(c.calls[1]!.args[0]!)).toEqual({ op: "cleanup", resource: "application:sleeper" });
});

test("runCommand() an invalid operator command exits 1, an unknown command 255", async () => {
  const noNode = await run(["standby"]);
  expect(noNode).toMatchObject({ code: 1, calls: [] });
  expect(noNode.err).toBe('drcm: ERROR - Missing argument for "standby": usage standby NODE\n');
  expect(await run(["standby", "nosuch"])).toMatchObject({ code: 1, calls: [] });
  expect(await run(["move", "nosuch", "cmnode2"])).toMatchObject({ code: 1, calls: [] });
  expect(await run(["cleanup", "nosuch"])).toMatchObject({ code: 1, calls: [] });
  expect(await run(["standby", "cmnode1", "cmnode2"])).toMatchObject({ code: 1, calls: [] });
  expect((await run(["bogus"])).code).toBe(255);
});

test("runCommand() a missing auth key is one local error with exit 1, not every node down", async () => {
  const keyError = "Cannot read auth key /etc/drcm/.auth/authkey: it does not exist: run drcm --keygen, then copy .auth to every node";
  for (const cmd of [["cm_stat"], ["status", "--json"], ["rstats"], ["ping"], ["standby", "cmnode2"], ["reload"]]) {
    const r = await run(cmd, { keyError });
    expect(r).toMatchObject({ code: 1, out: "", calls: [] });
    expect(r.err).toBe(`drcm: ERROR - ${keyError}\n`);
  }
  const h = await run(["health"], { keyError });
  expect(h).toMatchObject({ code: 3, out: `DRCM UNKNOWN - ${keyError}\n`, calls: [] });
  expect((await run(["help"], { keyError })).code).toBe(0);
  const cfg = await run(["printcfg"], { keyError });
  expect(cfg.code).toBe(0);
  expect(cfg.out).toContain("cmnode1");
});

test("runCommand() a node that refuses the key is told apart from a node that is down", async () => {
  const hint = "refused the request: authentication failed (is .auth/authkey the same on every node?)";
  const all = await run(["cm_stat"], { refuse: ["cmnode1", "cmnode2", "cmnode3"] });
  expect(all.code).toBe(1);
  expect(all.err).toContain(`cmnode1 ${hint}`);
  expect(all.err).not.toContain("did not answer");
  expect(all.out).toContain("Cluster Manager Status Monitor");
  // One node with another key: the cluster still answers, as 1.x the report exits 0.
  const one = await run(["cm_stat"], { refuse: ["cmnode1"] });
  expect(one.code).toBe(0);
  expect(one.err).toContain(`cmnode1 ${hint}`);
  expect(one.out).toContain("Answered by: cmnode2");
  const op = await run(["standby", "cmnode2"], { refuse: ["cmnode1", "cmnode2", "cmnode3"] });
  expect(op.code).toBe(1);
  expect(op.err).toContain(`cmnode2 ${hint}`);
  expect(op.err).toContain("No cluster node accepted the command");
  const h = await run(["health"], { refuse: ["cmnode1"] });
  expect(h.out).toBe(`DRCM CRITICAL - cmnode1 ${hint}\n`);
});

test("runCommand() shows the answering node's rejected packets in cm_stat, status --json and health", async () => {
  const rejected = { bad_mac: 300, replay: 2, stale: 0 };
  const stat = await run(["cm_stat"], { rejected });
  expect(stat.out).toContain("  Rejected packets: bad_mac 300, replay 2\n");
  expect((await run(["cm_stat"], { rejected: { bad_mac: 0 } })).out).not.toContain("Rejected packets");
  // The restart handshake's few "unverified" refusals are normal: shown only when they pile up.
  expect((await run(["cm_stat"], { rejected: { unverified: 6 } })).out).not.toContain("Rejected packets");
  expect((await run(["cm_stat"], { rejected: { unverified: 5000 } })).out).toContain("  Rejected packets: unverified 5000\n");
  const j = JSON.parse((await run(["status", "--json"], { rejected })).out);
  expect(j.rejected).toEqual(rejected);
  const h = await run(["health"], { rejected });
  expect(h.code).toBe(1);
  expect(h.out).toContain("rejected packets: bad_mac 300");
  // Replays alone are the guard working, not a misconfigured peer.
  expect((await run(["health"], { rejected: { replay: 5 } })).code).toBe(0);
});

test("runCommand() cm_stat keeps HEALTHY for an inactive node but Node Detail shows the health warning", async () => {
  const view: ClusterStatus = { ...SCENARIOS.healthy, nodes: SCENARIOS.healthy.nodes.map((n) => (n.nodename === "cmnode3" ? { ...n, state: "inactive" as const } : n)) };
  const r = await run(["cm_stat"], { view });
  expect(r.out).toContain("Cluster status: HEALTHY");
  expect(r.out).toContain("  Health: WARNING (as drcm --client --command=health reports it)\n    cmnode3 inactive\n");
  expect((await run(["cm_stat"])).out).not.toContain("  Health: ");
});

test("runCommand() reload is not sent when the local config has errors", async () => {
  const r = await run(["reload"], { precheck: "cm.cfg:3: ERROR - bad" });
  expect(r).toMatchObject({ code: 1, calls: [] });
  expect(r.err).toContain("Reload not sent");
  expect(JSON.parse((await run(["reload"])).calls[0]!.args[0]!)).toEqual({ op: "reload" });
});

test("runCommand() unknown command: 255 silently on stderr, Invalid command in the console", async () => {
  const r = await run(["bogus"]);
  expect(r).toMatchObject({ code: 255, out: "" });
  const c = await run(["bogus"], { console: true });
  expect(c.out).toBe("Invalid command\nEnter exit to quit or help for valid command\n");
  expect((await run(["help"])).out).toStartWith("DRCM non-interactive input args\n");
  expect((await run(["help"], { console: true })).out).toContain("move NICK NODE");
});

test("resolveNode() matches nodename, hostname or IP case-insensitively, and localhost as self", () => {
  const self = CLUSTER.nodes[0]!;
  expect(resolveNode(CLUSTER, "CMNODE3", self)?.nodename).toBe("cmnode3");
  expect(resolveNode(CLUSTER, " ha2.test extra", self)?.nodename).toBe("cmnode2");
  expect(resolveNode(CLUSTER, "localhost", self)?.nodename).toBe("cmnode1");
  expect(resolveNode(CLUSTER, "cmnode", self)).toBeNull();
});

test("resolveResource() takes kind:nickname or a unique nickname", () => {
  expect(resolveResource(CLUSTER, "data")).toEqual({ id: "filesystem:data", kind: "filesystem" });
  expect(resolveResource(CLUSTER, "web")).toEqual({ id: "service:web", kind: "service" });
  expect(resolveResource(CLUSTER, "nope")).toContain('No resource has nickname "nope"');
  const twoKinds = { ...CLUSTER, resources: [...CLUSTER.resources, { kind: "ipaddr" as const, nickname: "web", ip: "1.1.1.1", netmask: "24", iface: "eth0", script: "s", line: 1 }] };
  expect(resolveResource(twoKinds, "web")).toContain("several kinds");
  expect(resolveResource(twoKinds, "ipaddr:web")).toEqual({ id: "ipaddr:web", kind: "ipaddr" });
});

test("parseCommand() and takeOptions() split names, arguments and 1.x options", () => {
  expect(takeOptions(["ping", "-c3", '-n"cmnode2"'])).toEqual({ words: ["ping"], node: "cmnode2", count: 3 });
  expect(parseCommand(["move", "vip"])).toMatchObject({ ok: false, unknown: false });
  expect(parseCommand(["CM_STAT"])).toMatchObject({ ok: false, unknown: true });
  expect(parseCommand(["cm_stat", "--json"])).toMatchObject({ ok: false });
});

test("complete() offers commands, then node names or nicknames by position", () => {
  expect(complete(CLUSTER, "cm")).toEqual([["cm_stat "], "cm"]);
  expect(complete(CLUSTER, "standby cmnode")).toEqual([["cmnode1", "cmnode2", "cmnode3"], "cmnode"]);
  expect(complete(CLUSTER, "move sl")).toEqual([["sleeper "], "sl"]);
  expect(complete(CLUSTER, "move sleeper cmnode3")).toEqual([["cmnode3 "], "cmnode3"]);
  expect(complete(CLUSTER, "status --")).toEqual([["--json "], "--"]);
  expect(complete(CLUSTER, "ping -ncmnode1")).toEqual([["-ncmnode1 "], "-ncmnode1"]);
  expect(complete(CLUSTER, "e")).toEqual([["explain", "exit"], "e"]);
  expect(complete(CLUSTER, "explain v")).toEqual([["vip "], "v"]);
});

test("whoAmI() names the real user, not $USER, and falls back to the uid", () => {
  // The passwd name of this uid, whatever $USER says (Bun's os.userInfo() says "unknown" without $USER).
  const real = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
  const saved = process.env.USER;
  delete process.env.USER;
  try {
    expect(whoAmI("vm")).toBe(`${real}@vm`);
  } finally {
    if (saved !== undefined) process.env.USER = saved;
  }
  const broken = () => {
    throw new Error("no passwd entry");
  };
  expect(whoAmI("vm", broken)).toBe(`uid${process.getuid!()}@vm`);
  expect(whoAmI("vm", () => "")).toBe(`uid${process.getuid!()}@vm`);
});
