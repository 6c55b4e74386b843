// bench/scale: many drcm daemons on 127.0.0.x (no root): idle CPU and RSS per node, the time for
// every node to agree on one node's death, and `cm_stat` latency.
//   bun bench/scale/run.ts [--sizes=16,32,64] [--idle=10] [--settle=10] [--out=bench/scale/results.json]
// Every node runs `drcm --node=nK` with one shared config (no resources: this measures membership),
// default timings (keep_alive_interval 50ms, dead_time 800ms): every node heartbeats every peer.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Subprocess } from "bun";

const REPO = resolve(import.meta.dir, "../..");
const BIN = process.env.DRCM_BIN ?? join(REPO, "dist/drcm");
const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const SIZES = arg("sizes", "16,32,64").split(",").map(Number);
const IDLE_S = Number(arg("idle", "10"));
/** Seconds between "all ready" and the idle window: start-up (JIT compilation of the hot paths) is not idle cost. */
const SETTLE_S = Number(arg("settle", "10"));
const OUT = arg("out", join(REPO, "bench/scale/results.json"));
/** Optional timings, e.g. --interval=200ms --dead=2s: the large-cluster profile of benchmarks.md. */
const INTERVAL = arg("interval", "");
const DEAD = arg("dead", "");

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ipOf = (i: number) => `127.0.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`;

function ticks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

async function waitFor(cond: () => boolean, timeoutMs: number, everyMs = 20): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < timeoutMs / everyMs + 2 && performance.now() - t0 <= timeoutMs; i++) {
    if (cond()) return performance.now() - t0;
    await Bun.sleep(everyMs);
  }
  return -1;
}

