// `drcm demo` (npm start): a real 3-node cluster on this machine that fails over and back, then
// leaves nothing behind. `--keep` leaves it running; `--netns` uses network namespaces and a real
// floating IP (root). `drcm demo responder ...` is the demo applications' HTTP server (internal).
import type { CliOptions } from "./cli/args.ts";
import { DemoCluster } from "./demo/cluster.ts";
import { makeLayout } from "./demo/layout.ts";
import { runDemoResponder } from "./demo/responder.ts";
import { Story } from "./demo/story.ts";
import { liveUi, transcriptUi, type Ui } from "./demo/ui.ts";
import { errorMessage } from "./error.ts";

export { runDemoResponder };

const out = (s: string): void => void process.stdout.write(s);

export async function runDemo(o: CliOptions): Promise<number> {
  if (o.rest[0] === "responder") return runDemoResponder(o.rest.slice(1));
  if (o.rest[0] === "fetcher") return (await import("./demo/fetcher.ts")).runDemoFetcher();
  if (o.rest.length > 0) {
    process.stderr.write(`drcm: ERROR - Unknown demo argument "${o.rest[0]}": use drcm demo [--netns] [--keep]\n`);
    return 1;
  }
  if (o.netns) return (await import("./demo/netns.ts")).runNetnsDemo(o);
  return runLoopbackDemo(o.keep);
}

async function runLoopbackDemo(keep: boolean): Promise<number> {
  const t0 = performance.now();
  let layout;
  try {
    layout = await makeLayout();
  } catch (e) {
    process.stderr.write(`drcm: ERROR - Cannot prepare the demo: ${errorMessage(e)}\n`);
    return 1;
  }
  const cluster = new DemoCluster(layout);
  const ui: Ui = process.stdout.isTTY === true ? liveUi(out, t0, () => cluster.cmStat("node2")) : transcriptUi(out, t0);
  let finished = false;
  const interrupted = (sig: NodeJS.Signals): void => {
    ui.stop();
    process.stdout.write(`\n${sig}: stopping the demo cluster...\n`);
    void cluster.cleanup().then(() => {
      process.stdout.write("demo stopped, nothing left behind\n");
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  };
  process.on("SIGINT", interrupted);
  process.on("SIGTERM", interrupted);
  process.on("SIGHUP", interrupted);
  try {
    const code = await new Story(cluster, ui).run(keep);
    finished = keep && code === 0;
    return code;
  } catch (e) {
    ui.stop();
    process.stderr.write(`drcm: ERROR - The demo failed: ${errorMessage(e)}\n`);
    return 1;
  } finally {
    ui.stop();
    if (!finished) await cluster.cleanup();
  }
}
