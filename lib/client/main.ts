// `drcm --client [--command=CMD]`: load the config, find the local node and the key, then run one
// command or open the console.

import { configFileProblem } from "../io/config-file.ts";
import { hostname } from "node:os";
import type { CliOptions } from "../cli/args.ts";
import { clientKeyError, readAuthKey } from "../config/auth.ts";
import { findSelf } from "../config/self.ts";
import { errorLines, loadAndCheck, usableCluster } from "../config/verify.ts";
import { nonInteractiveHelp, splitWords } from "./commands.ts";
import { healthFailure, UNKNOWN } from "./health.ts";
import { makePaint, wantColor } from "./paint.ts";
import { runCommand, type ClientContext } from "./run.ts";
import { realSleep } from "./watch.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
import { localStamp } from "./stamp.ts";
import { makeCaller, whoAmI } from "../io/control-client.ts";

const write = (stream: NodeJS.WriteStream) => (s: string) => void stream.write(s);
const drain = (stream: NodeJS.WriteStream) => new Promise<void>((r) => stream.write("", () => r()));

export async function runClient(o: CliOptions): Promise<number> {
  const code = await client(o);
  await drain(process.stdout);
  await drain(process.stderr);
  return code;
}

async function client(o: CliOptions): Promise<number> {
  const out = write(process.stdout);
  const err = write(process.stderr);
  const words = o.command === null ? [] : [...splitWords(o.command), ...o.rest];
  const isHealth = words[0] === "health";
  const fail = (msg: string): number => {
    // A monitoring check must still print its one line and exit UNKNOWN.
    if (isHealth) {
      out(`${healthFailure(UNKNOWN, msg).line}\n`);
      return UNKNOWN;
    }
    err(`drcm: ERROR - ${msg}\n`);
    return 1;
  };

  if (words[0] === "help" && words.length === 1) {
    out(nonInteractiveHelp());
    return 0;
  }
  const problem = configFileProblem(o.configFile);
  if (problem !== null) return fail(problem.message);
  const loaded = await loadAndCheck(o.configFile, { node: o.node, environment: false });
  const cluster = loaded.cluster;
  if (cluster === null) {
    if (!isHealth) for (const line of errorLines(loaded, "drcm: ")) err(`${line}\n`);
    return fail(`Cannot load config file ${o.configFile} (drcm --check-config lists every problem)`);
  }
  const self = findSelf(cluster, o.node);
  if (typeof self === "string" && o.node !== null) return fail(self);

  const auth = readAuthKey(cluster.etcDir);
  const key = "key" in auth ? auth.key : null;
  const paint = makePaint(wantColor({ noColor: o.noColor, isTty: process.stdout.isTTY === true, env: process.env }));
  const ctx: Mutable<ClientContext> = {
    cluster,
    self: typeof self === "string" ? null : self,
    caller: makeCaller(key, whoAmI(hostname()), "error" in auth ? auth.error : null),
    keyError: "error" in auth ? clientKeyError(auth) : null,
    now: () => Date.now(),
    stamp: localStamp,
    paint,
    json: o.json,
    out,
    err,
    console: o.command === null,
    precheckReload: async () => {
      const r = await loadAndCheck(cluster.file, { node: o.node, environment: false });
      return usableCluster(r) !== null ? null : errorLines(r, "drcm: ").join("\n");
    },
  };
  const stop = new AbortController();
  if (words[0] === "watch") {
    // watch runs until Ctrl-C (SIGINT), SIGTERM or a closed stdout (piped into head, say): all end it cleanly.
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => stop.abort());
    process.stdout.on("error", () => stop.abort());
  }
  const stdout = process.stdout;
  ctx.live = {
    tty: stdout.isTTY === true
      ? {
          columns: () => stdout.columns ?? 80,
          rows: () => stdout.rows ?? 24,
          onResize: (cb) => {
            stdout.on("resize", cb);
            return () => void stdout.off("resize", cb);
          },
        }
      : null,
    signal: stop.signal,
    sleep: realSleep,
  };
  if (o.command === null) {
    const { runConsole } = await import("./console.ts");
    return runConsole(ctx, { node: o.nodeSelector, count: o.count });
  }
  return runCommand(ctx, words, { node: o.nodeSelector, count: o.count });
}
