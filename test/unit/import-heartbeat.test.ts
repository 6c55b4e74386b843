// drcm --import-heartbeat: realistic /etc/ha.d trees -> cm.cfg that the config engine accepts.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "../../lib/cli/args.ts";
import { parseClusterText } from "../../lib/config/load.ts";
import type { Cluster, Finding } from "../../lib/config/model.ts";
import { importHeartbeat, namesToResolve, runImportHeartbeat, type HeartbeatFiles, type ImportFinding, type ImportOptions } from "../../lib/import/heartbeat.ts";
import { parseHaresources } from "../../lib/import/hacf.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "heartbeat");

function tree(name: string): HeartbeatFiles {
  const dir = join(FIXTURES, name);
  const read = (f: string) => (existsSync(join(dir, f)) ? { path: join(dir, f), text: readFileSync(join(dir, f), "utf8") } : null);
  return { haCf: read("ha.cf"), haresources: read("haresources"), authkeys: read("authkeys") };
}

function run(name: string, opts: Partial<ImportOptions> = {}) {
  const dir = join(FIXTURES, name);
  const haScripts = existsSync(join(dir, "resource.d")) ? readdirSync(join(dir, "resource.d")) : [];
  const r = importHeartbeat(tree(name), { etcDir: "/etc/drcm", haDir: dir, haScripts, ...opts });
  const checked = parseClusterText(r.config, "/etc/drcm/cm.cfg");
  return { ...r, cluster: checked.cluster, check: checked.findings };
}

const errors = (f: readonly Finding[]) => f.filter((x) => x.severity === "ERROR");
const at = (f: readonly ImportFinding[], file: string, line: number, severity: string) =>
  f.filter((x) => x.file.endsWith(`/${file}`) && x.line === line && x.severity === severity).map((x) => x.message);
const node = (c: Cluster, name: string) => c.nodes.find((n) => n.nodename === name)!;
const res = (c: Cluster, kind: string, nick: string) => c.resources.find((r) => r.kind === kind && r.nickname === nick);

