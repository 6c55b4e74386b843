// The client against three real drcm processes on loopback addresses: cm_stat with a node
// killed (fast, Down, exit 0), rstats and ping failing with it, health, JSON, an operator
// command, and a request with the wrong key refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { statusJsonSchema } from "../../lib/client/render-json.ts";

// The application runs as whoever runs the tests: root uses su, an ordinary user its own login shell.
// (id, not os.userInfo(): Bun 1.4.5 answers "unknown" for the name when $USER is unset.)
const APP_USER = `${Bun.spawnSync(["id", "-un"]).stdout.toString().trim()}:${Bun.spawnSync(["id", "-gn"]).stdout.toString().trim()}`;
const BIN = process.env.DRCM_BIN ?? join(import.meta.dir, "../../dist/drcm");
const haveBin = existsSync(BIN);
if (!haveBin) console.log(`client integration: skipped, no drcm binary at ${BIN} (run bun run build or set DRCM_BIN)`);

// Unique per run: 127.X.7.{1,2,3} and ports derived from the pid, so parallel runs do not meet.
const X = 20 + (process.pid % 200);
const ip = (n: number) => `127.${X}.7.${n}`;
const PORT = 30000 + (process.pid % 15000) * 2;
const dir = mkdtempSync(join(tmpdir(), `drcm-client-it-${process.pid}-`));
const cfg = join(dir, "cm.cfg");
const procs = new Map<number, ReturnType<typeof Bun.spawn>>();

const config = (runDir: string) => `[CM_SERVER]
udpport = ${PORT}
tcpport = ${PORT + 1}
bind_to_keep_alive_ip = 1
run_dir = ${runDir}
log_dir = ${dir}/log
spool_dir = ${dir}/spool
keep_alive_interval = 50ms
dead_time = 600ms
failback_delay = 1s

[CM_APPLICATIONS]
app1, ${APP_USER}, /bin/true, /bin/true, /bin/true

[CM_NODE]
nodename = n1
hostname = h1.test
keep_alive_ip = ${ip(1)}
node_applications = app1

[CM_NODE]
nodename = n2
hostname = h2.test
keep_alive_ip = ${ip(2)}
node_backup_applications = n1:app1

[CM_NODE]
nodename = n3
hostname = h3.test
keep_alive_ip = ${ip(3)}
`;

