// The demo's application: a tiny HTTP server answering "<app> on <node>". Started by the demo agent
// as `drcm demo responder APP NODE IP PORT PIDFILE`; it writes its pid file once it listens (so the
// agent's start waits for a server that really answers) and exits on SIGTERM or when the demo's
// directory is gone (a safety net: a demo never leaves a responder behind).
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { errorMessage } from "../error.ts";

export async function runDemoResponder(args: readonly string[]): Promise<number> {
  const [app, node, ip, portText, pidFile] = args;
  if (app === undefined || node === undefined || ip === undefined || portText === undefined || pidFile === undefined || !/^\d+$/.test(portText)) {
    process.stderr.write("drcm: ERROR - Usage: drcm demo responder APP NODE IP PORT PIDFILE\n");
    return 2;
  }
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: ip, port: Number(portText), fetch: () => new Response(`${app} on ${node}\n`) });
  } catch (e) {
    process.stderr.write(`drcm: ERROR - Demo responder cannot listen on ${ip}:${portText}: ${errorMessage(e)}\n`);
    return 1;
  }
  const tmp = `${pidFile}.tmp`;
  writeFileSync(tmp, `${process.pid}\n`);
  renameSync(tmp, pidFile);
  const dir = dirname(pidFile);
  return await new Promise<number>((resolve) => {
    const done = (): void => {
      clearInterval(timer);
      server.stop(true);
      resolve(0);
    };
    const timer = setInterval(() => {
      if (!existsSync(dir)) done();
    }, 1000);
    process.on("SIGTERM", done);
    process.on("SIGINT", done);
    process.on("SIGHUP", done);
  }).finally(() => rmSync(tmp, { force: true }));
}
