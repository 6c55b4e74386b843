// /metrics rendering (lib/node/metrics-text.ts) and counting (lib/node/metrics.ts), checked by the
// real promtool when it is installed (Debian package prometheus).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { NodeMetrics } from "../../lib/node/metrics.ts";
import { renderMetrics } from "../../lib/node/metrics-text.ts";
import { SCENARIOS } from "../fixtures/golden/scenarios.ts";

const promtool = Bun.which("promtool");
const info = { nodename: "cmnode1", version: "2.0.0", uptimeMs: 1000, rejected: { bad_mac: 3, replay: 0, control_busy: 2 } };

function busyMetrics(): NodeMetrics {
  const m = new NodeMetrics();
  for (let t = 0; t <= 1000; t += 50) m.heard("cmnode2", t);
  m.heard("cmnode2", 1900);
  m.event({ type: "takeover", resource: "ipaddr:vip", slot: "ipaddr:vip@cmnode2", cause: { kind: "owner-down" } as never, message: "x" });
  m.event({ type: "failback", resource: "ipaddr:vip", slot: "ipaddr:vip@cmnode1", cause: { kind: "failback", owner: "cmnode1", from: "cmnode2" }, message: "x" });
  m.event({ type: "node_dead", node: "cmnode2", message: "x" });
  m.script("ipaddr", "start", true, 120, "ipaddr:vip");
  m.script("ipaddr", "watch", false, 3, "ipaddr:vip");
  m.script("fence", "fence", true, 2500);
  return m;
}
const samples = (text: string) => new Map(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => [l.slice(0, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))]));

describe("metrics", () => {
  test("NodeMetrics counts moves by resource and cause, scripts by kind, action and result, and receive intervals per peer", () => {
    const m = busyMetrics();
    const s = samples(renderMetrics({ status: SCENARIOS.healthy, info, metrics: m, fingerprint: "f".repeat(64), protocol: 4, startedAtMs: 1_700_000_000_000 }));
    expect(s.get('drcm_failovers_total{resource="ipaddr:vip",cause="owner-down"}')).toBe(1);
    expect(s.get('drcm_failbacks_total{resource="ipaddr:vip",cause="failback"}')).toBe(1);
    expect(s.get('drcm_events_total{type="node_dead"}')).toBe(1);
    expect(s.get('drcm_script_runs_total{kind="ipaddr",action="watch",result="failed"}')).toBe(1);
    expect(s.get('drcm_watch_failures_total{resource="ipaddr:vip"}')).toBe(1);
    expect(s.get('drcm_script_duration_seconds_bucket{kind="fence",action="fence",le="2.5"}')).toBe(1);
    expect(s.get('drcm_script_duration_seconds_bucket{kind="fence",action="fence",le="1"}')).toBe(0);
    // 20 gaps of 50 ms and one of 900 ms.
    expect(s.get('drcm_heartbeat_receive_interval_seconds_count{node="cmnode2"}')).toBe(21);
    expect(s.get('drcm_heartbeat_receive_interval_seconds_bucket{node="cmnode2",le="0.05"}')).toBe(20);
    expect(s.get('drcm_heartbeat_receive_interval_seconds_bucket{node="cmnode2",le="0.8"}')).toBe(20);
    expect(s.get('drcm_heartbeat_receive_interval_seconds_bucket{node="cmnode2",le="+Inf"}')).toBe(21);
    expect(s.get('drcm_heartbeat_receive_interval_seconds_sum{node="cmnode2"}')).toBeCloseTo(1.9, 6);
    expect(s.get('drcm_packets_rejected_total{reason="bad_mac"}')).toBe(3);
    expect(s.get('drcm_control_requests_rejected_total{reason="busy"}')).toBe(2);
    expect(s.get("drcm_start_time_seconds")).toBe(1_700_000_000);
  });

  test("every scenario renders: one state per node, holders as series, label values escaped", () => {
    for (const [name, st] of Object.entries(SCENARIOS)) {
      const text = renderMetrics({ status: st, info: { ...info, version: 'a"b\\c\nd' }, metrics: busyMetrics(), fingerprint: "0", protocol: 4, startedAtMs: 0 });
      const s = samples(text);
      for (const n of st.nodes) {
        const states = [...s].filter(([k, v]) => k.startsWith(`drcm_node_state{node="${n.nodename}"`) && v === 1);
        expect(`${name} ${n.nodename} ${states.length}`).toBe(`${name} ${n.nodename} 1`);
      }
      const holders = st.slots.reduce((a, sl) => a + sl.holders.length, 0);
      expect([...s.keys()].filter((k) => k.startsWith("drcm_resource_holder{")).length).toBe(holders);
      expect(text).toContain('version="a\\"b\\\\c\\nd"');
    }
  });

  test.skipIf(promtool === null)("promtool check metrics accepts the exposition of every scenario without a lint finding", () => {
    for (const [name, st] of Object.entries(SCENARIOS)) {
      const text = renderMetrics({ status: st, info, metrics: busyMetrics(), fingerprint: "f".repeat(64), protocol: 4, startedAtMs: 1_700_000_000_000 });
      const p = Bun.spawnSync([promtool!, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
      const said = `${p.stdout.toString()}${p.stderr.toString()}`.trim();
      expect(`${name}: exit ${p.exitCode} ${said}`).toBe(`${name}: exit 0 `);
    }
  });
});
if (promtool === null) console.log("metrics: promtool not installed (Debian package prometheus): the promtool check is skipped");

describe("shipped Prometheus examples", () => {
  test.skipIf(promtool === null)("packaging/examples/drcm-alerts.yml passes promtool check rules, and every metric it uses is one drcm exports", () => {
    const file = `${import.meta.dir}/../../packaging/examples/drcm-alerts.yml`;
    const p = Bun.spawnSync([promtool!, "check", "rules", file], { stdout: "pipe", stderr: "pipe" });
    expect(`exit ${p.exitCode} ${p.stderr.toString()}`).toBe("exit 0 ");
    const used = new Set(readFileSync(file, "utf8").match(/drcm_[a-z_]+/g) ?? []);
    const exported = renderMetrics({ status: SCENARIOS.failedOver, info, metrics: busyMetrics(), fingerprint: "f", protocol: 4, startedAtMs: 0 });
    for (const m of used) expect(`${m} ${exported.includes(`# TYPE ${m} `)}`).toBe(`${m} true`);
  });
});