async function one(n: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), `drcm-scale-${process.pid}-`));
  const procs: Subprocess[] = [];
  try {
    for (const d of ["run", "log", "spool", ".auth"]) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
    const key = randomBytes(2048);
    writeFileSync(join(dir, ".auth/authkey"), key, { mode: 0o600 });
    writeFileSync(join(dir, ".auth/authkey.sha1"), `${createHash("sha1").update(key).digest("hex").slice(0, 40)}\n`, { mode: 0o600 });
    const port = 30000 + (process.pid % 5000) + n;
    const names = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    const cfg = join(dir, "cm.cfg");
    writeFileSync(
      cfg,
      [
        "[CM_SERVER]",
        `udpport = ${port}`,
        `tcpport = ${port}`,
        `run_dir = ${dir}/run`,
        `log_dir = ${dir}/log`,
        `spool_dir = ${dir}/spool`,
        ...(INTERVAL ? [`keep_alive_interval = ${INTERVAL}`] : []),
        ...(DEAD ? [`dead_time = ${DEAD}`] : []),
        "",
        ...names.flatMap((nm, i) => ["[CM_NODE]", `nodename = ${nm}`, `hostname = ${nm}.scale`, `keep_alive_ip = ${ipOf(i)}`, ""]),
      ].join("\n"),
    );
    const t0 = performance.now();
    for (const nm of names)
      procs.push(Bun.spawn([BIN, `--config-file=${cfg}`, `--node=${nm}`, `--log-file=drcm-${nm}.log`], { stdout: "ignore", stderr: "ignore", detached: true, env: { ...process.env, NO_COLOR: "1" } }));
    const logOf = (nm: string) => {
      const f = join(dir, "log", `drcm-${nm}.log`);
      return existsSync(f) ? readFileSync(f, "utf8") : "";
    };
    const ready = await waitFor(() => names.every((nm) => /is ready/.test(logOf(nm))), 60000, 200);
    console.log(`  ${n} nodes: all ready ${ready < 0 ? "NOT within 60 s" : `after ${Math.round(performance.now() - t0)} ms`}`);
    await Bun.sleep(SETTLE_S * 1000);
    const a = procs.map((p) => ticks(p.pid));
    const ta = performance.now();
    await Bun.sleep(IDLE_S * 1000);
    const el = (performance.now() - ta) / 1000;
    const cpu = procs.map((p, i) => ((ticks(p.pid) - a[i]!) / 100 / el) * 100);
    const rss = procs.map((p) => rssMb(p.pid));
    console.log(`  idle CPU per node: median ${median(cpu).toFixed(2)}%, max ${Math.max(...cpu).toFixed(2)}% of a core; RSS median ${median(rss).toFixed(1)} MB, max ${Math.max(...rss).toFixed(1)} MB`);

    // cm_stat from n1, five times; the client's own start-up (drcm --version) for comparison, and how
    // many nodes missed the 150 ms report deadline ("No answer within 150 ms: ...").
    const lat: number[] = [];
    const late: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      const r = Bun.spawnSync([BIN, "--client", `--config-file=${cfg}`, "--node=n1", "--command=cm_stat"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
      lat.push(performance.now() - s);
      const missed = /No answer within \d+ ms: (.*)/.exec(r.stdout.toString())?.[1];
      late.push(missed === undefined ? 0 : missed.split(",").length);
      if (r.exitCode !== 0 && i === 0) console.log(`  cm_stat exit ${r.exitCode}: ${r.stderr.toString().slice(0, 200)}`);
    }
    const startup: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      Bun.spawnSync([BIN, "--version"], { stdout: "pipe", stderr: "pipe" });
      startup.push(performance.now() - s);
    }
    console.log(
      `  cm_stat: median ${median(lat).toFixed(0)} ms, max ${Math.max(...lat).toFixed(0)} ms (process start included; drcm --version alone: median ${median(startup).toFixed(0)} ms); nodes past the deadline: median ${median(late)}, max ${Math.max(...late)} of ${n}`,
    );

    // Death of the last node: time until every other node has logged it dead.
    const victim = names[n - 1]!;
    const sizes = names.map((nm) => logOf(nm).length);
    const k0 = performance.now();
    process.kill(procs[n - 1]!.pid, "SIGKILL");
    const seen = new Map<string, number>();
    const re = new RegExp(`Node ${victim} is dead`);
    await waitFor(() => {
      for (const [i, nm] of names.entries()) if (nm !== victim && !seen.has(nm) && re.test(logOf(nm).slice(sizes[i]))) seen.set(nm, performance.now() - k0);
      return seen.size === n - 1;
    }, 20000, 10);
    const times = [...seen.values()];
    const agree = seen.size === n - 1 ? Math.max(...times) : null;
    console.log(`  death of ${victim}: first node knew after ${Math.min(...times).toFixed(0)} ms, all ${n - 1} after ${agree === null ? `(only ${seen.size} within 20 s)` : `${agree.toFixed(0)} ms`} (dead_time ${DEAD || "800ms"})`);
    return {
      nodes: n,
      readyMs: ready < 0 ? null : Math.round(ready),
      idleCpuPct: { median: median(cpu), max: Math.max(...cpu) },
      rssMb: { median: median(rss), max: Math.max(...rss) },
      cmStatMs: { median: median(lat), max: Math.max(...lat) },
      clientStartMs: median(startup),
      cmStatNoAnswer: { median: median(late), max: Math.max(...late) },
      deathAgreeMs: agree,
      deathFirstMs: Math.min(...times),
      deathSeenBy: seen.size,
    };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) try { process.kill(p.pid, "SIGKILL"); } catch { /* gone */ }
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!existsSync(BIN)) {
  console.log(`bench/scale needs the binary ${BIN} (npm run build)`);
  process.exit(1);
}
const machine = `${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GB`;
const results: Record<string, unknown>[] = [];
for (const n of SIZES) {
  console.log(`== ${n} nodes on 127.0.0.x, defaults`);
  results.push(await one(n));
}
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify({ date: new Date().toISOString(), machine, idleSeconds: IDLE_S, settleSeconds: SETTLE_S, results }, null, 2)}\n`);
console.log(`written ${OUT} (${machine})`);
