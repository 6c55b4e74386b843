// `--command=watch` the way an admin meets it: in a real terminal (tmux, read back with
// capture-pane) against three real daemons, and piped, where it prints one line per cluster event.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { TestCluster, DRCM_BIN, sleep, waitFor } from "./harness.ts";

const haveBinary = existsSync(DRCM_BIN);
const haveTmux = Bun.which("tmux") !== null;
if (!haveBinary) console.log(`skipping watch client tests: no binary at ${DRCM_BIN} (npm run build)`);
if (!haveTmux) console.log("skipping the terminal watch test: tmux is not installed (apt-get install tmux)");

const spec = {
  nodes: [
    { name: "v1", ip: "127.0.0.81", lines: ["node_floating_ip_addrs = vip"] },
    { name: "v2", ip: "127.0.0.82", lines: ["node_backup_floating_ip_addrs = v1:vip"] },
    { name: "v3", ip: "127.0.0.83", lines: [] },
  ],
  resources: ["[CM_IPADDRS]", "vip, 10.9.9.9, 255.255.255.0, eth0, AGENT"].join("\n"),
};

describe.skipIf(!haveBinary)("client watch", () => {
  let c: TestCluster;
  const socket = `drcm-watch-${process.pid}`;
  const tmux = (...args: string[]) => Bun.spawnSync(["tmux", "-L", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  const screen = (escapes = false): string => tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", "w").stdout.toString();

  beforeAll(async () => {
    c = new TestCluster(spec);
    c.startAll();
    expect(await waitFor(() => c.has("v1", "10.9.9.9"), 10000)).toBeGreaterThanOrEqual(0);
    const r = await waitFor(async () => (await c.client(["--command=cm_stat"], "v2")).out.includes("Cluster status: HEALTHY"), 10000);
    expect(r).toBeGreaterThanOrEqual(0);
  });
  afterAll(async () => {
    if (haveTmux) tmux("kill-server");
    await c?.cleanup();
  });

  test.skipIf(!haveTmux)("on a terminal it redraws cm_stat in place, highlights the failover, and Ctrl-C restores the terminal", async () => {
    // remain-on-exit keeps the pane after drcm exits so its exit status can be read.
    const cmd = `${DRCM_BIN} --client --config-file=${c.configFile} --node=v2 --command=watch; echo "exit=$?"; sleep 30`;
    const made = tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "70", "-e", "NO_COLOR=", "-e", "TERM=xterm-256color", cmd);
    expect(made.exitCode).toBe(0);
    expect(await waitFor(() => screen().includes("drcm watch: from v2"), 8000)).toBeGreaterThanOrEqual(0);
    const before = screen();
    expect(before).toMatch(/v1\s+v1\.test\s+Up\s+127\.0\.0\.81/);
    expect(before).toContain("Cluster status: HEALTHY");
    // TABs were expanded: columns line up as on a terminal, no leftovers of an older frame.
    expect(before).not.toContain("\t");

    await c.kill("v1");
    const gone = await waitFor(() => /v1\s+v1\.test\s+Down/.test(screen()), 8000);
    expect(gone).toBeGreaterThanOrEqual(0);
    const after = screen();
    // In place: one report on the screen, not a scroll of reports.
    expect(after.match(/Cluster Manager Status Monitor/g)?.length).toBe(1);
    expect(after).toContain("R e c e n t   E v e n t s");
    expect(after).toContain("node_dead");
    // Highlighted in reverse video (SGR 7) on the terminal: the line of v1 now Down.
    const painted = screen(true).split("\n");
    const v1Line = painted.find((l) => /v1\s+v1\.test\s+Down/.test(l.replace(/\x1b\[[0-9;]*m/g, "")));
    expect(v1Line).toBeDefined();
    expect(v1Line!).toMatch(/\x1b\[7m/);
    const unchanged = painted.find((l) => /v3\s+v3\.test\s+Up/.test(l.replace(/\x1b\[[0-9;]*m/g, "")));
    expect(unchanged!).not.toMatch(/\x1b\[7m/);
    // The highlight fades: more than 5 s later the line is plain again.
    expect(await waitFor(() => !/\x1b\[7m/.test(screen(true)), 9000)).toBeGreaterThanOrEqual(0);

    tmux("send-keys", "-t", "w", "C-c");
    expect(await waitFor(() => screen().includes("exit=0"), 5000)).toBeGreaterThanOrEqual(0);
    // Back on the normal screen: the report is gone with the alternate screen.
    expect(screen()).not.toContain("Cluster Manager Status Monitor");
    c.start("v1");
    expect(await waitFor(() => c.has("v1", "10.9.9.9"), 15000)).toBeGreaterThanOrEqual(0);
  }, 60000);

  test.skipIf(!haveTmux)("in the console, watch runs until Ctrl-C and gives the prompt back", async () => {
    const cmd = `${DRCM_BIN} --client --config-file=${c.configFile} --node=v3; echo "exit=$?"; sleep 30`;
    expect(tmux("new-session", "-d", "-s", "con", "-x", "120", "-y", "70", "-e", "NO_COLOR=1", "-e", `HOME=${c.dir}`, cmd).exitCode).toBe(0);
    const pane = () => tmux("capture-pane", "-p", "-t", "con").stdout.toString();
    expect(await waitFor(() => pane().includes("DRCM>"), 8000)).toBeGreaterThanOrEqual(0);
    tmux("send-keys", "-t", "con", "watch", "Enter");
    expect(await waitFor(() => pane().includes("drcm watch: from v3"), 8000)).toBeGreaterThanOrEqual(0);
    tmux("send-keys", "-t", "con", "C-c");
    expect(await waitFor(() => !pane().includes("drcm watch:") && pane().includes("DRCM>"), 5000)).toBeGreaterThanOrEqual(0);
    tmux("send-keys", "-t", "con", "exit", "Enter");
    expect(await waitFor(() => pane().includes("exit=0"), 5000)).toBeGreaterThanOrEqual(0);
  }, 30000);

  test("piped, it prints one line per cluster event, each once however many nodes saw it, until SIGINT", async () => {
    expect(await waitFor(async () => (await c.client(["--command=cm_stat"], "v3")).out.includes("Cluster status: HEALTHY"), 15000)).toBeGreaterThanOrEqual(0);
    const p = Bun.spawn([DRCM_BIN, "--client", `--config-file=${c.configFile}`, "--node=v3", "--command=watch"], {
      env: { ...process.env, NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const killer = setTimeout(() => p.kill("SIGKILL"), 30000);
    await sleep(700);
    await c.kill("v1");
    expect(await waitFor(() => c.has("v2", "10.9.9.9"), 8000)).toBeGreaterThanOrEqual(0);
    await sleep(1000);
    p.kill("SIGINT");
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    const code = await p.exited;
    clearTimeout(killer);
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    // v2 and v3 both declare v1 dead: printed once.
    const deaths = lines.filter((l) => / node_dead: /.test(l) && l.includes("v1"));
    expect(deaths.length).toBe(1);
    expect(lines.some((l) => / v2 takeover: /.test(l))).toBe(true);
    for (const l of lines) expect(l).toMatch(/^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d\.\d{3} v[123] [a-z_]+: /);
    expect(err).toContain("v1 did not answer");
    // Nothing from before the watch started (v2's start-up events).
    expect(lines.some((l) => / node_ready: /.test(l))).toBe(false);
  }, 60000);
});
