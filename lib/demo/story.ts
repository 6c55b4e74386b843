// The demo's story: start three nodes, crash node1, watch node2 take over, restart node1, watch the
// failback, stop everything. Each wait is bounded; a step that does not happen in time ends the
// demo with the evidence (cm_stat and the daemons' logs) and exit 1.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DemoCluster, Holders } from "./cluster.ts";
import { demoProcesses } from "./cluster.ts";
import { drcmShell } from "./self.ts";
import type { Ui } from "./ui.ts";

const same = (a: string[] | undefined, b: string[]): boolean => (a ?? []).slice().sort().join(",") === b.slice().sort().join(",");

/** Poll `cond` every `everyMs` until true; elapsed ms, or -1 after `timeoutMs`. */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < Math.ceil(timeoutMs / everyMs) + 1; i++) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) break;
    await Bun.sleep(everyMs);
  }
  return -1;
}

const ms = (v: number): string => `${Math.round(v)} ms`;
const epoch = (): number => performance.timeOrigin + performance.now();

/** A client's view of a move: how long nothing answered, and who answered next. */
export interface Outage {
  readonly ms: number;
  readonly answer: string;
}

/** --netns: a client probing the floating IP. */
export interface ClientProbe {
  start(): void;
  /** The first outage (or switch) after epoch ms `t`, null until it is over. */
  outageAfter(t: number): Outage | null;
  readonly label: string;
}

export class Story {
  constructor(
    private readonly c: DemoCluster,
    private readonly ui: Ui,
    private readonly probe: ClientProbe | null = null,
  ) {}

  private async reportOutage(t: number, what: string): Promise<void> {
    const p = this.probe;
    if (p === null) return;
    let o: Outage | null = null;
    await until(() => (o = p.outageAfter(t)) !== null, 5000, 20);
    const seen = o as Outage | null;
    this.ui.note(seen === null ? `client: no answer change seen at the floating IP after the ${what}` : `client outage at the floating IP during the ${what}: ${ms(seen.ms)}, then "${seen.answer}"`);
  }

  private get L() {
    return this.c.layout;
  }

  /** Placement as node2 sees it matches `want` (nickname -> holders). */
  private async placed(want: Holders, up: number): Promise<boolean> {
    const s = await this.c.holders("node2");
    if (s === null || s.up.length !== up) return false;
    return Object.entries(want).every(([nick, nodes]) => same(s.holders[nick], nodes));
  }

  private async fail(what: string): Promise<number> {
    this.ui.stop();
    const out: string[] = [`drcm demo: ERROR - ${what}`];
    const dead = this.c.exited();
    if (dead.length > 0) out.push(`Daemons that exited by themselves: ${dead.join(", ")}`);
    out.push("cm_stat:", await this.c.cmStat("node2"));
    for (const n of this.L.nodes) {
      for (const f of [`drcm-${n.name}.log`, `stderr-${n.name}.log`]) {
        const p = join(this.L.dir, "log", f);
        if (existsSync(p)) out.push(`--- ${f} (last lines) ---`, ...readFileSync(p, "utf8").trimEnd().split("\n").slice(-15));
      }
    }
    process.stderr.write(`${out.join("\n")}\n`);
    return 1;
  }

