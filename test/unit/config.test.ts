import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseClusterText } from "../../lib/config/load.ts";
import type { Finding } from "../../lib/config/model.ts";
import { configTemplate } from "../../lib/config/template.ts";
import { parseBool, parseDurationMs, splitCsv, isNetmask } from "../../lib/config/values.ts";
import { SERVER_KEYS, NODE_KEYS } from "../../lib/config/keys.ts";
import { keyTablesMarkdown } from "../../lib/config/keys-doc.ts";

const FIX = join(import.meta.dir, "../fixtures/config");
// The 1.41 fixtures write their etc dir as <DIR> (check-config.test.ts fills in a real one): "<" is
// a shell metacharacter the config check refuses in paths (issue 18), so it becomes /x here.
const fixture = (name: string): string => readFileSync(join(FIX, name), "utf8").replaceAll("<DIR>", "/x");
const FILE = "/etc/drcm/cm.cfg";

/** A small valid 2-node config; tests change one thing each. */
const BASE = `[CM_SERVER]
udpport = 53897

[CM_CRONTABS]
cron1, crontabs/c1, /etc/cron.d, resources/crontab.sh

[CM_IPADDRS]
vip, 10.0.0.100, 255.255.255.0, eth0, resources/ipv4addr.sh

[CM_SERVICES]
web, httpd, resources/service.sh

[CM_APPLICATIONS]
app, app:users, appctl start, appctl stop

[CM_FILESYSTEMS]
data, 10.0.0.1:/data, /data, resources/nfs.sh

[CM_NODE]
nodename = n1
hostname = h1.test
keep_alive_ip = 10.0.0.11
node_crontabs = cron1
node_floating_ip_addrs = vip
node_services = web
node_applications = app
node_filesystems = data

[CM_NODE]
nodename = n2
hostname = h2.test
keep_alive_ip = 10.0.0.12
node_services = web
node_backup_crontabs = n1:cron1
node_backup_floating_ip_addrs = n1:vip
node_backup_applications = n1:app
node_backup_filesystems = n1:data
`;

/** The two-node tie-break warning (tested on its own below) is left out: most configs here are 2-node examples. */
const TIE_WARNING = "Two nodes with neither ping_targets nor fence_script";
const parseAll = (text: string) => parseClusterText(text, FILE);
const parse = (text: string) => {
  const r = parseAll(text);
  return { ...r, findings: r.findings.filter((f) => !f.message.startsWith(TIE_WARNING)) };
};
const of = (fs: Finding[], sev: string) => fs.filter((f) => f.severity === sev);
const messages = (fs: Finding[], sev: string) => of(fs, sev).map((f) => `${f.line}: ${f.message}`);
/** Replaces exactly one occurrence, so a test cannot silently change nothing. */
const edit = (text: string, from: string, to: string): string => {
  expect(text.split(from).length).toBe(2);
  return text.replace(from, to);
};

describe("parseClusterText() on the base config", () => {
  test("parseClusterText() builds the model without findings", () => {
    const { cluster, findings } = parse(BASE);
    expect(findings).toEqual([]);
    expect(cluster!.nodes.map((n) => n.nodename)).toEqual(["n1", "n2"]);
    expect(cluster!.etcDir).toBe("/etc/drcm");
    expect(cluster!.resources.map((r) => `${r.kind}:${r.nickname}`)).toEqual(["crontab:cron1", "ipaddr:vip", "service:web", "application:app", "filesystem:data"]);
    const cron = cluster!.resources[0]!;
    expect(cron.kind === "crontab" && cron.script).toBe("/etc/drcm/resources/crontab.sh");
    expect(cron.kind === "crontab" && cron.template).toBe("/etc/drcm/crontabs/c1");
    expect(cron.kind === "crontab" && cron.installDir).toBe("/etc/cron.d");
    expect(cluster!.nodes[1]!.backups.crontab).toEqual([{ node: "n1", nickname: "cron1", line: 34 }]);
    expect(cluster!.nodes[0]!.lines.node_crontabs).toBe(23);
  });

  test("parseClusterText() returns a frozen model", () => {
    const { cluster } = parse(BASE);
    expect(Object.isFrozen(cluster)).toBe(true);
    expect(Object.isFrozen(cluster!.nodes[0]!.primaries.crontab)).toBe(true);
    expect(() => {
      (cluster!.server as { udpport: number }).udpport = 1;
    }).toThrow();
  });

  test("parseClusterText() applies the documented defaults", () => {
    const s = parse(BASE).cluster!.server;
    expect([s.keepAliveIntervalMs, s.deadTimeMs, s.failbackDelayMs, s.autoFailback, s.quorum, s.maxFailures]).toEqual([50, 800, 5000, true, "none", 3]);
    expect(s.actionTimeoutMs).toEqual({ filesystem: 60000, service: 60000, application: 120000, crontab: 10000, ipaddr: 10000 });
    expect([s.alertTimeoutMs, s.udpport, s.tcpport, s.fenceScript, s.pingTargets.length, s.deadNodeCount]).toEqual([10000, 53897, 53897, null, 0, null]);
    expect(parse(BASE).cluster!.nodes[0]!.checkMs.ipaddr).toBe(10000);
    expect([s.runDir, s.logDir, s.spoolDir, s.logfileName]).toEqual(["/var/run/drcm", "/var/log/drcm", "/var/spool/drcm", "drcm.log"]);
  });
});

