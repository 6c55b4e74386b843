// `npm run bench`: client-observed failover of a real floating IP in network namespaces (root).
//   bun bench/failover/run.ts [--runs=5] [--out=bench/failover/results.json] [--profiles=default,aggressive]
// Two nodes from test/netns/bed.ts: n1 primary of the VIP, n2 its backup; each node runs its own
// responder (node_applications = app on both, so the IP's takeover does not wait for an app start).
// The prober in the client namespace sends a UDP datagram to the VIP every 10 ms through an ordinary
// socket and the kernel's own ARP; outage = longest time without an answer.
// Cases: host death (SIGKILL + link down), link down only, graceful stop (SIGTERM), failback (the
// primary restarted after the graceful stop). Plus CPU and RSS of every daemon while idle.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cpus, totalmem } from "node:os";
import { Bed, bedUnavailable, DRCM_BIN, REPO, VIP, waitFor } from "../../test/netns/bed.ts";
import { analyse, formatTimeline, nowMs } from "../../test/netns/probe.ts";

const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const RUNS = Math.max(1, Number(arg("runs", "5")));
const OUT = arg("out", join(REPO, "bench/failover/results.json"));
const PROFILES: Record<string, { server: string[]; note: string; cases: string[] }> = {
  default: { server: [], note: "defaults: keep_alive_interval 50ms, dead_time 800ms, failback_delay 5s", cases: ["host-death", "link-down", "graceful", "failback"] },
  aggressive: {
    server: ["keep_alive_interval = 20ms", "dead_time = 200ms", "failback_delay = 2s"],
    note: "aggressive: keep_alive_interval 20ms, dead_time 200ms, failback_delay 2s",
    cases: ["host-death", "link-down", "graceful", "failback"],
  },
};
const wanted = arg("profiles", "default,aggressive").split(",");

const lines = (name: string, i: number) => [
  "applications_check = 2",
  "node_applications = app",
  ...(i === 0 ? ["node_floating_ip_addrs = vip"] : ["node_backup_floating_ip_addrs = n1:vip"]),
];

