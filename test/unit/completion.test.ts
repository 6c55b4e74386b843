// Issue 16: packaging/drcm.bash-completion, run in a real bash: long options (every option of the
// switch in lib/cli/args.ts, so an option added there and not to the completion fails here), the
// client commands of lib/client/commands.ts after --command=, their arguments, and node names and
// nicknames read from the cm.cfg named by --config-file= (or the default config).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMMANDS } from "../../lib/client/commands.ts";

const ROOT = join(import.meta.dir, "..", "..");
const SCRIPT = join(ROOT, "packaging/drcm.bash-completion");
const bash = Bun.which("bash");

const dir = mkdtempSync(join(tmpdir(), "drcm-completion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CFG = join(dir, "cm.cfg");
writeFileSync(
  CFG,
  `[CM_SERVER]
udpport = 53897
# nodename = notanode
[CM_APPLICATIONS]
web, root:root, /bin/true, /bin/true
ledger, root:root, /bin/true, /bin/true # a comment
[CM_NODE]
nodename = alpha
hostname = alpha.example
keep_alive_ip = 10.0.0.1
[CM_NODE]
  nodename=beta;   # spaces, 1.x trailing semicolon and a comment
hostname = beta.example
# nodename = commented
[CM_NODE]
nodename = gamma
[CM_SERVICES]
# nickname, service_name, resource_script
httpd, httpd, /etc/drcm/resources/service.sh
`,
);
// A second config, used as the default one.
const DEFAULT_CFG = join(dir, "default.cfg");
writeFileSync(DEFAULT_CFG, "[CM_NODE]\nnodename = delta\n[CM_NODE]\nnodename = epsilon\n");

/** COMPREPLY for the words (the last one is being completed), as bash would set COMP_WORDS. */
function complete(words: string[], defaultConfig = join(dir, "missing.cfg")): string[] {
  const script = [
    `source "$1"`,
    `_drcm_default_config="$2"`,
    "shift 2",
    'COMP_WORDS=("$@")',
    "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))",
    "_drcm",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const r = Bun.spawnSync([bash!, "--norc", "--noprofile", "-c", script, "bash", SCRIPT, defaultConfig, ...words], { stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  return r.stdout
    .toString()
    .split("\n")
    .filter((l) => l !== "");
}

/** The long options parseArgs accepts: the case labels of its `switch (name)`, and which take a value. */
function argsTsOptions(): { all: string[]; valued: Set<string>; aliases: string[] } {
  const src = readFileSync(join(ROOT, "lib/cli/args.ts"), "utf8");
  const a = src.indexOf("switch (name) {");
  const b = src.indexOf("default:", a);
  expect(a).toBeGreaterThan(0);
  expect(b).toBeGreaterThan(a);
  const all = [...src.slice(a, b).matchAll(/case "([^"]+)":/g)].map((m) => m[1]!);
  const vf = /const VALUE_FLAGS = new Set\(\[([^\]]*)\]\)/.exec(src);
  expect(vf).not.toBeNull();
  const valued = new Set([...vf![1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!));
  // Spellings kept for 1.x that --help does not show: not offered.
  const aliases = ["?", "ver"];
  return { all: all.filter((o) => !aliases.includes(o)), valued, aliases };
}

const sorted = (a: readonly string[]): string[] => [...a].sort();

describe.skipIf(bash === null)("bash completion (packaging/drcm.bash-completion)", () => {
  test("the option switch of args.ts is found (the scan matches something)", () => {
    const { all, valued } = argsTsOptions();
    expect(all.length).toBeGreaterThan(20);
    expect(all).toContain("config-file");
    expect(valued.has("command")).toBe(true);
  });

  test("every long option of args.ts is offered, with = exactly when it takes a value, and nothing else", () => {
    const { all, valued } = argsTsOptions();
    const offered = complete(["drcm", "--"]);
    const want = all.map((o) => (valued.has(o) ? `--${o}=` : `--${o}`));
    expect(sorted(offered)).toEqual(sorted(want));
    // Every option is also documented in --help.
    const help = readFileSync(join(ROOT, "lib/cli/help.ts"), "utf8");
    for (const o of all) expect(help).toContain(`--${o}`);
  });

  test("a prefix narrows the options", () => {
    expect(complete(["drcm", "--com"])).toEqual(["--command="]);
    expect(sorted(complete(["drcm", "--log-"]))).toEqual(["--log-disable", "--log-file-clear", "--log-file=", "--log-level="]);
    expect(complete(["drcm", "--nosuch"])).toEqual([]);
  });

  test("--command= offers the client commands of commands.ts, split at = by bash or not", () => {
    const names = COMMANDS.map((c) => c.name);
    expect(sorted(complete(["drcm", "--client", "--command", "=", ""]))).toEqual(sorted(names));
    expect(sorted(complete(["drcm", "--client", "--command", "="]))).toEqual(sorted(names));
    expect(sorted(complete(["drcm", "--client", "--command", "=", "st"]))).toEqual(["standby", "status"]);
    expect(sorted(complete(["drcm", "--client", "--command=st"]))).toEqual(["--command=standby", "--command=status"]);
    expect(sorted(complete(["drcm", "--client", "--command", "un"]))).toEqual(["unstandby"]);
  });

  test("node names come from the --config-file in use: --node=, -nNODE, standby NODE, rstats, move NICK NODE", () => {
    const cf = `--config-file=${CFG}`;
    expect(complete(["drcm", cf, "--node", "=", ""])).toEqual(["alpha", "beta", "gamma"]);
    expect(complete(["drcm", cf, "--node=b"])).toEqual(["--node=beta"]);
    expect(complete(["drcm", "--config-file", CFG, "--node", "g"])).toEqual(["gamma"]);
    expect(complete(["drcm", "--config-file", "=", CFG, "--client", "-n"])).toEqual(["-nalpha", "-nbeta", "-ngamma"]);
    expect(complete(["drcm", cf, "--client", "--command", "=", "standby", ""])).toEqual(["alpha", "beta", "gamma"]);
    expect(complete(["drcm", cf, "--client", "--command=unstandby", "a"])).toEqual(["alpha"]);
    expect(complete(["drcm", cf, "--client", "--command=rstats", ""])).toEqual(["alpha", "beta", "gamma"]);
    // One positional only: nothing after the node.
    expect(complete(["drcm", cf, "--client", "--command=standby", "alpha", ""])).toEqual([]);
  });

  test("nicknames come from the resource sections: explain, move, clear, cleanup; then the node, then --lifetime=", () => {
    const cf = `--config-file=${CFG}`;
    expect(complete(["drcm", cf, "--client", "--command=explain", ""])).toEqual(["web", "ledger", "httpd"]);
    expect(complete(["drcm", cf, "--client", "--command", "=", "move", ""])).toEqual(["web", "ledger", "httpd"]);
    expect(complete(["drcm", cf, "--client", "--command", "=", "move", "ledger", ""])).toEqual(["alpha", "beta", "gamma"]);
    expect(complete(["drcm", cf, "--client", "--command=move", "ledger", "beta", "--"])).toEqual(["--lifetime="]);
    expect(complete(["drcm", cf, "--client", "--command=clear", ""])).toEqual(["web", "ledger", "httpd", "--all"]);
    expect(complete(["drcm", cf, "--client", "--command=maintenance", ""])).toEqual(["on", "off"]);
    expect(complete(["drcm", cf, "--client", "--command=maintenance", "on", ""])).toEqual(["alpha", "beta", "gamma"]);
    expect(complete(["drcm", cf, "--client", "--command=status", "--"])).toEqual(["--json"]);
    // The command and its words in one quoted word.
    expect(complete(["drcm", cf, "--client", "--command", "=", '"move web b'])).toEqual(['"move web beta']);
  });

  test("without --config-file the default config is read; a missing config offers no names and no error", () => {
    expect(complete(["drcm", "--client", "--command=standby", ""], DEFAULT_CFG)).toEqual(["delta", "epsilon"]);
    expect(complete(["drcm", "--node="], DEFAULT_CFG)).toEqual(["--node=delta", "--node=epsilon"]);
    expect(complete(["drcm", "--client", "--command=standby", ""])).toEqual([]);
    // --config-file on the command line wins over the default.
    expect(complete(["drcm", `--config-file=${CFG}`, "-ng"], DEFAULT_CFG)).toEqual(["-ngamma"]);
  });

  test("demo and --simulate words", () => {
    expect(complete(["drcm", "de"])).toEqual(["demo"]);
    expect(sorted(complete(["drcm", "demo", "--"]))).toEqual(["--keep", "--netns"]);
    expect(complete(["drcm", `--config-file=${CFG}`, "--simulate", "kill", ""])).toEqual(["alpha", "beta", "gamma"]);
    expect(complete(["drcm", "--simulate", "he"])).toEqual(["heal"]);
  });

  test("file values: --config-file= completes paths", () => {
    expect(complete(["drcm", "--config-file", "=", join(dir, "cm.")])).toEqual([CFG]);
    expect(complete(["drcm", `--config-file=${join(dir, "def")}`])).toEqual([`--config-file=${DEFAULT_CFG}`]);
  });

  test("it is registered for drcm and drcm_server", () => {
    const r = Bun.spawnSync([bash!, "--norc", "--noprofile", "-c", `source "$1"; complete -p drcm drcm_server`, "bash", SCRIPT], { stdout: "pipe" });
    expect(r.stdout.toString()).toBe("complete -F _drcm drcm\ncomplete -F _drcm drcm_server\n");
  });
});

if (bash === null) console.log("skipping the bash completion tests: bash is not on PATH");
