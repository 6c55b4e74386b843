// Issue 18, finding A: where cm.cfg expects a name (service, interface, nickname, user, group) or a
// path (crontab template and directory, mount source and target), a shell metacharacter is an
// ERROR naming file:line, the field, the value and the character.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseClusterText } from "../../lib/config/load.ts";
import { findingPlace } from "../../lib/config/report.ts";
import { nameProblem, stripOuterQuotes } from "../../lib/config/names.ts";

const NODE = ["[CM_NODE]", "nodename = n1", "hostname = n1", "keep_alive_ip = 10.0.0.1"];

/** ERROR findings of a config whose resource section is `section` with `lines` (the first at line 2). */
function errors(section: string, lines: string[]): string[] {
  const text = [`[${section}]`, ...lines, "[CM_SERVER]", "udpport = 53897", ...NODE, ""].join("\n");
  const { findings } = parseClusterText(text, "/etc/drcm/cm.cfg");
  return findings.filter((f) => f.severity === "ERROR").map((f) => `${findingPlace(f)}: ${f.message}`);
}

describe("--check-config: shell metacharacters where a name is expected", () => {
  test("service_name with a command substitution names file:line, the value and the character", () => {
    expect(errors("CM_SERVICES", ["web, httpd$(id), /etc/drcm/resources/service.sh"])).toEqual([
      `/etc/drcm/cm.cfg:2: service_name "httpd$(id)" contains a shell metacharacter "$"; a service name is letters, digits and . _ @ - :`,
    ]);
    expect(errors("CM_SERVICES", ["web, httpd;reboot, /x.sh"])[0]).toContain(`service_name "httpd;reboot" contains a shell metacharacter ";"`);
    expect(errors("CM_SERVICES", ["web, `reboot`, /x.sh"])[0]).toContain('contains a shell metacharacter "`"');
  });

  test("valid service names pass: systemd instances, dots, dashes", () => {
    expect(errors("CM_SERVICES", ["a, httpd, /x.sh", "b, openvpn@client.service, /x.sh", "c, php-fpm_8.2, /x.sh", "d, 'ntpd', /x.sh"])).toEqual([]);
  });

  test("interface: | separates alternatives (quoted as in 1.x or not); other metacharacters are errors", () => {
    expect(errors("CM_IPADDRS", ["a, 10.0.0.5, 24, 'ens192|eno8303', /x.sh", "b, 10.0.0.6, 24, ens192|eno8303, /x.sh", "c, 10.0.0.7, 24, eth0:1, /x.sh", "d, 10.0.0.8, 24, bond0.100, /x.sh"])).toEqual([]);
    expect(errors("CM_IPADDRS", ["a, 10.0.0.5, 24, eth0&reboot, /x.sh"])).toEqual([
      `/etc/drcm/cm.cfg:2: interface "eth0&reboot" contains a shell metacharacter "&"; an interface name is letters, digits and . _ @ - : (several separated by |, e.g. 'ens192|eno8303')`,
    ]);
    expect(errors("CM_IPADDRS", ["a, 10.0.0.5, 24, eth0>/etc/passwd, /x.sh"])[0]).toContain('contains a shell metacharacter ">"');
    expect(errors("CM_IPADDRS", ["a, 10.0.0.5, 24, 'eth0||lo', /x.sh"])[0]).toContain(`interface "eth0||lo" has an empty name in its | list`);
    // A quote left inside (not one surrounding pair) is a metacharacter too.
    expect(errors("CM_IPADDRS", ["a, 10.0.0.5, 24, 'eth0'|lo, /x.sh"])[0]).toContain(`contains a shell metacharacter "'"`);
  });

  test("nickname, user and group reject metacharacters", () => {
    expect(errors("CM_SERVICES", ["we$b, httpd, /x.sh"])).toEqual([
      `/etc/drcm/cm.cfg:2: [CM_SERVICES] nickname "we$b" contains a shell metacharacter "$"; a nickname must not contain spaces, ":" or shell metacharacters ($ \` ; & | < > ( ) quotes * ? [ ] { } ~ ! # \\)`,
    ]);
    expect(errors("CM_APPLICATIONS", ["app, ro(ot:root, start, stop"])).toEqual([
      `/etc/drcm/cm.cfg:2: user "ro(ot" contains a shell metacharacter "("; a user name is letters, digits and . _ @ -`,
    ]);
    expect(errors("CM_APPLICATIONS", ["app, ldm:us|ers, start, stop"])[0]).toContain(`group "us|ers" contains a shell metacharacter "|"; a group name is letters, digits and . _ @ -`);
    // The programs are shell text by design: ; ~ $ are fine there.
    expect(errors("CM_APPLICATIONS", ["ldm, ldm:users, ~/util/ldm_ensure.sh; echo $HOME, ldmadmin stop, ~/util/ldm_ensure.sh"])).toEqual([]);
  });

  test("mount source and target, crontab template and directory: paths without metacharacters; ~ is not expanded", () => {
    expect(errors("CM_FILESYSTEMS", ["d, srv:/data, /data, /x.sh", "e, [fd00::1]:/export, /e, /x.sh", "f, //host/share, /mnt/smb, /x.sh"])).toEqual([]);
    expect(errors("CM_FILESYSTEMS", ["d, srv:/data, /data;rm, /x.sh"])).toEqual([
      `/etc/drcm/cm.cfg:2: target "/data;rm" contains a shell metacharacter ";"; a path must not contain shell metacharacters ($ \` ; & | < > ( ) quotes * ? [ ] { } ~ ! # \\)`,
    ]);
    expect(errors("CM_FILESYSTEMS", ["d, srv:/$(id), /data, /x.sh"])[0]).toContain(`source "srv:/$(id)" contains a shell metacharacter "$"`);
    expect(errors("CM_FILESYSTEMS", ["d, srv:/data, ~/mnt, /x.sh"])[0]).toContain(`target "~/mnt" contains a shell metacharacter "~" (~ is not expanded: write the full path)`);
    expect(errors("CM_CRONTABS", ["c, /etc/drcm/crontabs/a, /etc/cron.d`id`, /x.sh"])[0]).toContain(`install_location "/etc/cron.d\`id\`" contains a shell metacharacter "\`"`);
    expect(errors("CM_CRONTABS", ["c, /etc/drcm/crontabs/a*, /etc/cron.d, /x.sh"])[0]).toContain(`template_file "/etc/drcm/crontabs/a*" contains a shell metacharacter "*"`);
  });

  test("drcm --check-config prints the error with file:line and fails", () => {
    const dir = mkdtempSync(join(tmpdir(), `drcm-metachar-${process.pid}-`));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "cm.cfg");
    writeFileSync(file, ["[CM_SERVER]", "udpport = 53897", "[CM_SERVICES]", "web, httpd$(touch x), resources/service.sh", ...NODE, "node_services = web", ""].join("\n"));
    const r = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../drcm.ts"), "--check-config", `--config-file=${file}`], { env: { ...process.env, NO_COLOR: "1" } });
    const out = r.stdout.toString() + r.stderr.toString();
    expect(out).toContain(`${file}:4: ERROR - service_name "httpd$(touchx)" contains a shell metacharacter "$"; a service name is letters, digits and . _ @ - :`);
    expect(r.exitCode).not.toBe(0);
  });
});

describe("stripOuterQuotes() and nameProblem()", () => {
  test("stripOuterQuotes() removes exactly one surrounding pair of matching quotes", () => {
    expect(stripOuterQuotes("'ens192|eno8303'")).toBe("ens192|eno8303");
    expect(stripOuterQuotes('"ens192|eno8303"')).toBe("ens192|eno8303");
    expect(stripOuterQuotes("'a'b'")).toBe("'a'b'");
    expect(stripOuterQuotes("'a\"")).toBe("'a\"");
    expect(stripOuterQuotes("'")).toBe("'");
    expect(stripOuterQuotes("eth0")).toBe("eth0");
  });

  test("nameProblem() shows a newline as \\n", () => {
    expect(nameProblem("service_name", "service_name", "a\nb")).toBe(`service_name "a\nb" contains a shell metacharacter "\\n"; a service name is letters, digits and . _ @ - :`);
  });
});
