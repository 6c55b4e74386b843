// bench/http: can a flood of HTTP scrapers delay heartbeats? (issue 17, item 4)
//   bun bench/http/run.ts [--scrapers=200] [--seconds=15] [--out=bench/http/results.json]
// Three drcm daemons on 127.0.2.x with http_port, default timings (keep_alive_interval 50 ms,
// dead_time 800 ms). Phase "idle": nothing but heartbeats. Phase "flood": N concurrent clients fetch
// /metrics and /status.json of n1 back to back. For each phase the heartbeat receive-interval
// histograms (drcm_heartbeat_receive_interval_seconds) are read before and after, so the figures are
// of that phase only: how regularly n2 and n3 hear n1 (n1's sending under load) and n1 hears n2
// (n1's receiving under load). Also: scrapes answered, 503s, errors, false deaths.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Subprocess } from "bun";

const REPO = resolve(import.meta.dir, "../..");
const BIN = process.env.DRCM_BIN ?? join(REPO, "dist/drcm");
const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const SCRAPERS = Number(arg("scrapers", "200"));
const SECONDS = Number(arg("seconds", "15"));
const OUT = arg("out", join(REPO, "bench/http/results.json"));
const IPS = ["127.0.2.11", "127.0.2.12", "127.0.2.13"];
const NAMES = ["n1", "n2", "n3"];

type Hist = Map<string, number>; // le -> cumulative count, plus "count" and "sum"

async function histOf(ip: string, port: number, peer: string): Promise<Hist> {
  const text = await (await fetch(`http://${ip}:${port}/metrics`)).text();
  const h: Hist = new Map();
  for (const line of text.split("\n")) {
    if (!line.startsWith("drcm_heartbeat_receive_interval_seconds") || !line.includes(`node="${peer}"`)) continue;
    const v = Number(line.slice(line.lastIndexOf(" ") + 1));
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le !== undefined) h.set(le, v);
    else if (line.includes("_count")) h.set("count", v);
    else if (line.includes("_sum")) h.set("sum", v);
  }
  return h;
}