describe("parseClusterText() lexical rules", () => {
  test("parseClusterText() strips one trailing ; and inline comments, and keeps \\# as #", () => {
    const text = edit(BASE, "udpport = 53897", "udpport = 4000;  # the port\nsudo_command = sudo -u x sh -c \\#1;");
    const { cluster, findings } = parse(text);
    expect(findings).toEqual([]);
    expect(cluster!.server.udpport).toBe(4000);
    expect(cluster!.server.sudoCommand).toBe("sudo -u x sh -c #1");
  });

  test("parseClusterText() keeps \\, and shell syntax in application commands", () => {
    const text = edit(BASE, "app, app:users, appctl start, appctl stop", "app, ldm:users, ldmadmin clean; ldmadmin start, echo a\\,b; ldmadmin stop, if [ -f ~/e.sh ]; then ~/e.sh; fi");
    const r = parse(text).cluster!.resources.find((x) => x.kind === "application")!;
    expect(r).toMatchObject({ user: "ldm", group: "users", start: "ldmadmin clean; ldmadmin start", stop: "echo a,b; ldmadmin stop", ensure: "if [ -f ~/e.sh ]; then ~/e.sh; fi" });
  });

  test("parseClusterText() keeps a quoted interface list as written", () => {
    const text = edit(BASE, "255.255.255.0, eth0,", "24, 'ens192|eno8303',");
    const { cluster, findings } = parse(text);
    expect(findings).toEqual([]);
    expect(cluster!.resources.find((x) => x.kind === "ipaddr")).toMatchObject({ netmask: "24", iface: "'ens192|eno8303'" });
  });

  test("parseClusterText() reads all three spellings of the IP check interval", () => {
    for (const key of ["ipaddr_check", "ipaddrs_check", "ipapddrs_check"]) {
      const { cluster, findings } = parse(edit(BASE, "hostname = h1.test", `hostname = h1.test\n${key} = 35`));
      expect(findings).toEqual([]);
      expect(cluster!.nodes[0]!.checkMs.ipaddr).toBe(35000);
    }
    const both = parse(edit(BASE, "hostname = h1.test", "hostname = h1.test\nipaddr_check = 3\nipaddrs_check = 4"));
    expect(messages(both.findings, "ERROR")[0]).toContain("IP check interval twice");
  });

  test("parseClusterText() matches keys exactly: debug_level does not turn debug on", () => {
    const s = parse(edit(BASE, "udpport = 53897", "udpport = 53897\ndebug = 0\ndebug_level = 3\nverbose_level = 2")).cluster!.server;
    expect([s.debug, s.debugLevel, s.verbose, s.verboseLevel]).toEqual([false, 3, false, 2]);
  });

  test("parseClusterText() warns about an unknown key with a suggestion", () => {
    const { findings } = parse(edit(BASE, "udpport = 53897", "udpprot = 53897"));
    expect(messages(findings, "WARNING")).toEqual(['2: Unknown key "udpprot" in [CM_SERVER] is ignored: did you mean "udpport"?']);
    const node = parse(edit(BASE, "node_services = web\nnode_backup", "node_service = web\nnode_backup"));
    expect(messages(node.findings, "WARNING")[0]).toContain('did you mean "node_services"?');
  });

  test("parseClusterText() warns about unknown sections and text before the first section", () => {
    const { findings } = parse(`stray text\n${BASE}\n[CM_NODES]\nnodename = x\n`);
    expect(messages(findings, "WARNING")).toEqual([
      '1: Text before the first section is ignored: "stray text"',
      '40: Unknown section "[CM_NODES]" is ignored with its lines: did you mean "[CM_NODE]"?',
    ]);
    expect(parse(BASE).findings).toEqual([]);
  });

  test("parseClusterText() reports a section header without ] as malformed, naming file:line", () => {
    const text = edit(BASE, "[CM_NODE]\nnodename = n2", "[CM_NODE\nnodename = n2");
    const { cluster, findings } = parse(text);
    expect(of(findings, "ERROR")).toContainEqual({ severity: "ERROR", file: FILE, line: 29, message: 'Malformed section header "[CM_NODE" (missing "]")' });
    expect(findings.some((f) => f.message.includes("[[CM_NODE"))).toBe(false);
    expect(cluster === null || cluster.nodes.length === 1).toBe(true);
  });

  test("parseClusterText() warns about a bool that is neither yes nor no, naming file:line", () => {
    const { cluster, findings } = parse(edit(BASE, "hostname = h1.test", "hostname = h1.test\nkeep_services = maybe"));
    expect(of(findings, "WARNING")).toEqual([
      { severity: "WARNING", file: FILE, line: 22, message: expect.stringContaining('Cannot parse "keep_services" in node n1 as a yes/no value') },
    ]);
    expect(cluster!.nodes[0]!.keepServices).toBe(false);
    expect(parse(edit(BASE, "hostname = h1.test", "hostname = h1.test\nkeep_services = yes;")).cluster!.nodes[0]!.keepServices).toBe(true);
  });

  test("parseClusterText() rejects junk integers and bad ports instead of reading them like atoi", () => {
    for (const v of ["12abc", "0", "65536", "-1"]) {
      const { findings } = parse(edit(BASE, "udpport = 53897", `udpport = ${v}`));
      expect(messages(findings, "ERROR")).toEqual([`2: Cannot parse "udpport" in [CM_SERVER]: expected a whole number from 1 to 65535, got "${v}"`]);
    }
  });

  test("parseClusterText() drops empty list items and reports a backup entry without : for that node only", () => {
    const text = edit(edit(BASE, "node_services = web\nnode_backup", "node_services = ,web,, \nnode_backup_services = web\nnode_backup"), "node_crontabs = cron1", "node_crontabs = cron1, ,");
    const { cluster, findings } = parse(text);
    expect(cluster!.nodes[1]!.primaries.service).toEqual(["web"]);
    expect(cluster!.nodes[0]!.primaries.crontab).toEqual(["cron1"]);
    expect(messages(findings, "ERROR")).toEqual(['34: n2 backup service with no backup nodename, bad nodename:nickname format: "web" (write node:web)']);
  });
});

