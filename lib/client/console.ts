// `drcm --client`: the interactive console. Prompt `DRCM> `, line editing and history (kept in
// ~/.drcm_history), tab completion of command names, node names and nicknames; `exit`, `quit`,
// Ctrl-D or Ctrl-C leave. Runs the same commands as `--command=`.

import { appendFileSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { BANNER } from "../version.ts";
import { COMMANDS, CONSOLE_ONLY, splitWords } from "./commands.ts";
import type { Cluster } from "../config/model.ts";
import { runCommand, type ClientContext } from "./run.ts";

const PROMPT = "DRCM> ";
const HISTORY_SIZE = 500;

/** Candidates for the word being typed at the end of `line`, readline style: [hits, word]. */
export function complete(cluster: Cluster, line: string): [string[], string] {
  const words = line.split(/\s+/);
  const word = words[words.length - 1] ?? "";
  const before = words.slice(0, -1).filter((w) => w !== "");
  let pool: string[];
  if (before.length === 0) {
    pool = [...COMMANDS.map((c) => c.name), ...CONSOLE_ONLY];
  } else if (word.startsWith("-n")) {
    pool = cluster.nodes.map((n) => `-n${n.nodename}`);
  } else {
    const spec = COMMANDS.find((c) => c.name === before[0]);
    const positional = before.slice(1).filter((w) => !w.startsWith("-"));
    const kind = spec?.args.filter((a) => a !== "json")[positional.length];
    const nicknames = [...new Set(cluster.resources.map((r) => r.nickname))];
    pool = [
      ...(kind === "node" ? cluster.nodes.map((n) => n.nodename) : []),
      ...(kind === "nick" ? nicknames : []),
      ...(kind === "nickOrAll" ? [...nicknames, "--all"] : []),
      ...(kind === "onoff" ? ["on", "off"] : []),
      ...(kind === "lifetime" ? ["--lifetime="] : []),
      ...(kind === "interval" ? ["--interval="] : []),
      ...(spec?.args.includes("json") && !before.includes("--json") ? ["--json"] : []),
    ];
  }
  const hits = pool.filter((c) => c.startsWith(word));
  // A lone hit completes with a trailing space, like a shell.
  return [hits.length === 1 ? [`${hits[0]} `] : hits, word];
}

function loadHistory(file: string): string[] {
  try {
    // readline wants the newest entry first.
    return readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "").slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

export async function runConsole(
  ctx: ClientContext,
  opts: { node: string | null; count: number },
  io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; terminal: boolean; historyFile: string | null } = {
    input: process.stdin,
    output: process.stdout,
    terminal: process.stdin.isTTY === true && process.stdout.isTTY === true,
    historyFile: join(process.env.HOME ?? homedir(), ".drcm_history"),
  },
): Promise<number> {
  const rl = createInterface({
    input: io.input,
    output: io.output,
    terminal: io.terminal,
    prompt: PROMPT,
    historySize: HISTORY_SIZE,
    history: io.historyFile !== null ? loadHistory(io.historyFile) : [],
    completer: (line: string) => complete(ctx.cluster, line),
  });
  const where = ctx.self !== null ? `local node ${ctx.self.nodename}` : "local node unknown: asking the first node that answers";
  ctx.out(`${BANNER} console (${where}). Type help for commands, exit to leave.\n`);
  let closed = false;
  // Ctrl-C ends a running watch and returns to the prompt; at the prompt it leaves the console.
  let running: AbortController | null = null;
  rl.on("SIGINT", () => (running !== null ? running.abort() : rl.close()));
  rl.on("close", () => {
    closed = true;
  });
  rl.prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (line !== "" && io.historyFile !== null) {
      try {
        appendFileSync(io.historyFile, `${line}\n`, { mode: 0o600 });
      } catch {
        // History is a convenience; a read-only home must not break the console.
      }
    }
    const words = splitWords(line);
    if (words.length > 0) {
      if (words[0] === "exit" || words[0] === "quit") break;
      if (ctx.live !== undefined && words[0] === "watch") {
        running = new AbortController();
        const signal = AbortSignal.any([ctx.live.signal, running.signal]);
        await runCommand({ ...ctx, live: { ...ctx.live, tty: io.terminal ? ctx.live.tty : null, signal } }, words, opts);
        running = null;
      } else {
        await runCommand(ctx, words, opts);
      }
    }
    if (closed) break;
    rl.prompt();
  }
  rl.close();
  if (io.terminal) ctx.out("\n");
  return 0;
}
