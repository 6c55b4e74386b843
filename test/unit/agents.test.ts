import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApplicationResource, CrontabResource, FilesystemResource, IpResource, ServiceResource } from "../../lib/config/model.ts";
import { agentCommand, AgentRunner, isMounted, shellQuote, suCommand, wrapForClusterUser } from "../../lib/io/agents.ts";
import { slotOf, testCluster, testNode } from "../fixtures/agents/cluster.ts";

const dir = mkdtempSync(join(tmpdir(), `drcm-agents-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;

// A stand-in agent: records its arguments (one per line) and exits with $REC_EXIT.
const rec = join(dir, "rec.sh");
const calls = join(dir, "calls.txt");
writeFileSync(rec, `#!/bin/sh\nprintf '%s\\n' "$@" > ${calls}\necho "rec $*"\nexit "\${REC_EXIT:-0}"\n`);
chmodSync(rec, 0o755);
const args = (): string[] => readFileSync(calls, "utf8").trimEnd().split("\n");

const ip: IpResource = { kind: "ipaddr", nickname: "vip", line: 3, ip: "10.0.0.5", netmask: "255.255.255.0", iface: "'ens192|eno8303'", script: rec };
const cron: CrontabResource = { kind: "crontab", nickname: "system", line: 4, template: "/etc/drcm/crontabs/system", installDir: "/etc/cron.d", script: rec };
const svc: ServiceResource = { kind: "service", nickname: "web", line: 5, serviceName: "httpd", script: rec };
const fs: FilesystemResource = { kind: "filesystem", nickname: "data", line: 6, source: "srv:/data", target: "/mnt/my\\ data", script: rec };
const app: ApplicationResource = { kind: "application", nickname: "app", line: 7, user: "root", group: "", start: "start_app; echo it's", stop: "stop_app", ensure: null };

const logDir = join(dir, "log");
const runner = (over = {}, env: Record<string, string> = {}) =>
  new AgentRunner(testCluster([ip, cron, svc, fs, app], { logDir, ...over }, dir), testNode(), { env });

describe("agentCommand()", () => {
  test("agentCommand() builds the 1.x command line of each kind without re-quoting fields", () => {
    expect(agentCommand(ip, "start")).toBe(`${rec} 10.0.0.5 255.255.255.0 'ens192|eno8303' start`);
    expect(agentCommand(cron, "stop")).toBe(`${rec} /etc/drcm/crontabs/system /etc/cron.d stop`);
    expect(agentCommand(svc, "watch")).toBe(`${rec} httpd watch`);
    expect(agentCommand(fs, "start")).toBe(`${rec} srv:/data /mnt/my\\ data mount`);
    expect(agentCommand(fs, "stop")).toBe(`${rec} srv:/data /mnt/my\\ data unmount`);
    expect(agentCommand(fs, "watch")).toBe(`${rec} srv:/data /mnt/my\\ data watch`);
  });

  test("agentCommand() probes with watch for IPs and crontabs, status for services, nothing for filesystems", () => {
    expect(agentCommand(ip, "probe")).toEndWith(" watch");
    expect(agentCommand(cron, "probe")).toEndWith(" watch");
    expect(agentCommand(svc, "probe")).toBe(`${rec} httpd status`);
    expect(agentCommand(fs, "probe")).toBeNull();
  });

  test("agentCommand() runs applications through su with a login shell and uses ensure_script as watch", () => {
    expect(agentCommand(app, "start")).toBe(`su -c 'start_app; echo it'\\''s' - 'root'`);
    expect(agentCommand(app, "stop")).toBe(`su -c 'stop_app' - 'root'`);
    expect(agentCommand(app, "watch")).toBeNull();
    expect(agentCommand({ ...app, ensure: "check_app" }, "watch")).toBe(`su -c 'check_app' - 'root'`);
  });
});

describe("suCommand()", () => {
  const etc = join(dir, "etc");
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(etc, "passwd"), "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n");
  writeFileSync(join(etc, "group"), "root:x:0:\nalice:x:1000:\nstaff:x:50:alice\n");
  const alice: ApplicationResource = { ...app, user: "alice", start: "run" };

  test("suCommand() leaves out -g when the group is the user's primary group", () => {
    expect(suCommand({ ...alice, group: "alice" }, "run", etc)).toBe(`su -c 'run' - 'alice'`);
    expect(suCommand({ ...alice, group: "1000" }, "run", etc)).toBe(`su -c 'run' - 'alice'`);
    expect(suCommand({ ...alice, group: "" }, "run", etc)).toBe(`su -c 'run' - 'alice'`);
  });

  test("suCommand() adds -g for another group and for users it cannot look up", () => {
    expect(suCommand({ ...alice, group: "staff" }, "run", etc)).toBe(`su -g 'staff' -c 'run' - 'alice'`);
    expect(suCommand({ ...alice, user: "ldapuser", group: "ldapgrp" }, "run", etc)).toBe(`su -g 'ldapgrp' -c 'run' - 'ldapuser'`);
  });
});

describe("wrapForClusterUser()", () => {
  test("wrapForClusterUser() leaves root commands alone and wraps others in sudo_command with safe quotes", () => {
    expect(wrapForClusterUser(testCluster([]), "a 'b'")).toBe("a 'b'");
    expect(wrapForClusterUser(testCluster([], { clusterUser: "drcm", sudoCommand: "sudo su root -c" }), "a 'b'")).toBe(`sudo su root -c 'a '\\''b'\\'''`);
  });

  test("wrapForClusterUser() output runs the original command through a real shell", async () => {
    const out = join(dir, "wrapped.txt");
    const cluster = testCluster([], { clusterUser: "drcm", sudoCommand: "sh -c" });
    const r = Bun.spawnSync(["/bin/sh", "-c", wrapForClusterUser(cluster, `printf '%s|' "it's" '$HOME' > ${out}`)]);
    expect(r.exitCode).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("it's|$HOME|");
  });
});

describe("shellQuote()", () => {
  test("shellQuote() survives embedded single quotes", () => {
    const r = Bun.spawnSync(["/bin/sh", "-c", `printf %s ${shellQuote("a'b \"c\" $d")}`]);
    expect(r.stdout.toString()).toBe("a'b \"c\" $d");
  });
});

describe("isMounted()", () => {
  const table = "srv:/data /mnt/my\\040data nfs4 rw 0 0\n//host/share /mnt/smb cifs rw 0 0\n";
  test("isMounted() matches source and target, decoding octal escapes", () => {
    expect(isMounted(table, "srv:/data", "/mnt/my data")).toBe(true);
    expect(isMounted(table, "//host/share/", "/mnt/smb/")).toBe(true);
    expect(isMounted(table, "other:/data", "/mnt/my data")).toBe(false);
    expect(isMounted(table, "srv:/data", "/mnt")).toBe(false);
  });
});

describe("AgentRunner.perform()", () => {
  test("perform() lets the shell split and unquote fields, as 1.x did", async () => {
    const r = await runner().perform({ id: 1, type: "start", slot: "ipaddr:vip@cmnode1", reason: "t" }, slotOf(ip));
    expect(r).toMatchObject({ id: 1, ok: true });
    expect(r.detail).toMatch(/^exit 0 in \d+ ms$/);
    expect(args()).toEqual(["10.0.0.5", "255.255.255.0", "ens192|eno8303", "start"]);
    const log = readFileSync(join(logDir, "ipv4addr_resource.log"), "utf8");
    expect(log).toContain(`${rec} 10.0.0.5 255.255.255.0 'ens192|eno8303' start: rec 10.0.0.5`);
  });

  test("perform() reports a failing agent with its last output line", async () => {
    const r = await runner({}, { REC_EXIT: "1" }).perform({ id: 2, type: "stop", slot: "service:web@cmnode1", reason: "t" }, slotOf(svc));
    expect(r).toEqual({ id: 2, ok: false, detail: "exit 1: rec httpd stop" });
    expect(readFileSync(join(logDir, "service_resource.log"), "utf8")).toContain(": exit 1: rec httpd stop");
  });

  test("perform() probes a service with status and maps the exit code to presence", async () => {
    const runnerStopped = runner({}, { REC_EXIT: "3" });
    const r = await runnerStopped.perform({ id: 3, type: "probe", slot: "service:web@cmnode1", reason: "t" }, slotOf(svc));
    expect(r.ok).toBe(false);
    expect(args()).toEqual(["httpd", "status"]);
  });

  test("perform() logs failed watches only", async () => {
    const log = join(logDir, "crontab_resource.log");
    await runner().perform({ id: 4, type: "watch", slot: "crontab:system@cmnode1", reason: "t" }, slotOf(cron));
    expect(existsSync(log)).toBe(false);
    const r = await runner({}, { REC_EXIT: "1" }).perform({ id: 5, type: "watch", slot: "crontab:system@cmnode1", reason: "t" }, slotOf(cron));
    expect(r.ok).toBe(false);
    expect(readFileSync(log, "utf8")).toContain("system /etc/cron.d watch: exit 1");
  });

  test("perform() kills an agent that exceeds the kind's timeout", async () => {
    const slow: ServiceResource = { ...svc, script: "sleep 5; true" };
    const agents = new AgentRunner(testCluster([slow], { logDir, actionTimeoutMs: { crontab: 1, ipaddr: 1, service: 200, application: 1, filesystem: 1 } }, dir), testNode());
    const r = await agents.perform({ id: 6, type: "start", slot: "service:web@cmnode1", reason: "t" }, slotOf(slow));
    expect(r).toEqual({ id: 6, ok: false, detail: "timed out after 200 ms (killed)" });
  });

  test("perform() probes a filesystem from the mounts table without running its agent", async () => {
    const mounts = join(dir, "mounts");
    writeFileSync(mounts, "srv:/data /mnt/my\\040data nfs4 rw 0 0\n");
    writeFileSync(calls, "untouched\n");
    const r = await runner({}, { DRCM_MOUNTS_FILE: mounts }).perform({ id: 7, type: "probe", slot: "filesystem:data@cmnode1", reason: "t" }, slotOf(fs));
    expect(r.ok).toBe(true);
    expect(args()).toEqual(["untouched"]);
    writeFileSync(mounts, "");
    const gone = await runner({}, { DRCM_MOUNTS_FILE: mounts }).perform({ id: 8, type: "probe", slot: "filesystem:data@cmnode1", reason: "t" }, slotOf(fs));
    expect(gone.ok).toBe(false);
  });

  test("perform() treats an application without ensure_script as healthy but not provably present", async () => {
    const a = runner();
    expect((await a.perform({ id: 9, type: "watch", slot: "application:app@cmnode1", reason: "t" }, slotOf(app))).ok).toBe(true);
    expect((await a.perform({ id: 10, type: "probe", slot: "application:app@cmnode1", reason: "t" }, slotOf(app))).ok).toBe(false);
  });

  test("perform() runs fence_script with the dead node's name", async () => {
    const a = new AgentRunner(testCluster([], { logDir, fenceScript: rec }, dir), testNode());
    const r = await a.perform({ id: 11, type: "fence", node: "cmnode2", reason: "t" });
    expect(r.ok).toBe(true);
    expect(args()).toEqual(["cmnode2"]);
    const failing = new AgentRunner(testCluster([], { logDir, fenceScript: `REC_EXIT=1 ${rec}` }, dir), testNode());
    expect((await failing.perform({ id: 12, type: "fence", node: "cmnode2", reason: "t" })).ok).toBe(false);
  });

  test("perform() reports an unknown resource instead of throwing", async () => {
    const r = await runner().perform({ id: 13, type: "start", slot: "service:nope@cmnode1", reason: "t" }, { ...slotOf(svc), nickname: "nope" });
    expect(r).toEqual({ id: 13, ok: false, detail: "Unknown resource service:nope" });
  });

  test("setCluster() makes later actions use the reloaded config", async () => {
    const a = runner();
    a.setCluster(testCluster([{ ...svc, serviceName: "nginx" }], { logDir }, dir), testNode());
    await a.perform({ id: 14, type: "start", slot: "service:web@cmnode1", reason: "t" }, slotOf(svc));
    expect(args()).toEqual(["nginx", "start"]);
  });

  test.skipIf(!isRoot)("perform() wraps a non-root cluster_user's command in sudo_command, quotes intact", async () => {
    const out = join(dir, "app-out.txt");
    const quoted: ApplicationResource = { ...app, start: `echo "it's here" > ${out}` };
    const a = new AgentRunner(testCluster([quoted], { logDir, clusterUser: "drcm", sudoCommand: "sh -c" }, dir), testNode());
    const r = await a.perform({ id: 15, type: "start", slot: "application:app@cmnode1", reason: "t" }, slotOf(quoted));
    expect(r.ok).toBe(true);
    expect(readFileSync(out, "utf8")).toBe("it's here\n");
  });
});
if (!isRoot) console.log("agents.test.ts: not root, skipping the su test of a wrapped application");