describe("parseClusterText() resource sections", () => {
  test("parseClusterText() keeps the 1.x phrase for a wrong field count", () => {
    const { findings } = parse(edit(BASE, "web, httpd, resources/service.sh", "web, httpd"));
    expect(messages(findings, "ERROR")[0]).toContain("missing or extra values on line: web, httpd");
  });

  test("parseClusterText() reports an empty CSV field instead of collapsing it", () => {
    const { findings } = parse(edit(BASE, "web, httpd, resources/service.sh", "web, , httpd, resources/service.sh"));
    expect(messages(findings, "ERROR")).toContain("11: [CM_SERVICES] missing or extra values on line: web, , httpd, resources/service.sh (expected nickname, service_name, resource_script; got 4 fields)");
    const empty = parse(edit(BASE, "web, httpd, resources/service.sh", "web, , resources/service.sh"));
    expect(messages(empty.findings, "ERROR")[0]).toContain("[CM_SERVICES] field 2 is empty");
  });

  test("parseClusterText() rejects a duplicate nickname in one section but allows one across sections", () => {
    const dup = parse(edit(BASE, "web, httpd, resources/service.sh", "web, httpd, resources/service.sh\nweb, nginx, resources/service.sh"));
    expect(messages(dup.findings, "ERROR")).toEqual(['12: [CM_SERVICES] nickname "web" is defined twice (first at line 11)']);
    const across = parse(edit(BASE, "vip, 10.0.0.100", "web, 10.0.0.100").replace("node_floating_ip_addrs = vip", "node_floating_ip_addrs = web").replace("n1:vip", "n1:web"));
    expect(across.findings).toEqual([]);
  });

  test("parseClusterText() validates floating IPs and netmasks", () => {
    const cases: [string, string][] = [
      ["10.0.0.300, 255.255.255.0", 'expected an IPv4 address like 192.168.1.10 (no leading zeros) or an IPv6 address like fd00:213::100, got "10.0.0.300"'],
      // iproute2 would read 010.0.0.8 as octal 8.0.0.8
      ["010.0.0.8, 255.255.255.0", 'got "010.0.0.8"'],
      ["10.0.0.100, 255.0.255.0", 'got "255.0.255.0"'],
      ["10.0.0.100, 33", 'got "33"'],
      ["fd00:213::100, 129", 'Cannot parse prefix length of IPv6 floating IP "vip": expected 1-128 (e.g. 64), got "129"'],
      ["fd00:213::100, 255.255.255.0", 'got "255.255.255.0"'],
      ["fd00:213::100/64, 64", 'got "fd00:213::100/64"'],
      ["fd00:213::100, 64", 'Floating IP "vip" is an IPv6 address but its resource script is ipv4addr.sh: use ipv6addr.sh'],
    ];
    for (const [written, msg] of cases) {
      const { findings } = parse(edit(BASE, "10.0.0.100, 255.255.255.0", written));
      expect(messages(findings, "ERROR")[0]).toContain(msg);
    }
    expect(parse(edit(BASE, "10.0.0.100, 255.255.255.0", "10.0.0.100, 255.255.252.0")).findings).toEqual([]);
    const v6 = parse(edit(edit(BASE, "10.0.0.100, 255.255.255.0", "fd00:213::100, 64"), "resources/ipv4addr.sh", "resources/ipv6addr.sh"));
    expect(messages(v6.findings, "ERROR")).toEqual([]);
    expect(v6.cluster?.resources.find((r) => r.nickname === "vip")).toMatchObject({ ip: "fd00:213::100", netmask: "64" });
  });

  test("parseClusterText() takes one keep_alive_ip per heartbeat link, the same count on every node", () => {
    const two = BASE.replace(/keep_alive_ip = (\S+)/g, (_m, ip: string) => `keep_alive_ip = ${ip}, fd00:1::${ip.split(".").pop()}`);
    const ok = parse(two);
    expect(messages(ok.findings, "ERROR")).toEqual([]);
    expect(ok.cluster!.nodes.map((n) => n.keepAliveIps)).toEqual(ok.cluster!.nodes.map((n) => [n.keepAliveIp, `fd00:1::${n.keepAliveIp.split(".").pop()}`]));
    // One node with one address only: error at its line, naming both counts.
    let first = true;
    const uneven = BASE.replace(/keep_alive_ip = (\S+)/g, (m, ip: string) => (first ? ((first = false), `keep_alive_ip = ${ip}, 10.9.9.9`) : m));
    expect(messages(parse(uneven).findings, "ERROR").join("\n")).toMatch(/has 1 keep_alive_ip address but \S+ has 2: every node needs one address per heartbeat link/);
    // A second link address that is another node's: duplicate.
    const ips = [...BASE.matchAll(/keep_alive_ip = (\S+)/g)].map((m) => m[1]!);
    let i = 0;
    const dup = BASE.replace(/keep_alive_ip = (\S+)/g, (_m, ip: string) => `keep_alive_ip = ${ip}, ${i++ === 0 ? ips[1] : "10.9.9.9"}`);
    expect(messages(parse(dup).findings, "ERROR").join("\n")).toContain(`Duplicate keep_alive_ip "${ips[1]}"`);
    expect(messages(parse(BASE.replace(/keep_alive_ip = (\S+)/, "keep_alive_ip = $1, 1::2::3")).findings, "ERROR").join("\n")).toContain('got "1::2::3"');
  });

  test("parseClusterText() reports a bad user:group with the 1.x phrase", () => {
    const { findings } = parse(edit(BASE, "app:users", "appusers"));
    expect(messages(findings, "ERROR")[0]).toContain("Bad user:group on line: app, appusers, appctl start, appctl stop");
  });
});

