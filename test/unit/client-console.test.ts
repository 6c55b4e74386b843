// The console through a real pseudo terminal (util-linux `script` allocates it): prompt, help,
// tab completion of commands and node names, history file, exit.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const hasScript = Bun.which("script") !== null;
if (!hasScript) console.log("client-console: skipped, util-linux `script` (pseudo terminal) is not installed");

const dir = mkdtempSync(join(tmpdir(), `drcm-console-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `[CM_SERVER]
udpport = 47999
tcpport = 47999
run_dir = ${dir}/run
log_dir = ${dir}/log
spool_dir = ${dir}/spool

[CM_APPLICATIONS]
sleeper, root:root, /bin/true, /bin/true

[CM_NODE]
nodename = cmnode1
hostname = h1.test
keep_alive_ip = 127.0.0.1
node_applications = sleeper

[CM_NODE]
nodename = cmnode2
hostname = h2.test
keep_alive_ip = 127.0.0.2
`;

test.skipIf(!hasScript)("runConsole() works on a terminal: help, tab completion, history, exit", async () => {
  const cfg = join(dir, "cm.cfg");
  writeFileSync(cfg, CONFIG);
  const cmd = [process.execPath, join(root, "drcm.ts"), "--client", `--config-file=${cfg}`, "--node=cmnode1"].map((a) => `'${a}'`).join(" ");
  const proc = Bun.spawn(["script", "-qfec", cmd, "/dev/null"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, HOME: dir, TERM: "xterm", NO_COLOR: "1" },
  });
  let screen = "";
  const reader = (async () => {
    for await (const chunk of proc.stdout) screen += new TextDecoder().decode(chunk);
  })();
  /** Waits (bounded) until the screen shows `what` after position `from`. */
  const waitFor = async (what: string, from = 0): Promise<number> => {
    for (let i = 0; i < 100; i++) {
      const at = screen.indexOf(what, from);
      if (at >= 0) return at + what.length;
      await Bun.sleep(50);
    }
    throw new Error(`Console never showed ${JSON.stringify(what)}; screen so far:\n${screen}`);
  };
  // readline treats keys that arrive in one chunk as pasted text (a pasted tab is not a
  // completion), so every key group is sent on its own, like a person typing.
  const type = async (...keys: string[]) => {
    for (const k of keys) {
      proc.stdin.write(k);
      proc.stdin.flush();
      await Bun.sleep(120);
    }
  };
  try {
    let at = await waitFor("DRCM> ");
    await type("hel", "\t");
    at = await waitFor("help", at);
    await type("\r");
    at = await waitFor("Commands:", at);
    at = await waitFor("DRCM> ", at);
    await type("stan", "\t");
    at = await waitFor("standby ", at);
    await type("cm", "\t", "\t");
    // Two tabs on an ambiguous word list the node names.
    at = await waitFor("cmnode2", at);
    await type("\x15"); // Ctrl-U: clear the line
    await type("bogus", "\r");
    at = await waitFor("Invalid command", at);
    await type("exit", "\r");
    const code = await Promise.race([proc.exited, Bun.sleep(5000).then(() => -1)]);
    expect(code).toBe(0);
    expect(readFileSync(join(dir, ".drcm_history"), "utf8")).toBe("help\nbogus\nexit\n");
  } finally {
    proc.kill();
    await reader.catch(() => {});
  }
}, 30_000);
