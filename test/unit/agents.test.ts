import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApplicationResource, CrontabResource, FilesystemResource, IpResource, ServiceResource } from "../../lib/config/model.ts";
import {
  agentCommand,
  AgentRunner,
  applicationCommand,
  applicationProgram,
  isMounted,
  LOGIN_PATH,
  loginShellCommand,
  runsAsDaemonUser,
  shellQuote,
  suCommand,
  withDrcmVars,
  wrapForClusterUser,
} from "../../lib/io/agents.ts";
import { currentDaemonUser, type DaemonUser } from "../../lib/io/passwd.ts";
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
const fs: FilesystemResource = { kind: "filesystem", nickname: "data", line: 6, source: "srv:/data", target: "/mnt/my data", script: rec };
const app: ApplicationResource = { kind: "application", nickname: "app", line: 7, user: "root", group: "", start: "start_app; echo it's", stop: "stop_app", ensure: null };

const logDir = join(dir, "log");
const runner = (over = {}, env: Record<string, string> = {}) =>
  new AgentRunner(testCluster([ip, cron, svc, fs, app], { logDir, ...over }, dir), testNode(), { env });

describe("agentCommand()", () => {
  // Issue 18: every field is one single-quoted literal argument (1.x pasted them unquoted into sh -c);
  // the 1.x quotes around an interface list are removed first, as the 1.x shell removed them.
  test("agentCommand() builds the 1.x command line of each kind with every field quoted as one argument", () => {
    expect(agentCommand(ip, "start")).toBe(`'${rec}' '10.0.0.5' '255.255.255.0' 'ens192|eno8303' start`);
    expect(agentCommand(cron, "stop")).toBe(`'${rec}' '/etc/drcm/crontabs/system' '/etc/cron.d' stop`);
    expect(agentCommand(svc, "watch")).toBe(`'${rec}' 'httpd' watch`);
    expect(agentCommand(fs, "start")).toBe(`'${rec}' 'srv:/data' '/mnt/my data' mount`);
    expect(agentCommand(fs, "stop")).toBe(`'${rec}' 'srv:/data' '/mnt/my data' unmount`);
    expect(agentCommand(fs, "watch")).toBe(`'${rec}' 'srv:/data' '/mnt/my data' watch`);
  });

  test("agentCommand() probes with watch for IPs and crontabs, status for services, nothing for filesystems", () => {
    expect(agentCommand(ip, "probe")).toEndWith(" watch");
    expect(agentCommand(cron, "probe")).toEndWith(" watch");
    expect(agentCommand(svc, "probe")).toBe(`'${rec}' 'httpd' status`);
    expect(agentCommand(fs, "probe")).toBeNull();
  });

});

describe("applicationProgram()", () => {
  test("applicationProgram() picks start_program, stop_program and ensure_script for watch and probe", () => {
    expect(applicationProgram(app, "start")).toBe("start_app; echo it's");
    expect(applicationProgram(app, "stop")).toBe("stop_app");
    expect(applicationProgram(app, "watch")).toBeNull();
    expect(applicationProgram({ ...app, ensure: "" }, "probe")).toBeNull();
    expect(applicationProgram({ ...app, ensure: "check_app" }, "watch")).toBe("check_app");
    expect(applicationProgram({ ...app, ensure: "check_app" }, "probe")).toBe("check_app");
  });
});

const vars = { node: "n1", resource: "application:web", action: "start" };
const rootDaemon: DaemonUser = { uid: 0, gid: 0, username: "root", homedir: "/root", shell: "/bin/bash" };
const alice: DaemonUser = { uid: 1000, gid: 1000, username: "alice", homedir: "/home/alice", shell: "/bin/bash" };
const etcDir = join(dir, "etc");
mkdirSync(etcDir, { recursive: true });
writeFileSync(join(etcDir, "passwd"), "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n");
writeFileSync(join(etcDir, "group"), "root:x:0:\nalice:x:1000:\nstaff:x:50:alice\n");
const VARS = `DRCM_NODE='n1' DRCM_RESOURCE='application:web' DRCM_ACTION='start'; export DRCM_NODE DRCM_RESOURCE DRCM_ACTION;`;

describe("withDrcmVars()", () => {
  test("withDrcmVars() puts the quoted drcm variables in front of the program text, unchanged", () => {
    expect(withDrcmVars("start_app; echo ~ $HOME", vars)).toBe(`${VARS} start_app; echo ~ $HOME`);
  });

  test("withDrcmVars() output exports the values verbatim through a shell and runs the whole ; list", () => {
    const odd = { node: "it's $x `y`", resource: "application:a b", action: "stop" };
    const r = Bun.spawnSync(["/bin/sh", "-c", withDrcmVars(`X=1; printf '%s|' "$DRCM_NODE" "$DRCM_RESOURCE" "$DRCM_ACTION"; sh -c 'printf %s "$DRCM_NODE"'; echo "|$X"`, odd)]);
    expect(r.stdout.toString()).toBe("it's $x `y`|application:a b|stop|it's $x `y`|1\n");
  });
});

