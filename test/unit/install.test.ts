import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EmbeddedEntry } from "../../lib/embedded.ts";
import { compiledSelf, install, parseRecord, renderSteps } from "../../lib/install.ts";

const base = mkdtempSync(join(tmpdir(), `drcm-install-${process.pid}-`));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => mkdtempSync(join(base, `r${n++}-`));

/** A small layout whose embedded sources are temp files the test can change between installs. */
function layout(): { entries: EmbeddedEntry[]; src: (name: string, text: string) => void } {
  const srcDir = fresh();
  const src = (name: string, text: string): void => writeFileSync(join(srcDir, name), text);
  src("agent.sh", "#!/bin/sh\necho v1\n");
  src("example.cfg", "[CM_SERVER]\n");
  src("unit", "[Unit]\n");
  const entries: EmbeddedEntry[] = [
    { path: "/etc/drcm", type: "dir", mode: 0o755, config: null, pkg: "main" },
    { path: "/etc/drcm/.auth", type: "dir", mode: 0o700, config: null, pkg: "main" },
    { path: "/etc/drcm/cm_2_node_example.cfg", type: "file", mode: 0o644, config: "config", pkg: "main", data: join(srcDir, "example.cfg") },
    { path: "/etc/drcm/resources/agent.sh", type: "file", mode: 0o755, config: "noreplace", pkg: "main", data: join(srcDir, "agent.sh") },
    { path: "/usr/lib/systemd/system/drcm.service", type: "file", mode: 0o644, config: null, pkg: "main", data: join(srcDir, "unit") },
    { path: "/usr/sbin/drcm", type: "self", mode: 0o755, config: null, pkg: "main" },
    { path: "/usr/sbin/drcm_server", type: "symlink", mode: 0o777, config: null, pkg: "main", target: "drcm" },
    { path: "/var/lib/drcm/installed.sha256", type: "record", mode: 0o644, config: null, pkg: "main" },
  ];
  return { entries, src };
}

const mode = (p: string): number => statSync(p).mode & 0o7777;

