// The client prober: runs inside the client namespace and sends one UDP datagram to the floating IP
// every --interval ms through an ordinary socket (the kernel resolves the address with its own ARP
// cache: no tricks), and records who answered. Also the functions that read and judge its record.
//   bun test/netns/probe.ts --target=10.213.0.100 --port=8080 --interval=10 --out=FILE
// FILE gets JSON lines: {"k":"s","s":SEQ,"t":MS} per probe sent, {"k":"a","s":SEQ,"t":MS,"n":NODE}
// per answer. MS is epoch milliseconds with fractions (performance.timeOrigin + performance.now(),
// comparable between processes on one machine). SIGTERM/SIGINT flush and exit 0.
import { createSocket } from "node:dgram";
import { appendFileSync, existsSync, readFileSync } from "node:fs";

/** Epoch milliseconds with sub-millisecond resolution. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface Answer {
  readonly seq: number;
  readonly sentAt: number;
  readonly at: number;
  readonly node: string;
}
export interface ProbeLog {
  readonly sent: ReadonlyMap<number, number>;
  /** In order of arrival. */
  readonly answers: readonly Answer[];
}

export function readProbe(file: string): ProbeLog {
  const sent = new Map<number, number>();
  const answers: Answer[] = [];
  if (!existsSync(file)) return { sent, answers };
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    let r: { k: string; s: number; t: number; n?: string };
    try {
      r = JSON.parse(line);
    } catch {
      continue; // a line cut by a kill -9 of the prober
    }
    if (r.k === "s") sent.set(r.s, r.t);
    else if (r.k === "a" && r.n) answers.push({ seq: r.s, sentAt: sent.get(r.s) ?? r.t, at: r.t, node: r.n });
  }
  return { sent, answers };
}

export interface HolderSpan {
  readonly node: string;
  readonly from: number;
  readonly to: number;
  readonly answers: number;
}

export interface ProbeReport {
  /** Longest time without an answer inside [from, to] (window edges count as answers). */
  readonly longestGapMs: number;
  /** When that gap started (epoch ms). */
  readonly gapStart: number;
  readonly sent: number;
  readonly answered: number;
  /** Probes sent in the window that never got an answer (the last 200 ms are not judged). */
  readonly lost: number;
  /** Who answered, in order: consecutive answers of one node form a span. */
  readonly timeline: readonly HolderSpan[];
  /** Answers after an answer from another node that then answered again (two holders interleaved). */
  readonly flaps: number;
}

export function analyse(log: ProbeLog, from: number, to: number): ProbeReport {
  const inWin = log.answers.filter((a) => a.at >= from && a.at <= to);
  let prev = from;
  let longest = 0;
  let gapStart = from;
  for (const a of inWin) {
    if (a.at - prev > longest) {
      longest = a.at - prev;
      gapStart = prev;
    }
    prev = a.at;
  }
  if (to - prev > longest) {
    longest = to - prev;
    gapStart = prev;
  }
  const answeredSeqs = new Set(log.answers.map((a) => a.seq));
  let sent = 0;
  let lost = 0;
  for (const [seq, t] of log.sent) {
    if (t < from || t > to) continue;
    sent++;
    if (t <= to - 200 && !answeredSeqs.has(seq)) lost++;
  }
  const timeline: HolderSpan[] = [];
  for (const a of inWin) {
    const last = timeline[timeline.length - 1];
    if (last && last.node === a.node) timeline[timeline.length - 1] = { ...last, to: a.at, answers: last.answers + 1 };
    else timeline.push({ node: a.node, from: a.at, to: a.at, answers: 1 });
  }
  const seen = new Set<string>();
  let flaps = 0;
  for (const s of timeline) {
    if (seen.has(s.node)) flaps++;
    seen.add(s.node);
  }
  return { longestGapMs: longest, gapStart, sent, answered: inWin.length, lost, timeline, flaps };
}

/** `n1 [0.0-3.2s] -> n2 [3.9-10.0s]` relative to `origin`. */
export function formatTimeline(t: readonly HolderSpan[], origin: number): string {
  const s = (ms: number) => ((ms - origin) / 1000).toFixed(2);
  return t.map((x) => `${x.node} [${s(x.from)}..${s(x.to)}s, ${x.answers}]`).join(" -> ");
}

function main(): void {
  const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=", 2) as [string, string]));
  const target = args.get("target");
  const port = Number(args.get("port") ?? 8080);
  const interval = Number(args.get("interval") ?? 10);
  const out = args.get("out");
  if (!target || !out || !(interval >= 1)) {
    process.stderr.write("Usage: probe.ts --target=IP --port=PORT --interval=MS --out=FILE\n");
    process.exit(2);
  }
  let buf: string[] = [];
  const flush = () => {
    if (buf.length === 0) return;
    appendFileSync(out, buf.join(""));
    buf = [];
  };
  const sock = createSocket("udp4");
  // ICMP port unreachable (a node holding the IP without the app) arrives as an error: keep probing.
  sock.on("error", () => {});
  sock.on("message", (msg) => {
    const t = nowMs();
    const [node, seq] = msg.toString().trim().split(" ");
    if (node && seq) buf.push(`{"k":"a","s":${Number(seq)},"t":${t.toFixed(2)},"n":${JSON.stringify(node)}}\n`);
  });
  let seq = 0;
  const send = () => {
    seq++;
    buf.push(`{"k":"s","s":${seq},"t":${nowMs().toFixed(2)}}\n`);
    sock.send(String(seq), port, target, () => {});
  };
  sock.bind(0, () => {
    send();
    setInterval(send, interval);
    setInterval(flush, 100);
  });
  const bye = () => {
    flush();
    process.exit(0);
  };
  process.on("SIGTERM", bye);
  process.on("SIGINT", bye);
}

if (import.meta.main) main();