  /** Runs the story; `keep` leaves the cluster running at the end. Returns the exit code. */
  async run(keep: boolean): Promise<number> {
    const { c, ui, L } = this;
    const [n1, n2, n3] = L.nodes as [(typeof L.nodes)[0], (typeof L.nodes)[0], (typeof L.nodes)[0]];
    const pause = (msLive: number): Promise<void> => Bun.sleep(ui.live ? msLive : 0);

    ui.step(`drcm demo: a 3-node cluster on this machine, files in ${L.dir}`);
    ui.note(`nodes: ${L.nodes.map((n) => `${n.name} ${n.ip}`).join(", ")}; heartbeats and console on port ${L.port}`);
    ui.note(`timings: keep_alive_interval 50 ms, dead_time ${L.deadMs} ms, failback_delay ${L.failbackMs} ms`);
    ui.note(`resources: "web" and "ledger" are applications ([CM_APPLICATIONS]) run as ${L.appUser} in a login shell;`);
    ui.note(`  "web" runs on every node (http://<node>:${L.webPort}/ answers its node's name, which drcm passes as DRCM_NODE);`);
    ui.note(`  "ledger" (http://<node>:${L.ledgerPort}/) is primary on node1 only, node2 its backup: it runs on exactly one node;`);
    if (L.vip !== null) ui.note(`  "vip" is the floating IP ${L.vip} (exclusive), primary node1, backup node2: it follows ledger`);
    ui.note(`  "jobs" is a crontab (exclusive), installed into the holder's cron directory ${join(L.dir, "cron", "<node>")}`);
    ui.step("Starting the three drcm daemons");
    ui.status("waiting for all nodes to see each other and place every resource on its primary...");
    for (const n of L.nodes) c.start(n.name);

    const upMs = await until(
      async () =>
        (await this.placed({ web: [n1.name, n2.name, n3.name], ledger: [n1.name], jobs: [n1.name], ...(L.vip ? { vip: [n1.name] } : {}) }, 3)) && (await c.http("ledger", n1.name)) !== null,
      30_000,
      200,
    );
    if (upMs < 0) return this.fail("The cluster did not come up within 30 s");
    ui.step(`Cluster up after ${ms(upMs)}: web on node1, node2, node3; ledger and jobs on node1`);
    for (const n of L.nodes) ui.note(`http://${n.ip}:${L.webPort}/ -> "${(await c.http("web", n.name)) ?? "no answer"}"`);
    ui.note(`http://${n1.ip}:${L.ledgerPort}/ -> "${(await c.http("ledger", n1.name)) ?? "no answer"}"`);
    if (this.probe !== null) {
      this.probe.start();
      ui.note(`client probe: ${this.probe.label}`);
    }
    ui.snapshot("cm_stat: cluster up", await c.cmStat("node2"));
    ui.status("all resources on their primaries; node1 will crash in a moment");
    await pause(4000);

    // Takeover.
    ui.step(`node1 crashes: SIGKILL to its drcm (pid ${c.pid(n1.name)}) and its applications, as if the machine died`);
    ui.status(`waiting for node2 to take over ledger and jobs (a peer is dead after ${L.deadMs} ms without heartbeats)...`);
    const t0 = performance.now();
    const e0 = epoch();
    await c.crash(n1.name);
    const [httpMs, statusMs] = await Promise.all([
      until(async () => (await c.http("ledger", n2.name, 200)) !== null, 15_000, 10).then((v) => (v < 0 ? v : performance.now() - t0)),
      until(() => this.placed({ ledger: [n2.name], jobs: [n2.name], ...(L.vip ? { vip: [n2.name] } : {}) }, 2), 15_000, 100).then((v) => (v < 0 ? v : performance.now() - t0)),
    ]);
    if (httpMs < 0 || statusMs < 0) return this.fail("node2 did not take over ledger and jobs within 15 s of node1's crash");
    ui.step(`Takeover: ledger answered on node2 ${ms(httpMs)} after the SIGKILL (dead_time ${L.deadMs} ms)`);
    ui.note(`drcm reported ledger and jobs held by node2 after ${ms(statusMs)}`);
    ui.note(`http://${n2.ip}:${L.ledgerPort}/ -> "${(await c.http("ledger", n2.name)) ?? "no answer"}"`);
    await this.reportOutage(e0, "takeover");
    ui.note(`crontab now in ${join("cron", n2.name)}: ${existsSync(join(L.cronDir(n2.name), "demo_jobs")) ? "yes" : "no"}`);
    ui.snapshot("cm_stat after takeover (node2's view: ledger and jobs OK-Backup on node2, node1 down)", await c.cmStat("node2"));
    ui.status("node2 runs ledger and jobs as backup; node1 will restart in a moment");
    await pause(4000);

    // Failback.
    ui.step("node1 restarts");
    ui.status(`waiting for node1 to rejoin and, after failback_delay ${L.failbackMs} ms, take ledger and jobs back...`);
    const t1 = performance.now();
    const e1 = epoch();
    c.start(n1.name);
    const rejoinMs = await until(async () => (await c.holders("node2"))?.up.length === 3, 15_000, 50);
    if (rejoinMs < 0) return this.fail("node1 did not rejoin within 15 s of its restart");
    ui.step(`node1 is back in the cluster ${ms(rejoinMs)} after its restart`);
    const backMs = await until(
      async () =>
        (await this.placed({ ledger: [n1.name], jobs: [n1.name], ...(L.vip ? { vip: [n1.name] } : {}) }, 3)) && (await c.http("ledger", n1.name)) !== null && (await c.http("ledger", n2.name)) === null,
      20_000,
      50,
    );
    if (backMs < 0) return this.fail("node1 did not get ledger and jobs back within 20 s");
    const total = performance.now() - t1;
    ui.step(`Failback: ledger and jobs back on node1 ${ms(total)} after its restart; node2 released them`);
    ui.note(
      `that is ${ms(rejoinMs)} to rejoin, failback_delay ${L.failbackMs} ms of node1 being stable in node2's view, ` +
        `then ${ms(Math.max(0, total - rejoinMs - L.failbackMs))} for the move itself and for this demo seeing it (it asks every node through the client, a new process each time) — ` +
        `ledger moves make-before-break (node1 starts it, node2 then stops its copy), jobs break-before-make (no cron job runs twice); the daemons' own log lines carry the exact times`,
    );
    ui.note(`http://${n1.ip}:${L.ledgerPort}/ -> "${(await c.http("ledger", n1.name)) ?? "no answer"}"; http://${n2.ip}:${L.ledgerPort}/ -> no answer`);
    await this.reportOutage(e1, "restart and failback");
    let final = "";
    await until(async () => /HEALTHY/.test((final = await c.cmStat("node2"))), 10_000, 200);
    ui.snapshot("cm_stat after failback", final);
    await pause(3000);

    if (keep) {
      ui.stop();
      const pids = c.pids();
      const drcm = [...c.net.on("node2"), drcmShell()].join(" ");
      process.stdout.write(
        [
          "",
          `The demo cluster keeps running (drcm pids ${pids.join(" ")}). Look at it:`,
          `  ${drcm} --client --config-file=${L.configFile} --command=cm_stat`,
          `  ${drcm} --client --config-file=${L.configFile} --node=node2        (interactive console)`,
          `  tail -f ${join(L.dir, "log", "drcm-node1.log")}`,
          "Stop it and remove everything:",
          `  kill ${pids.join(" ")}; sleep 3; kill $(cat ${join(L.dir, "run")}/*.pid 2>/dev/null) 2>/dev/null; rm -rf ${L.dir}`,
          "",
        ].join("\n"),
      );
      return 0;
    }

    ui.step("Stopping the cluster (SIGTERM: each node stops its applications and removes its crontab)");
    await c.cleanup();
    ui.stop();
    const left = demoProcesses(L.dir);
    if (left.length > 0 || existsSync(L.dir)) {
      process.stderr.write(`drcm demo: ERROR - Left behind: ${left.length > 0 ? `processes ${left.join(" ")}` : ""} ${existsSync(L.dir) ? L.dir : ""}\n`);
      return 1;
    }
    ui.step("demo finished, nothing left behind (no demo process, temporary directory removed)");
    return 0;
  }
}