/** Phase figures from two histogram snapshots: share of intervals within each bound, and the largest bucket reached. */
function summarize(a: Hist, b: Hist): Record<string, number | string> {
  const d = (k: string) => (b.get(k) ?? 0) - (a.get(k) ?? 0);
  const n = d("count");
  const share = (le: string) => (n === 0 ? 0 : Math.round((d(le) / n) * 10000) / 100);
  const bounds = [...b.keys()].filter((k) => k !== "count" && k !== "sum");
  let worst = "none";
  let prev = 0;
  for (const le of bounds) {
    const c = d(le);
    if (c > prev) worst = le;
    prev = c;
  }
  return {
    intervals: n,
    meanMs: n === 0 ? 0 : Math.round((d("sum") / n) * 100000) / 100,
    "within50ms%": share("0.05"),
    "within75ms%": share("0.075"),
    "within100ms%": share("0.1"),
    "within200ms%": share("0.2"),
    "within400ms%": share("0.4"),
    worstBucket: worst === "+Inf" ? "> 5 s" : `<= ${Number(worst) * 1000} ms`,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `drcm-httpbench-${process.pid}-`));
  const procs: Subprocess[] = [];
  try {
    for (const d of ["run", "log", "spool", ".auth"]) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
    const key = randomBytes(2048);
    writeFileSync(join(dir, ".auth/authkey"), key, { mode: 0o600 });
    writeFileSync(join(dir, ".auth/authkey.sha1"), `${createHash("sha1").update(key).digest("hex").slice(0, 40)}\n`, { mode: 0o600 });
    const port = 36000 + (process.pid % 2000);
    const httpPort = port + 1;
    const cfg = join(dir, "cm.cfg");
    writeFileSync(
      cfg,
      [
        "[CM_SERVER]",
        `udpport = ${port}`,
        `tcpport = ${port}`,
        `http_port = ${httpPort}`,
        `run_dir = ${dir}/run`,
        `log_dir = ${dir}/log`,
        `spool_dir = ${dir}/spool`,
        "",
        ...NAMES.flatMap((nm, i) => ["[CM_NODE]", `nodename = ${nm}`, `hostname = ${nm}.bench`, `keep_alive_ip = ${IPS[i]}`, ""]),
      ].join("\n"),
    );
    for (const nm of NAMES)
      procs.push(Bun.spawn([BIN, `--config-file=${cfg}`, `--node=${nm}`, `--log-file=drcm-${nm}.log`], { stdout: "ignore", stderr: "ignore", detached: true, env: { ...process.env, NO_COLOR: "1" } }));
    const logOf = (nm: string) => (existsSync(join(dir, "log", `drcm-${nm}.log`)) ? readFileSync(join(dir, "log", `drcm-${nm}.log`), "utf8") : "");
    for (let i = 0; i < 100 && !NAMES.every((nm) => /is ready/.test(logOf(nm))); i++) await Bun.sleep(100);
    if (!NAMES.every((nm) => /is ready/.test(logOf(nm)))) throw new Error(`the daemons did not get ready:\n${NAMES.map(logOf).join("\n")}`);
    await Bun.sleep(3000);

    const snap = async () => ({
      n2hearsN1: await histOf(IPS[1]!, httpPort, "n1"),
      n3hearsN1: await histOf(IPS[2]!, httpPort, "n1"),
      n1hearsN2: await histOf(IPS[0]!, httpPort, "n2"),
    });
    const phase = async (name: string, load: (until: number) => Promise<Record<string, number>>) => {
      const deathsBefore = NAMES.map((nm) => (logOf(nm).match(/is dead/g) ?? []).length);
      const a = await snap();
      const t0 = performance.now();
      const extra = await load(t0 + SECONDS * 1000);
      const el = (performance.now() - t0) / 1000;
      const b = await snap();
      const deaths = NAMES.map((nm, i) => (logOf(nm).match(/is dead/g) ?? []).length - deathsBefore[i]!).reduce((x, y) => x + y, 0);
      const r = {
        seconds: Math.round(el * 10) / 10,
        ...extra,
        falseDeaths: deaths,
        n2hearsN1: summarize(a.n2hearsN1, b.n2hearsN1),
        n3hearsN1: summarize(a.n3hearsN1, b.n3hearsN1),
        n1hearsN2: summarize(a.n1hearsN2, b.n1hearsN2),
      };
      console.log(`  ${name}: ${JSON.stringify(r)}`);
      return r;
    };

    const idle = await phase("idle", async (until) => {
      await Bun.sleep(Math.max(0, until - performance.now()));
      return {};
    });
    const flood = await phase(`flood, ${SCRAPERS} scrapers`, async (until) => {
      let ok = 0;
      let busy = 0;
      let errors = 0;
      let bytes = 0;
      const worker = async (i: number) => {
        const path = i % 4 === 0 ? "/status.json" : "/metrics";
        while (performance.now() < until) {
          try {
            const r = await fetch(`http://${IPS[0]}:${httpPort}${path}`);
            const body = await r.arrayBuffer();
            if (r.status === 200) {
              ok++;
              bytes += body.byteLength;
            } else if (r.status === 503) busy++;
            else errors++;
          } catch {
            errors++;
            await Bun.sleep(10);
          }
        }
      };
      await Promise.all(Array.from({ length: SCRAPERS }, (_, i) => worker(i)));
      return { scrapesAnswered: ok, answeredPerSecond: Math.round(ok / SECONDS), refused503: busy, errors, mbServed: Math.round(bytes / 1e5) / 10 };
    });

    const result = { date: new Date().toISOString(), cpus: cpus().length, scrapers: SCRAPERS, keepAliveIntervalMs: 50, deadTimeMs: 800, idle, flood };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`  written to ${OUT}`);
  } finally {
    for (const p of procs) {
      try {
        process.kill(-p.pid, "SIGKILL");
      } catch {
        p.kill("SIGKILL");
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