describe("parseClusterText() cross-section checks", () => {
  const cases: { name: string; from: string; to: string; expect: string }[] = [
    { name: "unknown nickname with a suggestion", from: "node_floating_ip_addrs = vip", to: "node_floating_ip_addrs = vipp", expect: 'n1 node has floating IP address not listed in global resource: "vipp" in node_floating_ip_addrs: did you mean "vip"?' },
    { name: "backup naming an unknown node", from: "n1:cron1", to: "nx1:cron1", expect: 'n2 backup crontab names an unknown node: "nx1:cron1": did you mean "n1"?' },
    { name: "backup of a resource that node is not primary for", from: "node_filesystems = data", to: "node_filesystems = data\nnode_backup_crontabs = n2:cron1", expect: 'n1 backs up crontab "cron1" of n2, but n2 is not primary for it (node_crontabs)' },
    { name: "node backing itself up", from: "node_backup_crontabs = n1:cron1", to: "node_backup_crontabs = n2:cron1", expect: 'n2 backs up itself in node_backup_crontabs: "n2:cron1"' },
    { name: "backup nickname not defined", from: "n1:data", to: "n1:dta", expect: 'n2 node has backup file system not listed in global resource: "n1:dta": did you mean "data"?' },
    { name: "duplicate hostname", from: "hostname = h2.test", to: "hostname = h1.test", expect: 'Duplicate hostname "h1.test": nodes n1 (line 21) and n2' },
    { name: "duplicate keep_alive_ip", from: "keep_alive_ip = 10.0.0.12", to: "keep_alive_ip = 10.0.0.11", expect: 'Duplicate keep_alive_ip "10.0.0.11"' },
    { name: "exclusive resource primary on two nodes", from: "node_services = web\nnode_backup", to: "node_services = web\nnode_crontabs = cron1\nnode_backup", expect: 'crontab "cron1" is primary on 2 nodes (n1, n2)' },
    { name: "invalid keep_alive_ip", from: "keep_alive_ip = 10.0.0.12", to: "keep_alive_ip = 10.0.0.312", expect: 'Cannot parse "keep_alive_ip" of node n2' },
  ];
  for (const c of cases) {
    test(`parseClusterText() reports ${c.name}`, () => {
      expect(parse(BASE).findings).toEqual([]);
      const { findings } = parse(edit(BASE, c.from, c.to));
      expect(messages(findings, "ERROR").some((m) => m.includes(c.expect))).toBe(true);
    });
  }

  test("parseClusterText() allows a non-exclusive resource on several nodes", () => {
    const { findings } = parse(edit(BASE, "node_services = web\nnode_backup", "node_services = web\nnode_applications = app\nnode_backup"));
    expect(findings).toEqual([]);
  });

  test("parseClusterText() returns no model for a duplicate nodename or a missing node key", () => {
    const dup = parse(edit(BASE, "nodename = n2", "nodename = n1"));
    expect(dup.cluster).toBeNull();
    expect(messages(dup.findings, "ERROR")).toContain('30: Duplicate nodename "n1": nodes n1 (line 20) and n1');
    const missing = parse(edit(BASE, "hostname = h2.test\n", ""));
    expect(missing.cluster).toBeNull();
    expect(messages(missing.findings, "ERROR")).toContain('29: Missing "hostname" in node n2');
    const none = parse("[CM_SERVER]\nudpport = 1\n");
    expect(none.cluster).toBeNull();
    expect(messages(none.findings, "ERROR")).toContain("0: Config file missing [CM_NODE] section(s)");
  });

  test("parseClusterText() warns about a resource no node runs", () => {
    const { findings } = parse(edit(BASE, "web, httpd, resources/service.sh", "web, httpd, resources/service.sh\nntp, chronyd, resources/service.sh"));
    expect(messages(findings, "WARNING")).toEqual(['12: service "ntp" is not primary on any node and will never run']);
  });
});