interface Run {
  outageMs: number;
  detectMs: number | null;
  takeoverMs: number;
  lost: number;
  sent: number;
  timeline: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** CPU (% of one core) and RSS (MB) of a pid over `ms`. */
async function usage(pid: number, ms: number): Promise<{ cpuPct: number; rssMb: number }> {
  const ticks = () => {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(f[11]) + Number(f[12]);
  };
  const a = ticks();
  const t = performance.now();
  await Bun.sleep(ms);
  const b = ticks();
  const hz = 100;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  return { cpuPct: ((b - a) / hz / ((performance.now() - t) / 1000)) * 100, rssMb: rss };
}

async function settleOn(bed: Bed, node: string): Promise<void> {
  const s = await bed.settle({ holder: node, skipApp: true, skipCron: true }, 20000);
  if (s.problems.length) throw new Error(`Bed did not settle on ${node}: ${s.problems.join("; ")}\n${bed.dumpLogs(20)}`);
}

async function oneRun(bed: Bed, kind: string): Promise<{ run: Run; failback?: Run }> {
  const probe = bed.startProbe(10);
  await Bun.sleep(500);
  const from = bed.logSize("n2");
  const t0 = nowMs();
  if (kind === "host-death") {
    await bed.kill9("n1");
    bed.linkDown("n1");
  } else if (kind === "link-down") bed.linkDown("n1");
  else void bed.stop("n1");
  const detect = await bed.waitLog("n2", /Node n1 is (dead|stopping)/, from, 10000);
  const took = await waitFor(() => bed.vipHolders().join() === "n2", 10000, 5);
  const takeoverMs = took < 0 ? NaN : nowMs() - t0;
  await waitFor(() => bed.tcpAsk(VIP) === "n2", 5000, 50);
  await Bun.sleep(700);
  const rep = analyse(await probe.stop(), t0 - 500, nowMs() - 200);
  const run: Run = { outageMs: rep.longestGapMs, detectMs: detect < 0 ? null : detect - t0, takeoverMs, lost: rep.lost, sent: rep.sent, timeline: formatTimeline(rep.timeline, t0) };
  // Restore n1 as the holder; after a graceful stop that restore is the failback case.
  let failback: Run | undefined;
  if (kind === "host-death") await bed.reboot("n1");
  if (kind === "link-down") bed.linkUp("n1");
  else {
    await Promise.race([waitFor(() => !bed.running("n1"), 20000, 20), Bun.sleep(20000)]);
    const p2 = bed.startProbe(10);
    await Bun.sleep(300);
    const t1 = nowMs();
    bed.start("n1");
    const back = await waitFor(() => bed.vipHolders().join() === "n1", 30000, 5);
    const backMs = back < 0 ? NaN : nowMs() - t1;
    await Bun.sleep(700);
    const r2 = analyse(await p2.stop(), t1, nowMs() - 200);
    failback = { outageMs: r2.longestGapMs, detectMs: null, takeoverMs: backMs, lost: r2.lost, sent: r2.sent, timeline: formatTimeline(r2.timeline, t1) };
  }
  await settleOn(bed, "n1");
  return { run, failback };
}

async function main(): Promise<void> {
  const why = bedUnavailable(false);
  if (why) {
    console.log(`bench/failover needs root and the netns tools: ${why}`);
    process.exit(1);
  }
  if (!process.env.DRCM_BIN) {
    const b = Bun.spawnSync(["bun", "build", "--compile", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "drcm.ts", "--outfile", "dist/drcm"], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    if (b.exitCode !== 0) console.log(`warning: build failed, using the existing ${DRCM_BIN}: ${b.stderr.toString().split("\n").find((l) => /error/i.test(l)) ?? ""}`);
  }
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GB, kernel ${Bun.spawnSync(["uname", "-r"]).stdout.toString().trim()}`;
  const results: Record<string, unknown> = { date: new Date().toISOString(), machine, runs: RUNS, binary: DRCM_BIN, profiles: {} };
  const table: string[][] = [["profile", "case", "runs", "outage med", "outage max", "detect med", "takeover med", "lost probes med/max"]];
  for (const name of wanted) {
    const prof = PROFILES[name];
    if (!prof) continue;
    console.log(`== ${prof.note}`);
    const bed = await Bed.create({ nodes: 2, server: prof.server, nodeLines: lines });
    try {
      bed.startAll();
      await settleOn(bed, "n1");
      const idle = await Promise.all(bed.names.map(async (n) => ({ node: n, ...(await usage(bed.pid(n)!, 10000)) })));
      for (const u of idle) console.log(`  idle ${u.node}: CPU ${u.cpuPct.toFixed(2)}% of a core, RSS ${u.rssMb.toFixed(1)} MB`);
      const cases: Record<string, Run[]> = {};
      for (const kind of prof.cases.filter((c) => c !== "failback")) {
        for (let i = 0; i < RUNS; i++) {
          const { run, failback } = await oneRun(bed, kind);
          (cases[kind] ??= []).push(run);
          console.log(`  ${kind} #${i + 1}: outage ${run.outageMs.toFixed(0)} ms, detect ${run.detectMs?.toFixed(0)} ms, VIP on n2 at ${run.takeoverMs.toFixed(0)} ms, lost ${run.lost}/${run.sent}; ${run.timeline}`);
          if (failback && prof.cases.includes("failback")) {
            (cases.failback ??= []).push(failback);
            console.log(`  failback #${i + 1}: outage ${failback.outageMs.toFixed(0)} ms, VIP back on n1 at ${failback.takeoverMs.toFixed(0)} ms, lost ${failback.lost}/${failback.sent}; ${failback.timeline}`);
          }
        }
      }
      const busy = await Promise.all(bed.names.map(async (n) => ({ node: n, ...(await usage(bed.pid(n)!, 3000)) })));
      const summary: Record<string, unknown> = {};
      for (const [kind, runs] of Object.entries(cases)) {
        const o = runs.map((r) => r.outageMs);
        const d = runs.map((r) => r.detectMs).filter((x): x is number => x !== null);
        const t = runs.map((r) => r.takeoverMs);
        const l = runs.map((r) => r.lost);
        summary[kind] = { outageMedianMs: median(o), outageMaxMs: Math.max(...o), detectMedianMs: median(d), detectMaxMs: d.length ? Math.max(...d) : null, takeoverMedianMs: median(t), lostMedian: median(l), lostMax: Math.max(...l), runs };
        table.push([name, kind, String(runs.length), median(o).toFixed(0), Math.max(...o).toFixed(0), d.length ? median(d).toFixed(0) : "-", median(t).toFixed(0), `${median(l)}/${Math.max(...l)}`]);
      }
      (results.profiles as Record<string, unknown>)[name] = { note: prof.note, server: prof.server, idle, afterRuns: busy, cases: summary };
      await bed.stopAll();
      const left = bed.leftovers();
      if (left.length) console.log(`  left behind: ${left.join("; ")}`);
    } finally {
      await bed.destroy();
    }
  }
  const w = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  console.log(`\n${table.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join("  ")).join("\n")}`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten ${OUT} (${machine})`);
}

await main();
