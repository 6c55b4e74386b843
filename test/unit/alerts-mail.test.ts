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
  expect(second.out).toContain("Alert not sent: last alert alert was");
  expect(fx.mails().slice(before)).toEqual([
    { args: ["-s", "First", "ops@example.com,root"], body: "line 1\nline 2\n" },
    { args: ["-s", "First", "5555555555@vtext.com"], body: "line 1\nline 2\n" },
  ]);
  expect(existsSync(join(v, "cm_alert.timefile"))).toBe(true);
  writeFileSync(listFile, `export EMAILlist="root"\nexport TEXTlist=""\n`);
});

test("mail_alert.sh throttles per event kind: a second node_dead waits, a takeover still goes out", () => {
  const before = fx.mails().length;
  const v = { VARdir: join(fx.dir, "kinds") };
  expect(alert(dead1, v).code).toBe(0);
  expect(alert({ ...dead1, node: "cmnode3" }, v).out).toContain("Alert not sent: last node_dead alert was");
  expect(alert(takeover, v).code).toBe(0);
  expect(subjects(before)).toEqual(["[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1", "[WARNING] drcm TEST-CLUSTER: takeover ipaddr:vip of cmnode1"]);
  const body = fx.mails().at(-1)!.body;
  expect(body).toContain("Took over ipaddr:vip\n");
  expect(body).toContain("Slot:      ipaddr:vip@cmnode1\n");
  expect(body).toContain("Time:      2024-11-25T18:44:11.000Z\n");
  expect(body).toContain("Reported:  by cmnode2 (config /etc/drcm/cm.cfg)");
});

test("mail_alert.sh always sends the recovery notice, even right after the same recovery", () => {
  const before = fx.mails().length;
  const v = { VARdir: join(fx.dir, "recovery") };
  alert(dead1, v);
  alert(alive1, v);
  alert(dead1, v);
  alert(alive1, v);
  expect(subjects(before)).toEqual(["[CRITICAL] drcm TEST-CLUSTER: node_dead cmnode1", "[OK] drcm TEST-CLUSTER: node_alive cmnode1", "[OK] drcm TEST-CLUSTER: node_alive cmnode1"]);
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
