// Issue 18, finding A: config values reach the resource scripts as one literal argument each, never
// as shell text. Each case ran something else before the fix (a command substitution as root, a
// pipe, the wrong file).
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CrontabResource, FilesystemResource, IpResource, Resource, ServiceResource } from "../../lib/config/model.ts";
import { agentCommand, AgentRunner, literalArg } from "../../lib/io/agents.ts";
import { slotOf, testCluster, testNode } from "../fixtures/agents/cluster.ts";

// The etc dir has a space in its name; "<dir>/my" is a decoy that an unquoted "<dir>/my etc/..." would run.
const dir = mkdtempSync(join(tmpdir(), `drcm-quoting-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const etc = join(dir, "my etc");
mkdirSync(join(etc, "resources"), { recursive: true });
const calls = join(dir, "calls.txt");
const rec = join(etc, "resources", "rec.sh");
writeFileSync(rec, `#!/bin/sh\nprintf '%s\\n' "$@" > '${calls}'\n`, { mode: 0o755 });
const decoy = join(dir, "my");
const decoyRan = join(dir, "decoy-ran");
writeFileSync(decoy, `#!/bin/sh\ntouch '${decoyRan}'\n`, { mode: 0o755 });
chmodSync(decoy, 0o755);
const args = (): string[] => readFileSync(calls, "utf8").trimEnd().split("\n");
const logDir = join(dir, "log");

async function start(res: Resource, over: Parameters<typeof testCluster>[1] = {}): Promise<string[]> {
  rmSync(calls, { force: true });
  const a = new AgentRunner(testCluster([res], { logDir, ...over }, etc), testNode());
  const r = await a.perform({ id: 1, type: "start", slot: `${res.kind}:${res.nickname}@cmnode1`, reason: "t" }, slotOf(res));
  expect(r.detail).toMatch(/^exit 0 in \d+ ms$/);
  return args();
}

const marker = join(dir, "pwned");
const ip = (iface: string): IpResource => ({ kind: "ipaddr", nickname: "vip", line: 3, ip: "10.0.0.5", netmask: "24", iface, script: rec });

describe("agent command lines (issue 18 A)", () => {
  test("a service_name with a command substitution reaches the agent as text and runs nothing", async () => {
    const svc: ServiceResource = { kind: "service", nickname: "web", line: 5, serviceName: `httpd$(touch ${marker})\`touch ${marker}\``, script: rec };
    expect(await start(svc)).toEqual([svc.serviceName, "start"]);
    expect(existsSync(marker)).toBe(false);
  });

  test("an unquoted interface list ens192|lo is one argument, not a pipe", async () => {
    expect(await start(ip("ens192|lo"))).toEqual(["10.0.0.5", "24", "ens192|lo", "start"]);
  });

  test("the 1.x quoted interface list 'ens192|eno8303' (or double-quoted) gives the agent ens192|eno8303", async () => {
    expect(await start(ip("'ens192|eno8303'"))).toEqual(["10.0.0.5", "24", "ens192|eno8303", "start"]);
    expect(await start(ip('"ens192|eno8303"'))).toEqual(["10.0.0.5", "24", "ens192|eno8303", "start"]);
    // Only one surrounding pair is removed; anything else stays literal.
    expect(await start(ip("'a'b'"))).toEqual(["10.0.0.5", "24", "'a'b'", "start"]);
  });

  test("a script in an etc dir whose name has a space runs that script, not the decoy before the space", async () => {
    const cron: CrontabResource = { kind: "crontab", nickname: "c", line: 4, template: join(etc, "crontabs", "a b"), installDir: "/etc/cron.d;x", script: rec };
    expect(await start(cron)).toEqual([join(etc, "crontabs", "a b"), "/etc/cron.d;x", "start"]);
    expect(existsSync(decoyRan)).toBe(false);
  });

  test("values stay literal through a non-root cluster_user's sudo_command wrapper", async () => {
    const svc: ServiceResource = { kind: "service", nickname: "web", line: 5, serviceName: `it's $(touch ${marker})`, script: rec };
    expect(await start(svc, { clusterUser: "drcm", sudoCommand: "sh -c" })).toEqual([svc.serviceName, "start"]);
    expect(existsSync(marker)).toBe(false);
  });

  test("filesystem source and target are literal for the agent and for the mounts-table probe", async () => {
    const fs: FilesystemResource = { kind: "filesystem", nickname: "data", line: 6, source: `srv:/data$(touch ${marker})`, target: "/mnt/a b", script: rec };
    expect(await start(fs)).toEqual([fs.source, "/mnt/a b", "mount"]);
    const mounts = join(dir, "mounts");
    // /proc/mounts writes a space as \040.
    writeFileSync(mounts, `srv:/data$(touch\\040${marker}) /mnt/a\\040b nfs4 rw 0 0\n`);
    const a = new AgentRunner(testCluster([fs], { logDir }, etc), testNode(), { env: { DRCM_MOUNTS_FILE: mounts } });
    const r = await a.perform({ id: 2, type: "probe", slot: "filesystem:data@cmnode1", reason: "t" }, slotOf(fs));
    expect(r).toMatchObject({ ok: true, detail: "/mnt/a b is mounted" });
    expect(existsSync(marker)).toBe(false);
  });

  test("fence_script in a directory with a space runs, with the node name as one argument", async () => {
    rmSync(calls, { force: true });
    const a = new AgentRunner(testCluster([], { logDir, fenceScript: rec }, etc), testNode());
    const r = await a.perform({ id: 3, type: "fence", node: "cm node$(x)", reason: "t" });
    expect(r.ok).toBe(true);
    expect(args()).toEqual(["cm node$(x)"]);
    expect(existsSync(decoyRan)).toBe(false);
  });

  test("agentCommand() single-quotes every value (embedded quotes escaped) and leaves only the verb bare", () => {
    expect(agentCommand(ip("'ens192|eno8303'"), "probe")).toBe(`'${rec}' '10.0.0.5' '24' 'ens192|eno8303' watch`);
    expect(literalArg("it's")).toBe(`'it'\\''s'`);
  });
});