describe("parseClusterText() timings and quorum", () => {
  const withServer = (lines: string) => parse(edit(BASE, "udpport = 53897", `udpport = 53897\n${lines}`));

  test("parseClusterText() reads durations with units and bare seconds", () => {
    const s = withServer("keep_alive_interval = 100ms\ndead_time = 1.5s\nfailback_delay = 2m\nservice_timeout = 90").cluster!.server;
    expect([s.keepAliveIntervalMs, s.deadTimeMs, s.failbackDelayMs, s.actionTimeoutMs.service]).toEqual([100, 1500, 120000, 90000]);
    expect(messages(withServer("dead_time = fast").findings, "ERROR")[0]).toContain('Cannot parse "dead_time" in [CM_SERVER]: expected a non-zero duration');
  });

  test("parseClusterText() requires dead_time >= 2 intervals and warns under 4", () => {
    expect(messages(withServer("keep_alive_interval = 100ms\ndead_time = 150ms").findings, "ERROR")[0]).toContain('"dead_time" 150ms must be at least 2 x keep_alive_interval (200ms)');
    expect(messages(withServer("keep_alive_interval = 100ms\ndead_time = 300ms").findings, "WARNING")[0]).toContain("is under 4 x keep_alive_interval");
    expect(withServer("keep_alive_interval = 100ms\ndead_time = 400ms").findings).toEqual([]);
  });

  test("parseClusterText() derives dead_time from the 1.x dead_node_count", () => {
    expect(withServer("dead_node_count = 60;").cluster!.server.deadTimeMs).toBe(3000);
    const low = withServer("dead_node_count = 2");
    expect(low.cluster!.server.deadTimeMs).toBe(200);
    expect(messages(low.findings, "WARNING")[0]).toContain("below the minimum of 4");
    expect(withServer("dead_node_count = 60\ndead_time = 1s").cluster!.server.deadTimeMs).toBe(1000);
  });

  test("parseClusterText() defaults quorum by node count and validates it", () => {
    const three = `${BASE}\n[CM_NODE]\nnodename = n3\nhostname = h3.test\nkeep_alive_ip = 10.0.0.13\n`;
    expect(parse(three).cluster!.server.quorum).toBe("majority");
    expect(parse(BASE).cluster!.server.quorum).toBe("none");
    expect(withServer("quorum = majority").cluster!.server.quorum).toBe("majority");
    expect(messages(withServer("quorum = most").findings, "ERROR")[0]).toContain('expected "majority" or "none", got "most"');
  });

  test("parseClusterText() validates ping_targets and splits alert_script", () => {
    const s = withServer("ping_targets = 10.0.0.1, 10.0.0.2\nalert_script = /a.sh, /b.sh").cluster!.server;
    expect(s.pingTargets).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(s.alertScripts).toEqual(["/a.sh", "/b.sh"]);
    expect(messages(withServer("ping_targets = gateway").findings, "ERROR")[0]).toContain('expected IPv4 addresses, got "gateway"');
  });

  test("parseClusterText() resolves relative alert_script and fence_script paths against the etc dir", () => {
    const s = withServer("alert_script = utils/mail_alert.sh, /abs/page.sh\nfence_script = fence.sh").cluster!.server;
    expect(s.alertScripts).toEqual(["/etc/drcm/utils/mail_alert.sh", "/abs/page.sh"]);
    expect(s.fenceScript).toBe("/etc/drcm/fence.sh");
  });
});

