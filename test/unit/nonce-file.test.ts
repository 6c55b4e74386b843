// Issue 18, finding 4: a signed TCP command replayed to the node after it restarted (within the
// 30 s acceptance window) or to another node must be refused.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DurableNonceCache } from "../../lib/io/nonce-file.ts";
import { startControl } from "../../lib/io/control.ts";
import { CONTROL_NONCE_TTL_MS, encodeRequest, frame } from "../../lib/wire/control.ts";
import { encodeCommandArgs } from "../../lib/wire/control-protocol.ts";
import type { OperatorCommand } from "../../lib/core/types.ts";
import { healthy } from "../fixtures/golden/scenarios.ts";

const dir = mkdtempSync(join(tmpdir(), `drcm-nonces-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const silent = { warn: (_: string) => {}, error: (_: string) => {} };

test("DurableNonceCache keeps command nonces across a restart, not read-only ones, and forgets expired ones", () => {
  const file = join(dir, "a.json");
  const a = new DurableNonceCache(file, CONTROL_NONCE_TTL_MS, silent, 1000);
  a.add("cmd-nonce-1", 1000, true);
  a.add("ro-nonce-1", 1000, false);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const b = new DurableNonceCache(file, CONTROL_NONCE_TTL_MS, silent, 5000);
  expect(b.has("cmd-nonce-1", 5000)).toBe(true);
  expect(b.has("ro-nonce-1", 5000)).toBe(false);
  // After the acceptance window the request is stale anyway: nothing to remember.
  const c = new DurableNonceCache(file, CONTROL_NONCE_TTL_MS, silent, 1000 + CONTROL_NONCE_TTL_MS + 1);
  expect(c.has("cmd-nonce-1", 1000 + CONTROL_NONCE_TTL_MS + 1)).toBe(false);
});

test("DurableNonceCache reports a damaged file and starts empty", () => {
  const file = join(dir, "bad.json");
  writeFileSync(file, "{not json");
  const said: string[] = [];
  const c = new DurableNonceCache(file, CONTROL_NONCE_TTL_MS, { warn: (m) => said.push(m), error: (m) => said.push(m) }, 1000);
  expect(c.size).toBe(0);
  expect(said[0]).toContain(`Ignoring ${file}`);
});

function send(port: number, bytes: Uint8Array): Promise<number> {
  return new Promise((resolve) => {
    let got = 0;
    const s = connect(port, "127.0.0.1", () => s.write(bytes));
    s.on("data", (d) => (got += d.length));
    s.on("close", () => resolve(got));
    s.on("error", () => {});
    setTimeout(() => s.destroy(), 2000);
  });
}

test("a signed command replayed after the daemon restarts, or to another node, is refused", async () => {
  const key = new TextEncoder().encode("k".repeat(64));
  const file = join(dir, "control-nonces-cmnode2.json");
  const ran: OperatorCommand[] = [];
  const serve = (self: string, nonces: DurableNonceCache | undefined) =>
    startControl({
      tcpHost: "127.0.0.1",
      tcpPort: 0,
      unixPath: null,
      key,
      self,
      ...(nonces ? { nonces } : {}),
      log: () => {},
      api: {
        status: () => healthy,
        events: () => ({ events: [], last: 0, missed: false }),
        command: async (cmd) => {
          ran.push(cmd);
          return { ok: true, message: "done" };
        },
        info: () => ({ nodename: self, version: "x", uptimeMs: 1, rejected: {} }),
      },
    });
  const standby = frame(
    encodeRequest(key, { nonce: "replay-me-0001", ts: Date.now(), to: "cmnode2", by: "root@admin", command: "command", args: encodeCommandArgs({ op: "standby", node: "cmnode2" }) }),
  );
  const run1 = await serve("cmnode2", new DurableNonceCache(file, CONTROL_NONCE_TTL_MS, silent));
  expect(await send(run1.tcpPort!, standby)).toBeGreaterThan(0);
  expect(ran.length).toBe(1);
  run1.close();
  expect(existsSync(file)).toBe(true);
  expect(readFileSync(file, "utf8")).toContain("replay-me-0001");

  // The restarted daemon reads the file: the copy is a replay.
  const run2 = await serve("cmnode2", new DurableNonceCache(file, CONTROL_NONCE_TTL_MS, silent));
  expect(await send(run2.tcpPort!, standby)).toBe(0);
  expect(run2.rejected().replay).toBe(1);
  run2.close();

  // Another node, with its own fresh nonce cache: the request names cmnode2.
  const other = await serve("cmnode3", undefined);
  expect(await send(other.tcpPort!, standby)).toBe(0);
  expect(other.rejected().wrong_target).toBe(1);
  other.close();
  expect(ran.length).toBe(1);
});
