// Shared fixtures for the wire tests (not a test file itself).
import type { CommandBody, HeartbeatBody } from "../../lib/core/types.ts";

export const KEY = new TextEncoder().encode("k".repeat(2048));
export const OTHER_KEY = new TextEncoder().encode("x".repeat(2048));

export const heartbeat: HeartbeatBody = {
  kind: "heartbeat",
  config: "3f2a9c",
  active: true,
  standby: false,
  ready: true,
  leaving: false,
  quorum: true,
  pingOk: null,
  alive: ["cmnode1", "cmnode2"],
  stable: ["cmnode2"],
  holds: [
    { slot: "ipaddr:web@cmnode1", role: "primary", claim: 3, heldMs: 12000 },
    { slot: "crontab:apps2@cmnode2", role: "backup", claim: 1, heldMs: 500 },
  ],
  failed: [],
  uptimeMs: 86400000,
};

export const command: CommandBody = {
  kind: "command",
  command: { op: "move", resource: "ipaddr:web", node: "cmnode2" },
  by: "root@vm1",
};

/** Deterministic PRNG (mulberry32) so a failing fuzz case can be reproduced from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