describe("runsAsDaemonUser()", () => {
  const a = (user: string, group: string): ApplicationResource => ({ ...app, user, group });
  test("runsAsDaemonUser() is true only for a non-root daemon's own user with its primary group (or none)", () => {
    expect(runsAsDaemonUser(a("alice", "alice"), alice, etcDir)).toBe(true);
    expect(runsAsDaemonUser(a("alice", ""), alice, etcDir)).toBe(true);
    expect(runsAsDaemonUser(a("1000", "1000"), alice, etcDir)).toBe(true);
    expect(runsAsDaemonUser(a("alice", "staff"), alice, etcDir)).toBe(false);
    expect(runsAsDaemonUser(a("bob", "alice"), alice, etcDir)).toBe(false);
    expect(runsAsDaemonUser(a("root", "root"), rootDaemon, etcDir)).toBe(false);
  });
});

describe("currentDaemonUser()", () => {
  test("currentDaemonUser() reads this process's passwd entry by uid", () => {
    const fake = join(dir, "etc-me");
    mkdirSync(fake, { recursive: true });
    const uid = process.getuid?.() ?? 0;
    writeFileSync(join(fake, "passwd"), `other:x:${uid + 1}:7::/x:/bin/sh\nme:x:${uid}:4242:Me:/home/me:/bin/zsh\n`);
    expect(currentDaemonUser(fake)).toEqual({ uid, gid: 4242, username: "me", homedir: "/home/me", shell: "/bin/zsh" });
  });
});

describe("loginShellCommand()", () => {
  test("loginShellCommand() starts the user's login shell in a clean environment in the home directory", () => {
    expect(loginShellCommand(alice, "run; it's")).toBe(
      `cd '/home/alice' 2>/dev/null; exec env -i HOME='/home/alice' SHELL='/bin/bash' USER='alice' LOGNAME='alice' PATH=${LOGIN_PATH} '/bin/bash' -l -c 'run; it'\\''s'`,
    );
  });

  test("loginShellCommand() replaces a shell that refuses logins, or none, by /bin/sh", () => {
    expect(loginShellCommand({ ...alice, shell: "/usr/sbin/nologin" }, "run")).toContain(`'/bin/sh' -l -c 'run'`);
    expect(loginShellCommand({ ...alice, shell: "/bin/false" }, "run")).toContain(`SHELL='/bin/sh'`);
    expect(loginShellCommand({ ...alice, shell: null }, "run")).toContain(`'/bin/sh' -l -c 'run'`);
  });

  test("loginShellCommand() output gives the program ~ as the home, the drcm variables and nothing of the daemon's environment", () => {
    const home = join(dir, "home-login");
    mkdirSync(home, { recursive: true });
    const me: DaemonUser = { ...alice, homedir: home, shell: "/bin/sh" };
    const program = withDrcmVars(`echo ~ > ~/out.txt; pwd >> ~/out.txt; echo "$DRCM_NODE $USER \${LEAK:-clean}" >> ~/out.txt`, vars);
    const r = Bun.spawnSync(["/bin/sh", "-c", loginShellCommand(me, program)], { cwd: "/", env: { ...process.env, LEAK: "leaked" } });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(home, "out.txt"), "utf8")).toBe(`${home}\n${home}\nn1 alice clean\n`);
  });
});

