// Rejected packets: every one is counted (by the guard, for status); the first of each reason from each
// address is logged at once (a peer with the wrong key otherwise just looks dead) and the rest once a
// minute as a summary, so a flood cannot fill the log.
import type { DriverLog } from "./ports.ts";

/** Distinct "reason from address" pairs logged at once; past this a flood of spoofed sources is only summarized. */
const FIRST_SEEN_LIMIT = 1000;
const SUMMARY_EVERY_MS = 60_000;
/** Distinct keys counted between two summaries; the rest are counted by reason only. */
const SUMMARY_KEYS_LIMIT = 1000;

export class RejectionLog {
  /** Rejections since the last summary, by "reason from address". */
  readonly #since = new Map<string, number>();
  readonly #seen = new Set<string>();
  #lastSummary: number;

  constructor(
    private readonly log: DriverLog,
    now: number,
  ) {
    this.#lastSummary = now;
  }

  add(reason: string, srcIp: string, from?: string): void {
    let key = `${reason} from ${srcIp}${from ? ` (claims to be ${from})` : ""}`;
    // Spoofed sources make a new key per packet: past the bound they share one line of the summary.
    if (!this.#since.has(key) && this.#since.size >= SUMMARY_KEYS_LIMIT) key = `${reason} from other addresses`;
    this.#since.set(key, (this.#since.get(key) ?? 0) + 1);
    if (!this.#seen.has(key) && this.#seen.size < FIRST_SEEN_LIMIT) {
      this.#seen.add(key);
      this.log.warn(`Rejected heartbeat packet: ${key}${reason === "bad_mac" ? " — is .auth/authkey the same on every node?" : ""}`);
    }
    this.log.debug(3, `Rejected packet: ${key}`);
  }

  summarize(now: number): void {
    if (now - this.#lastSummary < SUMMARY_EVERY_MS) return;
    this.#lastSummary = now;
    if (this.#since.size === 0) return;
    const parts = [...this.#since].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, n]) => `${n} ${k}`);
    this.log.warn(`Rejected packets in the last minute: ${parts.join("; ")}`);
    this.#since.clear();
  }
}
