import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterEvent } from "../../lib/core/types.ts";
import { alertEnv } from "../../lib/io/alerts.ts";
import { Fixture, REPO, UTILS } from "./utils-fixture.ts";

const fx = new Fixture();
afterAll(() => fx.cleanup());
const mailAlert = join(UTILS, "mail_alert.sh");
const listFile = join(fx.etc, "my_cluster_conf", "cm_alert_list.sh");

/** Runs mail_alert.sh the way the daemon does: with the DRCM_* environment of the event. */
function alert(ev: ClusterEvent, extra: Record<string, string> = {}) {
  return fx.run(mailAlert, [], { ...alertEnv(ev, Date.UTC(2024, 10, 25, 18, 44, 11), "cmnode2", "/etc/drcm/cm.cfg"), ...extra });
}
const dead1: ClusterEvent = { type: "node_dead", node: "cmnode1", message: "No heartbeat from cmnode1 for 6s" };
const alive1: ClusterEvent = { type: "node_alive", node: "cmnode1", message: "cmnode1 is alive again" };
const takeover: ClusterEvent = { type: "takeover", node: "cmnode1", resource: "ipaddr:vip", slot: "ipaddr:vip@cmnode1", message: "Took over ipaddr:vip" };
const subjects = (from: number) => fx.mails().slice(from).map((m) => m.args[1]);

test("send_alert writes the shipped cm_alert_list.sh template when the list is missing", () => {
  rmSync(listFile, { force: true });
  const r = fx.bash(`. ${join(UTILS, "send_alert.sh")}; send_alert "Subject" "Body"`, { ALERTTIMESPANHOURS: "0" });
  expect(r.code).toBe(0);
  expect(readFileSync(listFile, "utf8")).toBe(readFileSync(join(REPO, "resources", "my_cluster_conf", "cm_alert_list.sh"), "utf8"));
  expect(fx.mails().at(-1)).toEqual({ args: ["-s", "Subject", "root"], body: "Body\n" });
});

test("send_alert mails EMAILlist and TEXTlist, a body file as is, and keeps the 1.x shared throttle", () => {
  writeFileSync(listFile, `export EMAILlist="ops@example.com,root"\nexport TEXTlist="5555555555@vtext.com"\n`);
  const body = join(fx.dir, "body.txt");
  writeFileSync(body, "line 1\nline 2\n");
  const before = fx.mails().length;
  const v = join(fx.dir, "shared");
  const send = (subject: string) => fx.bash(`. ${join(UTILS, "send_alert.sh")}; send_alert "${subject}" "${body}"`, { VARdir: v });
  expect(send("First").code).toBe(0);
  const second = send("Second");
  expect(second.code).toBe(0);
  expect(second.out).toContain("Alert not sent: last alert was");
  expect(fx.mails().slice(before)).toEqual([
    { args: ["-s", "First", "ops@example.com,root"], body: "line 1\nline 2\n" },
    { args: ["-s", "First", "5555555555@vtext.com"], body: "line 1\nline 2\n" },
  ]);
  expect(existsSync(join(v, "cm_alert.timefile"))).toBe(true);
  writeFileSync(listFile, `export EMAILlist="root"\nexport TEXTlist=""\n`);
});

test("mail_alert.sh throttles per problem: the same node_dead waits, another node's and a takeover still go out", () => {
  const before = fx.mails().length;
  const v = { VARdir: join(fx.dir, "kinds") };
  expect(alert(dead1, v).code).toBe(0);
  expect(alert(dead1, v).out).toContain("Alert not sent: last node_dead alert for cmnode1 was");
  expect(alert({ ...dead1, node: "cmnode3" }, v).code).toBe(0);
  expect(alert(takeover, v).code).toBe(0);
  expect(alert(takeover, v).out).toContain("Alert not sent: last takeover alert for cmnode1 of ipaddr:vip was");
  expect(alert({ ...takeover, resource: "ipaddr:vip2" }, v).code).toBe(0);
  expect(subjects(before)).toEqual([
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1",
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode3",
    "[WARNING] drcm TEST-CLUSTER: takeover ipaddr:vip of cmnode1",
    "[WARNING] drcm TEST-CLUSTER: takeover ipaddr:vip2 of cmnode1",
  ]);
  const body = fx.mails().at(-2)!.body;
  expect(body).toContain("Took over ipaddr:vip\n");
  expect(body).toContain("Slot:      ipaddr:vip@cmnode1\n");
  expect(body).toContain("Time:      2024-11-25T18:44:11.000Z\n");
  expect(body).toContain("Reported:  by cmnode2 (config /etc/drcm/cm.cfg)");
});

