// The attacker in the client namespace (scenario 12).
//   bun forge.ts capture --port=53999 --count=N --out=FILE    record N datagrams (hex lines)
//   bun forge.ts send --target=IP --port=P --replay=FILE [--bind=IP] [--forge=NODE] [--gap=MS] [--rounds=N]
// send: every recorded datagram again (a replay), then with --forge=NODE heartbeats claiming to come
// from NODE and to hold every slot with a huge claim, signed with a random key (no authkey), plus
// garbage. Prints how many datagrams it sent.
import { createSocket } from "node:dgram";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { encode } from "../../lib/wire/codec.ts";

const args = new Map(process.argv.slice(3).map((a) => a.replace(/^--/, "").split("=", 2) as [string, string]));
const mode = process.argv[2];

function capture(): void {
  const port = Number(args.get("port"));
  const count = Number(args.get("count") ?? 20);
  const out = args.get("out")!;
  const got: string[] = [];
  const s = createSocket("udp4");
  s.on("error", () => {});
  s.on("message", (m) => {
    got.push(m.toString("hex"));
    if (got.length >= count) {
      writeFileSync(out, got.join("\n") + "\n");
      process.exit(0);
    }
  });
  s.bind(port, "0.0.0.0");
  setTimeout(() => {
    writeFileSync(out, got.join("\n") + (got.length ? "\n" : ""));
    process.exit(got.length ? 0 : 1);
  }, 10000);
}

async function send(): Promise<void> {
  const target = args.get("target")!;
  const port = Number(args.get("port"));
  const packets: Uint8Array[] = [];
  const replay = args.get("replay");
  if (replay) for (const l of readFileSync(replay, "utf8").split("\n")) if (l) packets.push(Buffer.from(l, "hex"));
  const forgeAs = args.get("forge");
  if (forgeAs) {
    const wrongKey = randomBytes(2048);
    for (let seq = 1; seq <= 20; seq++) {
      const body = {
        kind: "heartbeat", config: "0".repeat(64), active: true, standby: false, ready: true, leaving: false, quorum: true,
        pingOk: null, alive: [forgeAs], stable: [forgeAs], failed: [], uptimeMs: 1e9,
        holds: ["ipaddr:vip@n1", "crontab:jobs@n1", "application:app@n1"].map((slot) => ({ slot, role: "backup", claim: 1_000_000, heldMs: 1e6 })),
      };
      packets.push(encode(wrongKey, { from: forgeAs, inc: Date.now(), seq, body: body as never }));
    }
    packets.push(randomBytes(200), Buffer.from("DRCM hello"), new Uint8Array(0));
  }
  const s = createSocket("udp4");
  s.on("error", () => {});
  await new Promise<void>((r) => (args.get("bind") ? s.bind(0, args.get("bind"), () => r()) : s.bind(0, () => r())));
  let sent = 0;
  // --gap: ms between datagrams (a recorded stream replayed at its own pace); --rounds: the whole list again.
  const gap = Number(args.get("gap") ?? 5);
  const rounds = Math.min(100, Math.max(1, Number(args.get("rounds") ?? 1)));
  for (const p of Array.from({ length: rounds }, () => packets).flat()) {
    await new Promise<void>((r) => s.send(p, port, target, (e) => { if (!e) sent++; r(); }));
    await Bun.sleep(gap);
  }
  console.log(`sent ${sent}`);
  s.close();
}

if (mode === "capture") capture();
else if (mode === "send") await send();
else {
  process.stderr.write("Usage: forge.ts capture|send ...\n");
  process.exit(2);
}
