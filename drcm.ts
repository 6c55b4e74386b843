#!/usr/bin/env bun
// drcm entry: argv -> one command. Each mode lives in its own module; this file only dispatches.
import { parseArgs, UsageError, type CliOptions } from "./lib/cli/args.ts";
import { HELP } from "./lib/cli/help.ts";
import { BANNER } from "./lib/version.ts";

async function run(o: CliOptions): Promise<number> {
  switch (o.mode) {
    case "help":
      process.stdout.write(HELP);
      return 0;
    case "version":
      process.stdout.write(`${BANNER}\n`);
      return 0;
    case "check-config":
      return (await import("./lib/cli/check-config.ts")).runCheckConfig(o);
    case "keygen":
      return (await import("./lib/cli/keygen.ts")).runKeygen(o);
    case "client":
      return (await import("./lib/client/main.ts")).runClient(o);
    case "install":
      return (await import("./lib/install.ts")).runInstall(o);
    case "import-heartbeat":
      return (await import("./lib/import/heartbeat.ts")).runImportHeartbeat(o);
    case "simulate":
      return (await import("./lib/simulate/main.ts")).runSimulate(o);
    case "demo":
      return (await import("./lib/demo.ts")).runDemo(o);
    case "server":
      return (await import("./lib/server.ts")).runServer(o);
  }
}

async function main(): Promise<void> {
  let o: CliOptions;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`drcm: ERROR - ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const code = await run(o);
  process.exit(code);
}

await main();
