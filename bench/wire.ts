// Throughput of the peer codec and of the guard, for the report and for sizing: a node decodes
// (peers x heartbeats per second) packets. Prints figures; never passes or fails on time.
// Run: bun bench/wire.ts
import type { HeartbeatBody } from "../lib/core/types.ts";
import { decode, encode, type Envelope } from "../lib/wire/codec.ts";
import { PeerGuard } from "../lib/wire/guard.ts";

const key = crypto.getRandomValues(new Uint8Array(2048));

function heartbeat(slots: number): HeartbeatBody {
  return {
    kind: "heartbeat",
    config: "9c1e5b0f2a7d4e61",
    active: true,
    standby: false,
    ready: true,
    leaving: false,
    quorum: true,
    pingOk: true,
    alive: ["cmnode1", "cmnode2", "cmnode3"],
    stable: ["cmnode1", "cmnode2", "cmnode3"],
    holds: Array.from({ length: slots }, (_, i) => ({ slot: `service:svc${i}@cmnode1`, role: "primary" as const, claim: 1, heldMs: 123456 })),
    failed: [],
    uptimeMs: 987654,
  };
}

function rate(label: string, n: number, fn: (i: number) => void): void {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const ms = performance.now() - t0;
  console.log(`${label.padEnd(44)} ${Math.round((n / ms) * 1000).toLocaleString("en-US").padStart(10)} /s  (${((ms * 1000) / n).toFixed(1)} µs each)`);
}

for (const slots of [5, 50]) {
  const env: Envelope = { from: "cmnode1", inc: Date.now(), seq: 1, body: heartbeat(slots) };
  const packet = encode(key, env);
  console.log(`heartbeat with ${slots} holds: ${packet.length} bytes`);
  const n = slots === 5 ? 100_000 : 20_000;
  rate(`  encode`, n, (i) => encode(key, { ...env, seq: i }));
  rate(`  decode (valid)`, n, () => decode(key, packet));
  rate(`  encode + decode`, n, (i) => decode(key, encode(key, { ...env, seq: i })));
  const forged = packet.slice();
  forged[20]! ^= 1;
  rate(`  decode (bad MAC, rejected)`, n, () => decode(key, forged));
  const guard = new PeerGuard(new Map([["cmnode1", "10.0.0.1"]]), { self: "bench", selfInc: 1 });
  // The first packet acks the receiver's run (the handshake), the rest are plain beats of a tracked peer.
  // rate() runs a warm-up first: one fresh packet per call, so every one is accepted (no replay is timed).
  const packets = Array.from({ length: n + 2000 }, (_, i) => encode(key, { ...env, seq: i + 1, ...(i === 0 ? { ack: { bench: 1 } } : {}) }));
  let next = 0;
  rate(`  decode + guard.accept`, n, () => {
    const d = decode(key, packets[next++]!);
    if (d.ok && !guard.accept(d.env, "10.0.0.1").ok) throw new Error(`guard refused packet ${next - 1}`);
  });
}