test("mail_alert.sh mails a problem again after its recovery notice, and only that problem", () => {
  const before = fx.mails().length;
  const v = { VARdir: join(fx.dir, "reset") };
  const dead3: ClusterEvent = { ...dead1, node: "cmnode3" };
  alert(dead1, v);
  alert(dead3, v);
  alert(alive1, v);
  expect(alert(dead1, v).out).toContain("Alert sent: [CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1");
  expect(alert(dead3, v).out).toContain("Alert not sent: last node_dead alert for cmnode3 was");
  const failed: ClusterEvent = { type: "resource_failed", node: "cmnode2", resource: "service:httpd", slot: "service:httpd@cmnode2", message: "httpd failed" };
  const recovered: ClusterEvent = { ...failed, type: "resource_recovered", message: "httpd healthy again" };
  alert(failed, v);
  alert(recovered, v);
  alert(failed, v);
  expect(subjects(before)).toEqual([
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1",
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode3",
    "[OK] drcm TEST-CLUSTER: node_alive cmnode1",
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1",
    "[CRITICAL] drcm TEST-CLUSTER: resource_failed service:httpd of cmnode2",
    "[OK] drcm TEST-CLUSTER: resource_recovered service:httpd of cmnode2",
    "[CRITICAL] drcm TEST-CLUSTER: resource_failed service:httpd of cmnode2",
  ]);
});

test("mail_alert.sh does not stamp the throttle when the mail program fails: the next alert is sent", () => {
  const failing = fx.exe("badmail2", "#!/bin/bash\ncat >/dev/null\necho 'mail: cannot connect to relay' >&2\nexit 4\n");
  const v = { VARdir: join(fx.dir, "failstamp") };
  const r = alert(dead1, { ...v, UNIXMAILPROGRAM: failing });
  expect(r.code).toBe(1);
  expect(r.out).toContain(`ERROR - ${failing} failed for: [CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1`);
  expect(existsSync(join(v.VARdir, "cm_alert.node_dead@cmnode1@.timefile"))).toBe(false);
  const before = fx.mails().length;
  const retry = alert(dead1, v);
  expect(retry.code).toBe(0);
  expect(subjects(before)).toEqual(["[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1"]);
  expect(existsSync(join(v.VARdir, "cm_alert.node_dead@cmnode1@.timefile"))).toBe(true);
});

test("mail_alert.sh accepts decimal ALERTTIMESPANHOURS and sends despite an invalid one", () => {
  const before = fx.mails().length;
  const half = { VARdir: join(fx.dir, "half"), ALERTTIMESPANHOURS: "0.5" };
  const first = alert(dead1, half);
  expect(first.out).not.toContain("syntax error");
  expect(first.code).toBe(0);
  expect(alert(dead1, half).out).toContain("Alert not sent: last node_dead alert for cmnode1 was 0 seconds ago (ALERTTIMESPANHOURS=0.5)");
  // Stamped 31 minutes ago: beyond half an hour, so the alert goes out again.
  writeFileSync(join(half.VARdir, "cm_alert.node_dead@cmnode1@.timefile"), `${Math.floor(Date.now() / 1000) - 31 * 60}\n`);
  expect(alert(dead1, half).code).toBe(0);
  const bad = alert(dead3Of("cmnode4"), { VARdir: join(fx.dir, "bad-span"), ALERTTIMESPANHOURS: "four" });
  expect(bad.code).toBe(0);
  expect(bad.out).toContain('WARNING - ALERTTIMESPANHOURS "four" is not a number of hours: using the default 4');
  expect(subjects(before)).toEqual([
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1",
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1",
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode4",
  ]);
});
const dead3Of = (node: string): ClusterEvent => ({ ...dead1, node });

test("mail_alert.sh always sends the recovery notice, and node_dead after node_alive is mailed again", () => {
  const before = fx.mails().length;
  const v = { VARdir: join(fx.dir, "recovery") };
  alert(dead1, v);
  alert(alive1, v);
  alert(dead1, v);
  alert(alive1, v);
  alert(alive1, v);
  expect(subjects(before)).toEqual([
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1",
    "[OK] drcm TEST-CLUSTER: node_alive cmnode1",
    "[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1",
    "[OK] drcm TEST-CLUSTER: node_alive cmnode1",
    "[OK] drcm TEST-CLUSTER: node_alive cmnode1",
  ]);
});

test("mail_alert.sh with ALERTTIMESPANHOURS=0 sends every alert", () => {
  const before = fx.mails().length;
  const v = { VARdir: join(fx.dir, "nothrottle"), ALERTTIMESPANHOURS: "0" };
  for (let i = 0; i < 3; i++) expect(alert(dead1, v).code).toBe(0);
  expect(fx.mails().length - before).toBe(3);
});

test("mail_alert.sh reports a failing mail program and refuses to run without DRCM_EVENT", () => {
  const failing = fx.exe("badmail", "#!/bin/bash\ncat >/dev/null\nexit 4\n");
  const r = alert(takeover, { VARdir: join(fx.dir, "bad"), UNIXMAILPROGRAM: failing });
  expect(r.code).toBe(1);
  expect(r.out).toContain(`ERROR - ${failing} failed for: [WARNING] drcm TEST-CLUSTER: takeover ipaddr:vip of cmnode1`);
  const none = fx.run(mailAlert);
  expect(none.code).toBe(2);
  expect(none.out).toContain("DRCM_EVENT is not set");
});
