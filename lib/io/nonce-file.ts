// Nonces of control-channel commands that must survive a restart: a signed `standby` replayed to a
// node that restarted within the request's acceptance window (lib/wire/control.ts) would otherwise be
// new to it. Kept in spool_dir/control-nonces-<node>.json (0600; spool_dir, not run_dir: a tmpfs
// run_dir is empty after a quick reboot), rewritten (temporary file, then rename) before the command
// is acted on. Only commands are written, never read-only requests.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { NonceCache } from "../wire/nonce.ts";
import { errorMessage } from "../error.ts";
import { replaceFile } from "./replace-file.ts";

const fileSchema = z.array(z.tuple([z.string().min(1).max(128), z.number()]));
/** Commands are rare; a flood of signed commands (a key holder) is bounded here. */
const MAX_DURABLE = 2000;

export class DurableNonceCache extends NonceCache {
  /** nonce -> wall ms until which it is remembered; the part written to the file. */
  readonly #durable = new Map<string, number>();

  constructor(
    readonly file: string,
    ttlMs: number,
    private readonly log: { warn(msg: string): void; error(msg: string): void },
    now: number = Date.now(),
  ) {
    super(ttlMs);
    let text: string | null = null;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.warn(`Cannot read ${file}: ${errorMessage(e)}; commands from before this start are not remembered`);
    }
    if (text !== null) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const ok = fileSchema.safeParse(parsed);
      if (!ok.success) log.warn(`Ignoring ${file}: not a list of control nonces; commands from before this start are not remembered`);
      else
        for (const [nonce, until] of ok.data)
          if (until >= now && until <= now + ttlMs) {
            this.#durable.set(nonce, until);
            this.restore(nonce, until);
          }
    }
  }

  override add(nonce: string, now: number, durable = false): void {
    super.add(nonce, now, durable);
    if (!durable) return;
    for (const [n, until] of this.#durable) if (until < now) this.#durable.delete(n);
    this.#durable.delete(nonce);
    this.#durable.set(nonce, now + this.ttlMs);
    while (this.#durable.size > MAX_DURABLE) this.#durable.delete(this.#durable.keys().next().value!);
    this.#write();
  }

  #write(): void {
    try {
      replaceFile(this.file, JSON.stringify([...this.#durable]), { mode: 0o600 });
    } catch (e) {
      this.log.error(`Cannot record control nonces in ${this.file}: ${errorMessage(e)}; a command replayed after a restart within ${this.ttlMs / 1000} s would be accepted`);
    }
  }
}