describe("fingerprint", () => {
  test("fingerprint ignores node-local settings and changes with shared ones", () => {
    const fp = (t: string) => parse(t).cluster!.fingerprint;
    const base = fp(BASE);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(fp(edit(BASE, "udpport = 53897", "udpport = 53897\nlog_dir = /tmp/x\nrun_dir = /tmp/r\ndebug = 1\nalert_script = /a.sh"))).toBe(base);
    expect(fp(`# a comment shifts every line\n${BASE}`)).toBe(base);
    expect(fp(edit(BASE, "udpport = 53897", "udpport = 53897\ndead_time = 2s"))).not.toBe(base);
    expect(fp(edit(BASE, "10.0.0.100", "10.0.0.101"))).not.toBe(base);
    expect(fp(edit(BASE, "keep_alive_ip = 10.0.0.12", "keep_alive_ip = 10.0.0.12\nnode_is_active = 0"))).not.toBe(base);
  });
});

describe("fixtures from 1.41 and the manual", () => {
  test("parseClusterText() loads the 1.41 sample with only the dead_node_count warning", () => {
    const { cluster, findings } = parseClusterText(fixture("1.41-sample.cfg"), "/x/cm.cfg");
    expect(of(findings, "ERROR")).toEqual([]);
    expect(messages(findings, "WARNING")).toEqual([
      '6: "dead_node_count" = 1 is below the minimum of 4 missed heartbeats; 4 is used (dead_time 200ms)',
      // At the second [CM_NODE]: a 1.x two-node cluster has no tie-breaker.
      `45: ${TIE_WARNING}: if the heartbeat link between them is cut, both take over the floating IPs and crontabs. Set ping_targets (e.g. the gateway) or fence_script in [CM_SERVER], or add a second heartbeat link (keep_alive_ip = a, b)`,
    ]);
    expect(cluster!.nodes[0]!.checkMs.ipaddr).toBe(1000);
  });

  test("parseClusterText() gives both 1.x errors for the 1.41 bad sample", () => {
    const { findings } = parseClusterText(fixture("1.41-bad.cfg"), "/x/cm.cfg");
    const errs = messages(findings, "ERROR");
    expect(errs).toHaveLength(2);
    expect(errs[0]).toStartWith("41: cmnode1 node has crontab not listed in global resource");
    expect(errs[1]).toStartWith("54: cmnode2 backup crontab with no backup nodename, bad nodename:nickname format");
  });

  test("parseClusterText() finds the manual's arhive typo and loads the corrected manual config", () => {
    const bad = parseClusterText(fixture("manual-2node.cfg"), FILE);
    expect(messages(bad.findings, "ERROR")).toEqual([
      '44: cmnode1 node has file system not listed in global resource: "arhive" in node_filesystems: did you mean "archive"?',
      '55: cmnode2 node has file system not listed in global resource: "arhive" in node_filesystems: did you mean "archive"?',
    ]);
    const good = parse(fixture("manual-2node-fixed.cfg"));
    expect(good.findings).toEqual([]);
    expect(good.cluster!.nodes.map((n) => n.keepAliveIp)).toEqual(["192.168.122.183", "192.168.122.184"]);
  });

  test("parseClusterText() loads each application example of the manual", () => {
    const examples = [
      "ldm, ldm:users, ldmadmin start, ldmadmin stop",
      "ldm, ldm:users, ldmadmin clean; ldmadmin mkqueue; ldmadmin start, ldmadmin stop; ldmadmin delqueue",
      "ldm, ldm:users, ldmadmin start, ldmadmin stop, if [ -f ~/util/ldm_ensure.sh ]; then ~/util/ldm_ensure.sh; fi",
    ];
    const base = fixture("manual-2node-fixed.cfg");
    for (const ex of examples) {
      const { cluster, findings } = parse(edit(base, "ldm, ldm:users, ~/util/ldm_ensure.sh, ldmadmin stop, ~/util/ldm_ensure.sh", ex));
      expect(findings).toEqual([]);
      expect(cluster!.resources.find((r) => r.kind === "application")).toMatchObject({ user: "ldm", group: "users" });
    }
  });

  test("parseClusterText() loads the 1.x template with its habits (; and ipapddrs_check)", () => {
    const { cluster, findings } = parse(fixture("1.x-template.cfg"));
    expect([...of(findings, "ERROR"), ...of(findings, "WARNING")]).toEqual([]);
    expect(cluster!.nodes[0]!.checkMs.ipaddr).toBe(35000);
    expect(cluster!.nodes[1]!.checkMs.ipaddr).toBe(40000);
    expect(cluster!.server.deadTimeMs).toBe(3000);
    expect(cluster!.server.sudoCommand).toBe("sudo su root -c");
  });
});