async function drcm(args: string[], configFile = cfg): Promise<{ code: number; out: string; err: string; ms: number }> {
  const t0 = performance.now();
  const p = Bun.spawn([BIN, `--config-file=${configFile}`, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const killer = setTimeout(() => p.kill("SIGKILL"), 10_000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(killer);
  return { code, out, err, ms: performance.now() - t0 };
}
const client = (command: string, ...more: string[]) => drcm(["--client", "--node=n1", `--command=${command}`, ...more]);

/** Polls cm_stat until `ok` holds (bounded). */
async function until(what: string, ok: (out: string) => boolean): Promise<string> {
  let last = "";
  for (let i = 0; i < 60; i++) {
    last = (await client("cm_stat")).out;
    if (ok(last)) return last;
    await Bun.sleep(250);
  }
  throw new Error(`Timed out waiting for ${what}; last cm_stat:\n${last}`);
}

function kill(n: number): void {
  const p = procs.get(n);
  if (!p) return;
  try {
    process.kill(-p.pid, "SIGKILL");
  } catch {
    p.kill("SIGKILL");
  }
  procs.delete(n);
}

beforeAll(async () => {
  if (!haveBin) return;
  writeFileSync(cfg, config(join(dir, "run")));
  const k = await drcm(["--keygen"]);
  if (k.code !== 0) throw new Error(`keygen failed: ${k.err}${k.out}`);
  for (const n of [1, 2, 3]) {
    procs.set(
      n,
      Bun.spawn([BIN, `--config-file=${cfg}`, `--node=n${n}`, "--log-disable"], { stdout: "ignore", stderr: "ignore", detached: true }),
    );
  }
}, 30_000);

afterAll(() => {
  for (const n of [...procs.keys()]) kill(n);
  rmSync(dir, { recursive: true, force: true });
});

test.skipIf(!haveBin)("runClient() cm_stat, rstats, ping and health over real nodes, with one node killed", async () => {
  await until("3 nodes up and app1 held", (o) => o.includes("Cluster status: HEALTHY") && o.includes("Application:\tapp1"));
  const healthy = await client("rstats");
  expect(healthy.code).toBe(0);
  expect(healthy.out).toContain(`rstats n1@${ip(1)} successful\napplication:app1,`);
  expect((await client("health")).out).toStartWith("DRCM OK - 3/3 nodes up, 1/1 resources held |");

  kill(3);
  await until("n3 Down", (o) => o.includes(`  n3\th3.test\tDown\t${ip(3)}`));
  const stat = await client("cm_stat");
  console.log(`cm_stat with one node down answered in ${stat.ms.toFixed(0)} ms (process start included)`);
  expect(stat.code).toBe(0);
  expect(stat.out).toContain("  Node status: Cluster has 1 node DOWN");
  expect(stat.out).toContain("Answered by: n1");

  const r = await client("rstats");
  expect(r.code).toBe(1);
  expect(r.out).toContain(`rstats ack n3@${ip(3)} failed with recv error\n`);
  expect(r.out).toContain(`rstats n2@${ip(2)} successful\nNo CM resources started\nrstats n2@${ip(2)} end\n`);

  const ping = await client("ping");
  expect(ping.code).toBe(1);
  expect(ping.out).toBe(
    `ping DRCM cluster\nping n1@${ip(1)} successful\nping n2@${ip(2)} successful\nping n3@${ip(3)} failed with recv error\nping DRCM cluster failed\n`,
  );
  expect((await client("ping", "-c2", "-nn3")).code).toBe(1);
  expect((await client("ping", "-nH2.TEST")).code).toBe(0);
  expect((await client("ping", "-nnosuch")).code).toBe(255);

  const h = await client("health");
  expect(h.code).toBe(1);
  expect(h.out).toContain("n3 dead");

  const j = await client("status", "--json");
  expect(j.code).toBe(0);
  const doc = statusJsonSchema.parse(JSON.parse(j.out));
  expect(doc.nodes.find((n) => n.nodename === "n3")?.up).toBe(false);
}, 60_000);

test.skipIf(!haveBin)("runClient() operator commands need the key: accepted with it, refused without", async () => {
  const ok = await client("standby n2");
  expect(ok.code).toBe(0);
  await until("n2 in standby", (o) => /  n2\s+standby/.test(o));
  expect((await client("unstandby n2")).code).toBe(0);

  // Same cluster, another key, and no unix socket to fall back on: every node must refuse.
  const other = join(dir, "other");
  mkdirSync(other, { recursive: true });
  const otherCfg = join(other, "cm.cfg");
  writeFileSync(otherCfg, config(join(other, "run")));
  expect((await drcm(["--keygen"], otherCfg)).code).toBe(0);
  const refused = await drcm(["--client", "--node=n1", "--command=standby n2"], otherCfg);
  expect(refused.code).toBe(1);
  expect(refused.err).toContain("drcm: n1 refused the request: authentication failed (is .auth/authkey the same on every node?)");
  expect(refused.err).toContain("No cluster node accepted the command");

  // A wrong key is not an outage: cm_stat says so and fails instead of reporting every node Down with exit 0.
  const stat = await drcm(["--client", "--node=n1", "--command=cm_stat"], otherCfg);
  expect(stat.code).toBe(1);
  expect(stat.err).toContain("n2 refused the request: authentication failed");
  expect(stat.err).not.toContain("n1 did not answer"); // n3 was killed by the test above: that one is down
  // The nodes counted those requests; a good client sees them in status --json.
  const j = await client("status", "--json");
  expect(JSON.parse(j.out).rejected.control_bad_mac).toBeGreaterThan(0);
}, 30_000);

test.skipIf(!haveBin)("runClient() without an auth key fails once, locally, for network commands only", async () => {
  const bare = join(dir, "nokey");
  mkdirSync(bare, { recursive: true });
  const bareCfg = join(bare, "cm.cfg");
  writeFileSync(bareCfg, config(join(bare, "run")));
  const stat = await drcm(["--client", "--node=n1", "--command=cm_stat"], bareCfg);
  expect(stat.code).toBe(1);
  expect(stat.out).toBe("");
  expect(stat.err).toBe(`drcm: ERROR - Cannot read auth key ${bare}/.auth/authkey: it does not exist: run drcm --keygen, then copy .auth to every node\n`);
  expect((await drcm(["--client", "--node=n1", "--command=standby n2"], bareCfg)).code).toBe(1);
  expect((await drcm(["--client", "--node=n1", "--command=health"], bareCfg)).code).toBe(3);
  expect((await drcm(["--client", "--node=n1", "--command=printcfg"], bareCfg)).code).toBe(0);
}, 30_000);
