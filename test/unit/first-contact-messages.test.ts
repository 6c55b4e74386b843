// Issue 16: three messages that sent a new user the wrong way.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { clientKeyError, readAuthKey } from "../../lib/config/auth.ts";
import { configFileProblem } from "../../lib/io/config-file.ts";
import { makeCaller } from "../../lib/io/control-client.ts";

const dir = mkdtempSync(join(tmpdir(), "drcm-first-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DRCM = resolve(import.meta.dir, "../../drcm.ts");
const asNobody = (args: string[]) =>
  Bun.spawnSync(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, DRCM, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
const canSetpriv = process.geteuid?.() === 0 && Bun.which("setpriv") !== null;

test("a config file in a directory the user cannot enter is 'permission denied', not 'not found'", () => {
  const locked = join(dir, "locked");
  mkdirSync(locked, { mode: 0o700 });
  writeFileSync(join(locked, "cm.cfg"), "[CM_SERVER]\n");
  expect(configFileProblem(join(dir, "nowhere.cfg"))).toEqual({ missing: true, message: `Config file not found ${join(dir, "nowhere.cfg")}` });
  expect(configFileProblem(join(locked, "cm.cfg"))).toBeNull(); // root can
  if (!canSetpriv) return console.log("  (setpriv as nobody not possible here: the unprivileged half is skipped)");
  chmodSync(dir, 0o755);
  for (const args of [["--check-config"], ["--client", "--command=cm_stat"], []]) {
    const r = asNobody([`--config-file=${join(locked, "cm.cfg")}`, ...args]);
    const said = `${r.stdout.toString()}${r.stderr.toString()}`;
    expect(`${args.join(" ")}: ${said}`).toContain("permission denied");
    expect(said).not.toContain("not found");
    expect(said).not.toContain("Building default file");
    expect(r.exitCode).not.toBe(0);
  }
});

test("an authkey the user may not read says to run as root, never to run --keygen (that would replace the cluster's key)", () => {
  const etc = join(dir, "etc");
  mkdirSync(join(etc, ".auth"), { recursive: true });
  writeFileSync(join(etc, ".auth/authkey"), "k".repeat(64), { mode: 0o600 });
  const denied = clientKeyError({ error: "", path: join(etc, ".auth/authkey"), why: "permission denied", empty: false });
  expect(denied).toContain("run the client as root");
  expect(denied).not.toContain("--keygen");
  const missing = readAuthKey(join(dir, "no-etc"));
  expect("error" in missing && clientKeyError(missing)).toContain("run drcm --keygen");
});

test("a node that does not answer is reported with the time the user waited, not the last try's budget", async () => {
  // A TCP server that accepts and never answers.
  const mute = createServer(() => {});
  await new Promise<void>((r) => mute.listen(0, "127.0.0.1", () => r()));
  const port = (mute.address() as { port: number }).port;
  try {
    const t0 = performance.now();
    const r = await makeCaller(new Uint8Array(32), "t").call({ nodename: "n1", host: "127.0.0.1", port, unixPath: null }, "ping", [], { connectMs: 500, totalMs: 1200 });
    const waited = performance.now() - t0;
    expect(r.ok).toBe(false);
    const ms = Number(/no reply after (\d+) ms/.exec(r.ok ? "" : r.error)?.[1]);
    expect(ms).toBeGreaterThanOrEqual(1100);
    expect(Math.abs(ms - waited)).toBeLessThan(150);
  } finally {
    mute.close();
  }
});