describe("applicationCommand()", () => {
  const root = testCluster([]);
  const web: ApplicationResource = { ...app, nickname: "web", user: "alice", group: "alice", start: "start_app; echo it's" };
  const suLine = `su -c '${VARS.replaceAll("'", `'\\''`)} start_app; echo it'\\''s' - 'alice'`;

  test("applicationCommand() as root runs the program through su - with the drcm variables in front", () => {
    expect(applicationCommand(root, web, web.start, vars, rootDaemon, etcDir)).toBe(suLine);
    expect(applicationCommand(root, { ...web, group: "staff" }, "run", vars, rootDaemon, etcDir)).toStartWith(`su -g 'staff' -c '`);
  });

  test("applicationCommand() as root with a non-root cluster_user wraps su in sudo_command once", () => {
    const drcm = testCluster([], { clusterUser: "drcm", sudoCommand: "sudo su root -c" });
    expect(applicationCommand(drcm, web, web.start, vars, rootDaemon, etcDir)).toBe(`sudo su root -c ${shellQuote(suLine)}`);
  });

  test("applicationCommand() as a non-root daemon runs its own user's programs in a login shell, without su or sudo", () => {
    const cmd = applicationCommand(testCluster([], { clusterUser: "alice" }), web, web.start, vars, alice, etcDir);
    expect(cmd).toBe(loginShellCommand(alice, withDrcmVars(web.start, vars)));
    expect(cmd).not.toContain("su ");
  });

  test("applicationCommand() as a non-root daemon runs another user's programs through sudo_command and su", () => {
    const bob = { ...web, user: "bob", group: "" };
    const bobSu = suCommand(bob, withDrcmVars("run", vars), etcDir);
    expect(applicationCommand(root, bob, "run", vars, alice, etcDir)).toBe(`sudo su root -c ${shellQuote(bobSu)}`);
    const asDrcm = testCluster([], { clusterUser: "alice", sudoCommand: "sudo -n sh -c" });
    expect(applicationCommand(asDrcm, bob, "run", vars, alice, etcDir)).toBe(`sudo -n sh -c ${shellQuote(bobSu)}`);
    // Another group than the primary one needs root too.
    expect(applicationCommand(root, { ...web, group: "staff" }, "run", vars, alice, etcDir)).toStartWith(`sudo su root -c 'su -g`);
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
  test("perform() gives the agent the 1.x quoted interface list unquoted, as 1.x's shell did", async () => {
    const r = await runner().perform({ id: 1, type: "start", slot: "ipaddr:vip@cmnode1", reason: "t" }, slotOf(ip));
    expect(r).toMatchObject({ id: 1, ok: true });
    expect(r.detail).toMatch(/^exit 0 in \d+ ms$/);
    expect(args()).toEqual(["10.0.0.5", "255.255.255.0", "ens192|eno8303", "start"]);
    const log = readFileSync(join(logDir, "ipv4addr_resource.log"), "utf8");
    expect(log).toContain(`'${rec}' '10.0.0.5' '255.255.255.0' 'ens192|eno8303' start: rec 10.0.0.5`);
  });

  test("perform() reports a failing agent with its last output line", async () => {
    const r = await runner({}, { REC_EXIT: "1" }).perform({ id: 2, type: "stop", slot: "service:web@cmnode1", reason: "t" }, slotOf(svc));
    expect(r).toEqual({ id: 2, ok: false, detail: "exit 1: rec httpd stop", output: ["rec httpd stop"] });
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
    expect(readFileSync(log, "utf8")).toContain("system' '/etc/cron.d' watch: exit 1");
  });

  test("perform() kills an agent that exceeds the kind's timeout", async () => {
    // The script is a path now, not shell text (issue 18): a script that sleeps.
    const sleeper = join(dir, "sleep5.sh");
    writeFileSync(sleeper, "#!/bin/sh\nsleep 5\n", { mode: 0o755 });
    const slow: ServiceResource = { ...svc, script: sleeper };
    const agents = new AgentRunner(testCluster([slow], { logDir, actionTimeoutMs: { crontab: 1, ipaddr: 1, service: 200, application: 1, filesystem: 1 } }, dir), testNode());
    const r = await agents.perform({ id: 6, type: "start", slot: "service:web@cmnode1", reason: "t" }, slotOf(slow));
    expect(r).toEqual({ id: 6, ok: false, detail: expect.stringMatching(/^timed out after 200 ms, killed after \d+ ms \(SIGTERM\)$/), output: [] });
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
    // fence_script is a path, run with the node as one argument (issue 18); a failing one:
    const fail = join(dir, "fence-fail.sh");
    writeFileSync(fail, "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const failing = new AgentRunner(testCluster([], { logDir, fenceScript: fail }, dir), testNode());
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

  test("perform() gives every agent DRCM_NODE, DRCM_RESOURCE and DRCM_ACTION", async () => {
    const out = join(dir, "agent-env.txt");
    const envScript = join(dir, "env-agent.sh");
    writeFileSync(envScript, `#!/bin/sh\nprintf '%s|' "$DRCM_NODE" "$DRCM_RESOURCE" "$DRCM_ACTION" > ${out}\n`, { mode: 0o755 });
    const envSvc: ServiceResource = { ...svc, script: envScript };
    const a = new AgentRunner(testCluster([envSvc], { logDir }, dir), testNode());
    expect((await a.perform({ id: 16, type: "watch", slot: "service:web@cmnode1", reason: "t" }, slotOf(envSvc))).ok).toBe(true);
    expect(readFileSync(out, "utf8")).toBe("cmnode1|service:web|watch|");
  });

  test("perform() as a non-root daemon runs its own user's application in a login shell that sees the drcm variables", async () => {
    const home = join(dir, "home-perform");
    mkdirSync(home, { recursive: true });
    const me: DaemonUser = { ...alice, homedir: home, shell: "/bin/sh" };
    const own: ApplicationResource = { ...app, user: "alice", group: "alice", start: `echo "$DRCM_NODE $DRCM_RESOURCE $DRCM_ACTION $HOME" > ~/start.txt; echo second >> ~/start.txt`, ensure: "test -s ~/start.txt" };
    const a = new AgentRunner(testCluster([own], { logDir }, dir), testNode(), { daemon: me, etc: etcDir });
    expect((await a.perform({ id: 17, type: "start", slot: "application:app@cmnode1", reason: "t" }, slotOf(own))).ok).toBe(true);
    expect(readFileSync(join(home, "start.txt"), "utf8")).toBe(`cmnode1 application:app start ${home}\nsecond\n`);
    expect((await a.perform({ id: 18, type: "probe", slot: "application:app@cmnode1", reason: "t" }, slotOf(own))).ok).toBe(true);
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