describe("install", () => {
  test("install() creates files, dirs, the link and the record with the RPM modes", async () => {
    const root = fresh();
    const { entries } = layout();
    const self = join(fresh(), "drcm-bin");
    writeFileSync(self, "BINARY");
    const steps = await install({ root, dryRun: false, force: false, self, entries });
    expect(steps.every((s) => s.kind === "create")).toBe(true);
    expect(mode(join(root, "etc/drcm/.auth"))).toBe(0o700);
    expect(mode(join(root, "etc/drcm/resources/agent.sh"))).toBe(0o755);
    expect(mode(join(root, "etc/drcm/cm_2_node_example.cfg"))).toBe(0o644);
    expect(readFileSync(join(root, "usr/sbin/drcm"), "utf8")).toBe("BINARY");
    expect(mode(join(root, "usr/sbin/drcm"))).toBe(0o755);
    expect(lstatSync(join(root, "usr/sbin/drcm_server")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, "usr/sbin/drcm_server"))).toBe("drcm");
    const record = parseRecord(readFileSync(join(root, "var/lib/drcm/installed.sha256"), "utf8"));
    expect([...record.keys()].sort()).toEqual(["/etc/drcm/cm_2_node_example.cfg", "/etc/drcm/resources/agent.sh", "/usr/lib/systemd/system/drcm.service", "/usr/sbin/drcm"]);
    const again = await install({ root, dryRun: false, force: false, self, entries });
    expect(again.every((s) => s.kind === "unchanged")).toBe(true);
  });

  test("install() updates an unedited older version but keeps an admin-edited one and writes .new beside it", async () => {
    const root = fresh();
    const { entries, src } = layout();
    await install({ root, dryRun: false, force: false, self: null, entries });
    src("agent.sh", "#!/bin/sh\necho v2\n");
    src("example.cfg", "[CM_SERVER]\n# v2\n");
    // The admin edits the example; the agent stays as shipped.
    writeFileSync(join(root, "etc/drcm/cm_2_node_example.cfg"), "[CM_SERVER]\n# mine\n");
    const steps = await install({ root, dryRun: false, force: false, self: null, entries });
    const kind = (p: string): string | undefined => steps.find((s) => s.path === p)?.kind;
    expect(kind("/etc/drcm/resources/agent.sh")).toBe("update");
    expect(readFileSync(join(root, "etc/drcm/resources/agent.sh"), "utf8")).toContain("v2");
    expect(kind("/etc/drcm/cm_2_node_example.cfg")).toBe("beside");
    expect(readFileSync(join(root, "etc/drcm/cm_2_node_example.cfg"), "utf8")).toContain("# mine");
    expect(readFileSync(join(root, "etc/drcm/cm_2_node_example.cfg.new"), "utf8")).toContain("# v2");
    expect(renderSteps(steps, root, false)).toContain("new version in /etc/drcm/cm_2_node_example.cfg.new");
    // Still edited on the next run: it is not mistaken for a shipped version.
    const third = await install({ root, dryRun: false, force: false, self: null, entries });
    expect(third.find((s) => s.path === "/etc/drcm/cm_2_node_example.cfg")?.kind).toBe("beside");
  });

  test("install() also trusts the checksums of an installed.sha256.rpmnew that an RPM upgrade left, then removes it", async () => {
    const root = fresh();
    const { entries, src } = layout();
    await install({ root, dryRun: false, force: false, self: null, entries });
    const rec = join(root, "var/lib/drcm/installed.sha256");
    const v1 = readFileSync(rec, "utf8");
    // An RPM upgrade wrote v2 of the agent but kept the record (noreplace) and put its own beside it.
    src("agent.sh", "#!/bin/sh\necho v2\n");
    await install({ root, dryRun: false, force: false, self: null, entries });
    writeFileSync(`${rec}.rpmnew`, readFileSync(rec, "utf8"));
    writeFileSync(rec, v1);
    src("agent.sh", "#!/bin/sh\necho v3\n");
    const steps = await install({ root, dryRun: false, force: false, self: null, entries });
    expect(steps.find((s) => s.path === "/etc/drcm/resources/agent.sh")?.kind).toBe("update");
    expect(readFileSync(join(root, "etc/drcm/resources/agent.sh"), "utf8")).toContain("v3");
    expect(existsSync(`${rec}.rpmnew`)).toBe(false);
  });

  test("install() with force replaces an edited file and keeps the admin's copy as .orig", async () => {
    const root = fresh();
    const { entries } = layout();
    await install({ root, dryRun: false, force: false, self: null, entries });
    writeFileSync(join(root, "etc/drcm/resources/agent.sh"), "mine\n");
    const steps = await install({ root, dryRun: false, force: true, self: null, entries });
    expect(steps.find((s) => s.path === "/etc/drcm/resources/agent.sh")?.kind).toBe("replace-edited");
    expect(readFileSync(join(root, "etc/drcm/resources/agent.sh.orig"), "utf8")).toBe("mine\n");
    expect(readFileSync(join(root, "etc/drcm/resources/agent.sh"), "utf8")).toContain("v1");
  });

  test("install() overwrites a non-config file such as the systemd unit", async () => {
    const root = fresh();
    const { entries } = layout();
    await install({ root, dryRun: false, force: false, self: null, entries });
    writeFileSync(join(root, "usr/lib/systemd/system/drcm.service"), "changed\n");
    const steps = await install({ root, dryRun: false, force: false, self: null, entries });
    expect(steps.find((s) => s.path === "/usr/lib/systemd/system/drcm.service")?.kind).toBe("update");
    expect(readFileSync(join(root, "usr/lib/systemd/system/drcm.service"), "utf8")).toBe("[Unit]\n");
  });

  test("install() keeps the admin's mode of a config file and says so, never reporting it unchanged", async () => {
    const root = fresh();
    const { entries, src } = layout();
    await install({ root, dryRun: false, force: false, self: null, entries });
    const agent = join(root, "etc/drcm/resources/agent.sh");
    chmodSync(agent, 0o600);
    const dry = await install({ root, dryRun: true, force: false, self: null, entries });
    expect(dry.find((s) => s.path === "/etc/drcm/resources/agent.sh")?.kind).toBe("keep-mode");
    expect(mode(agent)).toBe(0o600);
    const steps = await install({ root, dryRun: false, force: false, self: null, entries });
    expect(steps.find((s) => s.path === "/etc/drcm/resources/agent.sh")?.kind).toBe("keep-mode");
    expect(mode(agent)).toBe(0o600);
    const text = renderSteps(steps, root, false);
    expect(text).toContain("kept mode 0600 of /etc/drcm/resources/agent.sh (package mode 0755)");
    expect(text).toContain("1 with your mode kept");
    // A newer shipped version updates the content and still keeps the admin's mode.
    src("agent.sh", "#!/bin/sh\necho v2\n");
    const upd = await install({ root, dryRun: false, force: false, self: null, entries });
    const step = upd.find((s) => s.path === "/etc/drcm/resources/agent.sh");
    expect(step?.kind).toBe("update");
    expect(step?.note).toContain("kept mode 0600");
    expect(readFileSync(agent, "utf8")).toContain("v2");
    expect(mode(agent)).toBe(0o600);
    // --force restores the package mode.
    const forced = await install({ root, dryRun: false, force: true, self: null, entries });
    expect(forced.find((s) => s.path === "/etc/drcm/resources/agent.sh")?.kind).toBe("update");
    expect(mode(agent)).toBe(0o755);
  });

  test("install() resets the mode of a non-config file or dir and reports it as updated", async () => {
    const root = fresh();
    const { entries } = layout();
    await install({ root, dryRun: false, force: false, self: null, entries });
    chmodSync(join(root, "usr/lib/systemd/system/drcm.service"), 0o600);
    chmodSync(join(root, "etc/drcm/.auth"), 0o755);
    const steps = await install({ root, dryRun: false, force: false, self: null, entries });
    const unit = steps.find((s) => s.path === "/usr/lib/systemd/system/drcm.service");
    expect(unit?.kind).toBe("update");
    expect(unit?.note).toBe("mode 0600 reset to 0644");
    expect(mode(join(root, "usr/lib/systemd/system/drcm.service"))).toBe(0o644);
    expect(steps.find((s) => s.path === "/etc/drcm/.auth")?.kind).toBe("update");
    expect(mode(join(root, "etc/drcm/.auth"))).toBe(0o700);
    const again = await install({ root, dryRun: false, force: false, self: null, entries });
    // self: null skips the binary.
    expect(again.filter((s) => s.kind !== "unchanged").map((s) => `${s.kind} ${s.path}`)).toEqual(["skip /usr/sbin/drcm"]);
  });

  test("install() with dryRun writes nothing and lists every file", async () => {
    const root = fresh();
    const { entries } = layout();
    const steps = await install({ root, dryRun: true, force: false, self: null, entries });
    expect(existsSync(join(root, "etc"))).toBe(false);
    const text = renderSteps(steps, root, true);
    expect(text).toContain("would create  0755 /etc/drcm/resources/agent.sh");
    expect(text).toContain("would skip    0755 /usr/sbin/drcm");
    expect(text).toContain("Dry run, nothing written");
  });

  test("compiledSelf() recognises a compiled binary and source runs", () => {
    expect(compiledSelf(["bun", "/$bunfs/root/drcm", "--install"], "/usr/local/bin/drcm")).toBe("/usr/local/bin/drcm");
    expect(compiledSelf(["/usr/bin/bun", "/work/drcm.ts"], "/usr/bin/bun")).toBeNull();
  });
});

