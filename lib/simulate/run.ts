// `drcm --simulate` from config text and event words to exit code and output, with the start status
// asked for through a callback (main.ts asks a live node or reads --from-status; tests hand a fixture).
import type { Cluster } from "../config/model.ts";
import { parseClusterText } from "../config/load.ts";
import { formatFinding } from "../config/report.ts";
import { groupEventWords, parseEvents } from "./events.ts";
import { renderTranscript } from "./render.ts";
import { simulate } from "./simulate.ts";
import { restingStart, startFromStatus, type StartState } from "./start-state.ts";

/** Where the start state comes from: a status document, or why there is none. */
export type StatusSource = { readonly doc: unknown; readonly label: string } | { readonly none: string } | { readonly error: string };

export interface SimulateRequest {
  readonly configText: string;
  /** The config file as the user named it (messages quote it). */
  readonly file: string;
  /** The words after --simulate. */
  readonly words: readonly string[];
  readonly json: boolean;
  readonly status: (cluster: Cluster) => Promise<StatusSource>;
}

export interface SimulateOutput {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

const fail = (err: string): SimulateOutput => ({ code: 1, out: "", err: err.endsWith("\n") ? err : `${err}\n` });

export async function runSimulation(req: SimulateRequest): Promise<SimulateOutput> {
  const { cluster, findings } = parseClusterText(req.configText, req.file);
  const errors = findings.filter((f) => f.severity === "ERROR");
  if (cluster === null || errors.length > 0)
    return fail([...errors.map((f) => `drcm: ${formatFinding(f)}`), `drcm: ERROR - Cannot simulate: ${req.file} has errors (drcm --check-config lists every problem)`].join("\n"));
  const parsed = parseEvents(cluster, groupEventWords(req.words), req.file);
  if (!parsed.ok) return fail(`drcm: ERROR - ${parsed.message}`);
  const source = await req.status(cluster);
  let start: StartState;
  if ("error" in source) return fail(`drcm: ERROR - ${source.error}`);
  if ("none" in source) start = restingStart(cluster, source.none);
  else {
    const s = startFromStatus(cluster, source.doc, source.label);
    if (typeof s === "string") return fail(`drcm: ERROR - ${s}`);
    start = s;
  }
  const result = simulate(cluster, start, parsed.events);
  return { code: 0, out: req.json ? `${JSON.stringify(result, null, 2)}\n` : renderTranscript(result, cluster), err: "" };
}