describe("configTemplate()", () => {
  test("configTemplate() loads with only the two-node tie-break warning, explains ping_targets, and uses the etc dir", () => {
    const text = configTemplate("/tmp/c");
    const { cluster, findings } = parseClusterText(text, "/tmp/c/cm.cfg");
    expect(findings.map((f) => `${f.severity} ${f.message.slice(0, TIE_WARNING.length)}`)).toEqual([`WARNING ${TIE_WARNING}`]);
    expect(text).toContain("# TWO-NODE CLUSTERS: set ping_targets (or fence_script).");
    expect(text).toMatch(/^# ping_targets = /m);
    // Uncommenting ping_targets silences it.
    expect(parseClusterText(text.replace(/^# ping_targets = /m, "ping_targets = "), "/tmp/c/cm.cfg").findings).toEqual([]);
    expect(cluster!.nodes).toHaveLength(2);
    for (const kind of ["crontab", "ipaddr", "service", "filesystem"]) expect(cluster!.resources.some((r) => r.kind === kind)).toBe(true);
    expect(text).toContain("/tmp/c/resources/crontab.sh");
    expect(text).toContain("[CM_APPLICATIONS]");
  });

  test("configTemplate() names the shipped mail_alert.sh under the etc dir as the alert_script example", () => {
    const text = configTemplate("/srv/drcm");
    expect(text).toContain("# alert_script = /srv/drcm/utils/mail_alert.sh");
    expect(text).not.toContain("cm_alert.sh");
  });

  test("keyTablesMarkdown() is what configuration.md shows: every key with its default and reload class", () => {
    const doc = readFileSync(join(import.meta.dir, "../../packaging/doc/configuration.md"), "utf8");
    expect(doc).toContain(keyTablesMarkdown()); // else: bun packaging/gen-docs.ts
    for (const k of [...SERVER_KEYS, ...NODE_KEYS]) expect(doc).toMatch(new RegExp(`^\\| \`${k.key}\` \\| [^|]+ \\| (live|\\*\\*restart\\*\\*) \\|`, "m"));
  });

  test("every restart-only [CM_SERVER] key names the field a reload compares", () => {
    for (const k of SERVER_KEYS) if (k.reload === "restart") expect(k.field).toBeDefined();
  });

  test("configTemplate() mentions every key that has an effect, with its default", () => {
    const text = configTemplate("/etc/drcm");
    for (const k of [...SERVER_KEYS, ...NODE_KEYS]) {
      if (k.ignored || ["logfile", "ipaddrs_check", "ipapddrs_check"].includes(k.key)) continue;
      expect(text).toMatch(new RegExp(`^#? ?${k.key} = `, "m"));
      if (k.def !== "") expect(text).toContain(`(default ${k.def})`);
    }
  });
});

describe("value parsers", () => {
  test("parseBool() follows 1.x words and integers", () => {
    expect(["TRUE", "t", "Yes", "y", "1", "7"].map((v) => parseBool(v).value)).toEqual([true, true, true, true, true, true]);
    expect(["false", "F", "no", "N", "0"].map((v) => parseBool(v).value)).toEqual([false, false, false, false, false]);
    expect(parseBool("maybe")).toEqual({ value: false, recognized: false });
  });
  test("parseDurationMs() accepts units and bare seconds", () => {
    expect(["50ms", "1s", "1.5s", "2m", "3"].map(parseDurationMs)).toEqual([50, 1000, 1500, 120000, 3000]);
    expect(parseDurationMs("fast")).toBeNull();
  });
  test("splitCsv() honours \\, escapes", () => {
    expect(splitCsv("a, b\\,c ,d")).toEqual(["a", "b,c", "d"]);
  });
  test("isNetmask() accepts contiguous masks and prefixes only", () => {
    expect(["255.255.255.0", "255.255.255.255", "24", "1", "32"].every(isNetmask)).toBe(true);
    expect(["255.0.255.0", "0", "33", "0.0.0.0", "255.255.255"].some(isNetmask)).toBe(false);
  });
});