describe("drcm --install (the compiled binary)", () => {
  const bin = join(import.meta.dir, "../../dist/drcm");
  test.skipIf(!existsSync(bin))("ships link-agents, which links the 1.x agent paths /etc/drcm/resources/X to the shipped agents, keeping a file of the admin's", () => {
    const root = fresh();
    // The admin's own copy of one agent, there before the install.
    const own = join(root, "etc/drcm/resources/ipv4addr.sh");
    Bun.spawnSync(["mkdir", "-p", join(root, "etc/drcm/resources")]);
    writeFileSync(own, "#!/bin/sh\n# mine\n", { mode: 0o755 });
    const r = Bun.spawnSync([bin, "--install", `--root=${root}`], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(0);
    // Under a --root other than / the links are left to that system, and the output says how to make them.
    expect(existsSync(join(root, "etc/drcm/resources/crontab.sh"))).toBe(false);
    const hint = /run (\/usr\/libexec\/drcm\/link-agents) (\S+) for that tree/.exec(r.stdout.toString());
    expect(hint?.[2]).toBe(root);
    expect(Bun.spawnSync(["/bin/sh", join(root, hint![1]!), root]).exitCode).toBe(0);
    expect(readlinkSync(join(root, "etc/drcm/resources/crontab.sh"))).toBe("/usr/libexec/drcm/resources/crontab.sh");
    expect(existsSync(join(root, "usr/libexec/drcm/resources/crontab.sh"))).toBe(true);
    expect(lstatSync(own).isSymbolicLink()).toBe(false);
    expect(readFileSync(own, "utf8")).toContain("# mine");
  });
});
