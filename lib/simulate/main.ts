// `drcm --simulate EVENT...`: reads the config and the start status (--from-status=FILE, or the live
// status of the local node through the client's channel), then runs lib/simulate/run.ts.
import { hostname } from "node:os";
import { readFile } from "node:fs/promises";
import type { CliOptions } from "../cli/args.ts";
import type { Cluster } from "../config/model.ts";
import { readAuthKey } from "../config/auth.ts";
import { findSelf } from "../config/self.ts";
import { PLAIN } from "../client/paint.ts";
import { statusToJson } from "../client/render-json.ts";
import { askStatus, type ClientContext } from "../client/run.ts";
import { localStamp } from "../client/stamp.ts";
import { makeCaller, whoAmI } from "../io/control-client.ts";
import { runSimulation, type StatusSource } from "./run.ts";

const UNREADABLE: Record<string, string> = { ENOENT: "it does not exist", EISDIR: "it is a directory", EACCES: "permission denied" };
const why = (e: unknown): string => UNREADABLE[(e as NodeJS.ErrnoException).code ?? ""] ?? (e as Error).message;

export async function runSimulate(o: CliOptions): Promise<number> {
  let configText: string;
  try {
    configText = await readFile(o.configFile, "utf8");
  } catch (e) {
    process.stderr.write(`drcm: ERROR - Cannot read config file "${o.configFile}": ${why(e)}\n`);
    return 1;
  }
  let r;
  try {
    r = await runSimulation({
      configText,
      file: o.configFile,
      words: o.rest,
      json: o.json,
      status: (cluster) => (o.fromStatus !== null ? statusFile(o.fromStatus) : liveStatus(cluster, o)),
    });
  } catch (e) {
    // Input errors are answered above; this is a bug, but still one line, not a stack trace.
    process.stderr.write(`drcm: ERROR - The simulation failed: ${e instanceof Error ? e.message : String(e)} (please report it with the command line)\n`);
    return 1;
  }
  await write(process.stdout, r.out);
  await write(process.stderr, r.err);
  return r.code;
}

const write = (s: NodeJS.WriteStream, text: string) => new Promise<void>((done) => (text === "" ? done() : s.write(text, () => done())));

async function statusFile(file: string): Promise<StatusSource> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    return { error: `Cannot read status file "${file}": ${why(e)}` };
  }
  try {
    return { doc: JSON.parse(text), label: file };
  } catch (e) {
    return { error: `Cannot read status file "${file}": not JSON (${(e as Error).message}); save one with drcm --client --command="status --json" > FILE` };
  }
}

/** "n1 did not answer (X); n2 did not answer (X)" -> "n1, n2 did not answer (X)": one missing key is one problem. */
function sameReasons(failures: readonly string[]): string {
  const byReason = new Map<string, string[]>();
  for (const f of failures) {
    const [node, ...rest] = f.split(" ");
    const reason = rest.join(" ");
    byReason.set(reason, [...(byReason.get(reason) ?? []), node!]);
  }
  return [...byReason].map(([reason, nodes]) => `${nodes.join(", ")} ${reason}`).join("; ");
}

/** The live status, asked like `--client --command="status --json"`: the local node first, then the others. */
async function liveStatus(cluster: Cluster, o: CliOptions): Promise<StatusSource> {
  const self = findSelf(cluster, o.node);
  const auth = readAuthKey(cluster.etcDir);
  const quiet = () => {};
  const ctx: ClientContext = {
    cluster,
    self: typeof self === "string" ? null : self,
    caller: makeCaller("key" in auth ? auth.key : null, whoAmI(hostname()), "error" in auth ? auth.error : null),
    now: () => Date.now(),
    stamp: localStamp,
    paint: PLAIN,
    json: true,
    out: quiet,
    err: quiet,
    console: false,
  };
  const { answer, failures } = await askStatus(ctx);
  if (answer === null) return { none: `No node answered${failures.length > 0 ? ` (${sameReasons(failures)})` : ""}` };
  return { doc: statusToJson(answer.status, answer.info, Date.now()), label: `the live status of ${answer.node.nodename}` };
}