describe("importHeartbeat()", () => {
  test("importHeartbeat() maps two nodes with IPs, services and nfs and cifs file systems to a config check-config accepts", () => {
    const r = run("two-nodes", { resolved: { "web1.example.com": "192.168.10.11", "web2.example.com": "192.168.10.12" } });
    expect(errors(r.check)).toEqual([]);
    const c = r.cluster!;
    expect(c.nodes.map((n) => [n.nodename, n.hostname, n.keepAliveIp])).toEqual([
      ["web1", "web1.example.com", "192.168.10.11"],
      ["web2", "web2.example.com", "192.168.10.12"],
    ]);
    expect(res(c, "ipaddr", "vip")).toMatchObject({ ip: "192.168.10.50", netmask: "24", iface: "eth0", script: "/etc/drcm/resources/ipv4addr.sh" });
    expect(res(c, "ipaddr", "vip2")).toMatchObject({ ip: "192.168.10.51", netmask: "24", iface: "eth0" });
    expect(res(c, "filesystem", "www")).toMatchObject({ source: "nas1.example.com:/export/www", target: "/var/www", script: "/etc/drcm/resources/nfs.sh" });
    expect(res(c, "filesystem", "reports")).toMatchObject({ source: "//fs1.example.com/reports", target: "/srv/reports", script: "/etc/drcm/resources/cifs.sh" });
    expect(res(c, "service", "mysqld")).toMatchObject({ serviceName: "mysqld", script: "/etc/drcm/resources/service.sh" });
    const web1 = node(c, "web1");
    expect(web1.primaries).toMatchObject({ ipaddr: ["vip"], filesystem: ["www"], service: ["httpd"] });
    expect(web1.backups.service.map((b) => `${b.node}:${b.nickname}`)).toEqual(["web2:mysqld"]);
    expect(node(c, "web2").backups.ipaddr.map((b) => `${b.node}:${b.nickname}`)).toEqual(["web1:vip"]);
    expect(c.server).toMatchObject({ udpport: 694, tcpport: 694, keepAliveIntervalMs: 2000, deadTimeMs: 30_000, autoFailback: true, pingTargets: ["192.168.10.1"] });
    // warntime and initdead have no key: a comment in the file and an INFO each.
    expect(r.config).toMatch(/^# warntime 10 \(ha\.cf:6\).*suspect/m);
    expect(r.config).toMatch(/^# initdead 120 \(ha\.cf:7\).*dead_time/m);
    expect(at(r.findings, "ha.cf", 6, "INFO")).toHaveLength(1);
    expect(at(r.findings, "ha.cf", 7, "INFO")).toHaveLength(1);
    expect(at(r.findings, "haresources", 3, "WARNING").join("\n")).toContain('Arguments "start" of init script mysqld are dropped');
    expect(at(r.findings, "haresources", 3, "WARNING").join("\n")).toContain("/etc/drcm/.auth/fs1.example.com");
  });

  test("importHeartbeat() attributes ucast addresses from this machine's name and addresses when DNS knows neither node", () => {
    const r = run("manual-example", { localHostname: "cmnode1.example.com", localIps: ["192.168.122.183"] });
    expect(errors(r.check)).toEqual([]);
    expect(r.cluster!.nodes.map((n) => n.keepAliveIp)).toEqual(["192.168.122.183", "192.168.122.184"]);
    expect(at(r.findings, "ha.cf", 9, "INFO").join("\n")).toContain("keep_alive_ip = 192.168.122.184 of node cmnode2 (the peer's address in cmnode1.example.com's ha.cf)");
  });

  test("importHeartbeat() turns the manual's transition example into the manual's two-node layout", () => {
    const r = run("manual-example", { resolved: { "cmnode1.example.com": "192.168.122.183", "cmnode2.example.com": "192.168.122.184" } });
    expect(errors(r.check)).toEqual([]);
    const c = r.cluster!;
    expect(node(c, "cmnode1").primaries).toMatchObject({ ipaddr: ["vip"], filesystem: ["data", "archive"], service: ["httpd"] });
    expect(Object.values(node(c, "cmnode2").primaries).flat()).toEqual([]);
    expect(node(c, "cmnode2").backups.filesystem.map((b) => `${b.node}:${b.nickname}`)).toEqual(["cmnode1:data", "cmnode1:archive"]);
    expect(res(c, "filesystem", "data")).toMatchObject({ source: "192.168.122.1:/data", target: "/data", script: "/etc/drcm/resources/nfs.sh" });
    expect(res(c, "ipaddr", "vip")).toMatchObject({ ip: "192.168.122.180", netmask: "24", iface: "eth0" });
    expect(c.server.autoFailback).toBe(false);
    expect(c.server.deadTimeMs).toBe(10_000);
    expect(r.findings.filter((x) => x.severity === "WARNING")).toEqual([]);
  });

  test("importHeartbeat() reads comments, odd spacing, tabs, key=value, CRLF and continuation lines", () => {
    const r = run("messy", { resolved: { "db-a.prod.example.org": "10.20.0.1", "db-b.prod.example.org": "10.20.0.2" } });
    expect(errors(r.check)).toEqual([]);
    const c = r.cluster!;
    expect(c.nodes.map((n) => [n.nodename, n.hostname, n.keepAliveIp])).toEqual([
      ["db-a", "db-a.prod.example.org", "10.20.0.1"],
      ["db-b", "db-b.prod.example.org", "10.20.0.2"],
    ]);
    // The continued group (haresources lines 3-5) belongs to db-a; "db-b" matches its FQDN node line.
    expect(node(c, "db-a").primaries).toMatchObject({ ipaddr: ["vip"], filesystem: ["pgsql"], service: ["postgresql"] });
    expect(node(c, "db-b").primaries).toMatchObject({ ipaddr: ["vip2"], service: ["crond"] });
    expect(res(c, "ipaddr", "vip")).toMatchObject({ ip: "10.20.0.100", netmask: "24", iface: "eth1" });
    expect(res(c, "ipaddr", "vip2")).toMatchObject({ netmask: "255.255.255.0", iface: "eth1" });
    expect(c.server).toMatchObject({ keepAliveIntervalMs: 500, deadTimeMs: 5000, autoFailback: false, pingTargets: ["10.20.0.254", "10.20.0.253"] });
    expect(at(r.findings, "haresources", 3, "WARNING").join("\n")).toContain("netmask 24 and interface eth1 (from ha.cf:9) assumed");
    expect(at(r.findings, "haresources", 4, "WARNING").join("\n")).toContain('mount options "rw,hard,intr" are not carried over');
    expect(at(r.findings, "authkeys", 1, "INFO").join("\n")).toContain("crc authenticates nothing");
    expect(at(r.findings, "ha.cf", 14, "INFO").join("\n")).toContain("compression is not mapped");
  });

  test("importHeartbeat() reports unknown resource types with file and line and maps site scripts and block devices to applications", () => {
    const r = run("unknown-agents", { resolved: { store1: "172.16.5.1", store2: "172.16.5.2" } });
    expect(errors(r.check)).toEqual([]);
    const w1 = at(r.findings, "haresources", 1, "WARNING").join("\n");
    expect(w1).toContain('"drbddisk::r0" is not mapped');
    expect(w1).toContain('"MailTo::ops@example.com::Failover" is not mapped');
    expect(w1).toContain("is a block device");
    const w2 = at(r.findings, "haresources", 2, "WARNING").join("\n");
    for (const t of ["apache::/etc/httpd/conf/httpd.conf", "LVM::vg_data", "Weird$Thing"]) expect(w2).toContain(`"${t}"`);
    expect(w2).toContain('"syncd::fast" is a site script');
    expect(at(r.findings, "ha.cf", 7, "WARNING").join("\n")).toContain("fence_script");
    const c = r.cluster!;
    expect(res(c, "application", "data")).toMatchObject({
      user: "root",
      start: "mount -t ext4 -o noatime,nodiratime /dev/drbd0 /srv/data",
      stop: "umount /srv/data",
      ensure: "mountpoint -q /srv/data || mount -t ext4 -o noatime,nodiratime /dev/drbd0 /srv/data",
    });
    expect(res(c, "application", "syncd")).toMatchObject({ start: `${join(FIXTURES, "unknown-agents")}/resource.d/syncd fast start` });
    expect(c.resources.filter((x) => x.kind === "filesystem")).toEqual([]);
    expect(node(c, "store2").backups.application.map((b) => `${b.node}:${b.nickname}`)).toEqual(["store1:data", "store1:syncd"]);
  });

  test("importHeartbeat() writes CHANGE_ME for bcast-only nodes whose names do not resolve, and check-config reports exactly those", () => {
    const r = run("bcast-hostnames");
    const errs = errors(r.check);
    expect(errs.map((e) => e.message)).toEqual([
      'Cannot parse "keep_alive_ip" of node alpha: expected IPv4 or IPv6 addresses or host names, got "CHANGE_ME_alpha"',
      'Cannot parse "keep_alive_ip" of node beta: expected IPv4 or IPv6 addresses or host names, got "CHANGE_ME_beta"',
    ]);
    expect(at(r.findings, "ha.cf", 4, "WARNING").join("\n")).toContain("keep_alive_ip of node alpha (alpha.example.net) is unknown");
    expect(at(r.findings, "haresources", 2, "WARNING").join("\n")).toContain("netmask 24 and interface eth1 (from ha.cf:3) assumed");
  });

  test("importHeartbeat() takes keep_alive_ip from DNS for bcast-only nodes", () => {
    const r = run("bcast-hostnames", { resolved: { "alpha.example.net": "10.1.1.1", "beta.example.net": "10.1.1.2" } });
    expect(errors(r.check)).toEqual([]);
    expect(r.cluster!.nodes.map((n) => n.keepAliveIp)).toEqual(["10.1.1.1", "10.1.1.2"]);
    expect(r.config).toContain("keep_alive_ip = 10.1.1.1  # DNS address of alpha.example.net");
  });

  test("importHeartbeat() maps auto_failback legacy to 1 with a WARNING and raises a dead_time below 2 x keepalive", () => {
    const r = run("legacy", { localHostname: "old-a", resolved: { "old-a": "10.9.8.1" } });
    expect(errors(r.check)).toEqual([]);
    const c = r.cluster!;
    expect(c.server).toMatchObject({ autoFailback: true, keepAliveIntervalMs: 1000, deadTimeMs: 4000 });
    expect(c.nodes.map((n) => n.keepAliveIp)).toEqual(["10.9.8.1", "10.9.8.2"]);
    expect(at(r.findings, "ha.cf", 9, "WARNING").join("\n")).toContain("auto_failback legacy");
    expect(at(r.findings, "ha.cf", 3, "WARNING").join("\n")).toContain("raised to 4s");
    expect(at(r.findings, "ha.cf", 12, "WARNING")).toEqual(['Unknown ha.cf directive "frobnicate" is not mapped']);
    expect(at(r.findings, "haresources", 1, "INFO").join("\n")).toContain("Broadcast address 10.9.8.255");
  });

  test("importHeartbeat() never drops a haresources resource or an ha.cf line silently", () => {
    for (const name of readdirSync(FIXTURES))
      for (const resolved of [{}, Object.fromEntries(namesToResolve(tree(name)).map((n, i) => [n, `10.99.0.${i + 1}`]))]) {
        const files = tree(name);
        const r = run(name, { resolved });
        for (const g of parseHaresources(files.haresources!.text, files.haresources!.path))
          for (const t of g.resources) {
            const said = r.findings.some((x) => x.file === t.at.file && x.line === t.at.line && x.message.includes(t.text));
            expect({ name, token: t.text, said }).toEqual({ name, token: t.text, said: true });
          }
        files.haCf!.text.split("\n").forEach((raw, i) => {
          if (raw.replace(/#.*/, "").trim() === "") return;
          const said = r.findings.some((x) => x.file === files.haCf!.path && x.line === i + 1);
          expect({ name, line: i + 1, said }).toEqual({ name, line: i + 1, said: true });
        });
      }
  });

  test("importHeartbeat() reports a missing ha.cf or haresources as an ERROR", () => {
    const full = tree("two-nodes");
    const r = importHeartbeat({ ...full, haresources: null }, { etcDir: "/etc/drcm", haDir: "/etc/ha.d" });
    expect(r.findings.filter((x) => x.severity === "ERROR")).toEqual([
      { severity: "ERROR", file: "/etc/ha.d/haresources", line: 0, message: "Cannot import: haresources is missing" },
    ]);
    const none = importHeartbeat({ haCf: null, haresources: null, authkeys: null }, { etcDir: "/etc/drcm" });
    expect(none.findings.filter((x) => x.severity === "ERROR").map((x) => x.message)).toContain("Cannot import: ha.cf is missing");
  });

  test("importHeartbeat() never copies the authkeys secret", () => {
    const r = run("two-nodes");
    expect(r.config).not.toContain("0f3c9d2ab41e4b7d8a6f");
    expect(r.findings.map((x) => x.message).join("\n")).not.toContain("0f3c9d2ab41e4b7d8a6f");
    expect(at(r.findings, "authkeys", 1, "INFO").join("\n")).toContain('run "drcm --keygen"');
  });
});

describe("runImportHeartbeat()", () => {
  async function cli(args: string[]): Promise<{ code: number; out: string }> {
    let out = "";
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string | Uint8Array) => {
      out += String(s);
      return true;
    }) as typeof process.stdout.write;
    try {
      return { code: await runImportHeartbeat(parseArgs(args)), out };
    } finally {
      process.stdout.write = orig;
    }
  }

  test("runImportHeartbeat() writes the config, prints findings with file:line, exits 2 on warnings and refuses to overwrite without --force", async () => {
    const tmp = mkdtempSync(join(tmpdir(), `drcm-import-${process.pid}-`));
    try {
      const ha = join(tmp, "ha.d");
      cpSync(join(FIXTURES, "unknown-agents"), ha, { recursive: true });
      const cfg = join(tmp, "cm.cfg");
      const first = await cli([`--import-heartbeat=${ha}`, `--config-file=${cfg}`]);
      expect(first.code).toBe(2);
      expect(first.out).toContain(`Wrote ${cfg} from ${ha}`);
      expect(first.out).toContain(`${ha}/haresources:1: WARNING - Resource "drbddisk::r0" is not mapped`);
      // No resources/ beside the draft: it is meant for /etc/drcm, where --install and the RPM put the agents.
      expect(first.out).toContain("drcm --install");
      expect(first.out).toContain(`Copy ${cfg} to /etc/drcm/cm.cfg on every node`);
      expect(first.out).toContain("drcm --keygen");
      expect(first.out).toContain("drcm --check-config");
      expect(first.out).not.toContain(`${tmp}/resources`);
      const written = readFileSync(cfg, "utf8");
      expect(written).toContain(`[CM_IPADDRS]\n# CSV format: nickname, ip_address, netmask, interface, resource_script\nvip, 172.16.5.10, 24, eth0, /etc/drcm/resources/ipv4addr.sh`);
      expect(written).not.toContain(`${tmp}/resources`);

      writeFileSync(cfg, "mine\n");
      const again = await cli([`--import-heartbeat=${ha}`, `--config-file=${cfg}`]);
      expect(again.code).toBe(1);
      expect(again.out).toContain("it exists (add --force to replace it");
      expect(readFileSync(cfg, "utf8")).toBe("mine\n");

      const forced = await cli([`--import-heartbeat=${ha}`, `--config-file=${cfg}`, "--force"]);
      expect(forced.code).toBe(2);
      expect(readFileSync(cfg, "utf8")).toBe(written);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("runImportHeartbeat() points the agents beside --config-file when a resources/ dir is there", async () => {
    const tmp = mkdtempSync(join(tmpdir(), `drcm-import-${process.pid}-`));
    try {
      const ha = join(tmp, "ha.d");
      cpSync(join(FIXTURES, "unknown-agents"), ha, { recursive: true });
      mkdirSync(join(tmp, "resources"));
      const cfg = join(tmp, "cm.cfg");
      const r = await cli([`--import-heartbeat=${ha}`, `--config-file=${cfg}`]);
      expect(r.code).toBe(2);
      expect(readFileSync(cfg, "utf8")).toContain(`vip, 172.16.5.10, 24, eth0, ${tmp}/resources/ipv4addr.sh`);
      expect(r.out).toContain(`drcm --check-config --config-file=${cfg}`);
      expect(r.out).not.toContain("/etc/drcm/cm.cfg");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test("runImportHeartbeat() exits 1 and writes nothing when haresources is missing", async () => {
    const tmp = mkdtempSync(join(tmpdir(), `drcm-import-${process.pid}-`));
    try {
      const ha = join(tmp, "ha.d");
      cpSync(join(FIXTURES, "legacy"), ha, { recursive: true });
      rmSync(join(ha, "haresources"));
      const cfg = join(tmp, "cm.cfg");
      const r = await cli([`--import-heartbeat=${ha}`, `--config-file=${cfg}`]);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`${ha}/haresources: ERROR - Cannot import: haresources is missing`);
      expect(existsSync(cfg)).toBe(false);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
