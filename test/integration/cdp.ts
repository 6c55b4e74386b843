// A headless Chromium driven over the DevTools protocol, for tests of the status page (no npm package:
// the browser's own --remote-debugging-port and Bun's WebSocket). Every wait is bounded.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

/** The browser binary, or null when none is installed (Debian package chromium). */
export function findChromium(): string | null {
  for (const p of [process.env.CHROMIUM_BIN, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (p && existsSync(p)) return p;
  return Bun.which("chromium") ?? Bun.which("chromium-browser");
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

type Params = Record<string, unknown>;

export class CdpSession {
  #id = 0;
  #pending = new Map<number, { resolve: (v: Params) => void; reject: (e: Error) => void; method: string }>();
  #listeners = new Map<string, ((p: Params) => void)[]>();

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as { id?: number; result?: Params; error?: { message: string }; method?: string; params?: Params };
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      } else if (msg.method) for (const f of this.#listeners.get(msg.method) ?? []) f(msg.params ?? {});
    };
    ws.onclose = () => {
      for (const [, p] of this.#pending) p.reject(new Error(`${p.method}: DevTools connection closed`));
      this.#pending.clear();
    };
  }

  static async connect(url: string, timeoutMs = 5000): Promise<CdpSession> {
    const ws = new WebSocket(url);
    await within(
      new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
      }),
      timeoutMs,
      `DevTools WebSocket ${url}`,
    );
    return new CdpSession(ws);
  }

  send(method: string, params: Params = {}, timeoutMs = 10000): Promise<Params> {
    const id = ++this.#id;
    const p = new Promise<Params>((resolve, reject) => this.#pending.set(id, { resolve, reject, method }));
    this.ws.send(JSON.stringify({ id, method, params }));
    return within(p, timeoutMs, method);
  }

  on(method: string, f: (p: Params) => void): void {
    this.#listeners.set(method, [...(this.#listeners.get(method) ?? []), f]);
  }

  /** The value of a page expression (JSON-serialisable); throws with the page's exception text. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = (await this.send("Runtime.evaluate", { expression, returnByValue: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Poll `expression` every `everyMs` until it is truthy; returns its value and the ms taken, or null on timeout. */
  async waitFor<T = unknown>(expression: string, timeoutMs: number, everyMs = 50): Promise<{ value: T; ms: number } | null> {
    const t0 = performance.now();
    while (performance.now() - t0 <= timeoutMs) {
      const value = await this.evaluate<T>(expression);
      if (value) return { value, ms: performance.now() - t0 };
      await Bun.sleep(everyMs);
    }
    return null;
  }

  close(): void {
    this.ws.close();
  }
}

export class Chromium {
  private constructor(
    private readonly proc: Subprocess<"ignore", "ignore", "pipe">,
    private readonly profile: string,
    readonly port: number,
    private readonly stderrTail: () => string,
  ) {}

  /** Start a headless browser on a free DevTools port, with a throw-away profile. */
  static async launch(bin: string, timeoutMs = 15000): Promise<Chromium> {
    const profile = mkdtempSync(join(tmpdir(), `drcm-chromium-${process.pid}-`));
    const proc = Bun.spawn(
      [bin, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--remote-debugging-port=0",
        `--user-data-dir=${profile}`, "about:blank"],
      { stdin: "ignore", stdout: "ignore", stderr: "pipe", detached: true },
    );
    // Keep draining stderr for the life of the browser (a full pipe would stall it); remember the tail.
    let err = "";
    let found: (url: string) => void = () => {};
    const wsUrl = new Promise<string>((resolve) => (found = resolve));
    void (async () => {
      const dec = new TextDecoder();
      for await (const chunk of proc.stderr) {
        err = (err + dec.decode(chunk, { stream: true })).slice(-8000);
        const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
        if (m) found(m[1]!);
      }
    })().catch(() => {});
    const c = new Chromium(proc, profile, 0, () => err);
    try {
      const url = await within(Promise.race([wsUrl, proc.exited.then((code) => Promise.reject(new Error(`chromium exited ${code}: ${err}`)))]), timeoutMs, "DevTools listening on ws://...");
      return new Chromium(proc, profile, Number(new URL(url).port), () => err);
    } catch (e) {
      await c.close();
      throw e;
    }
  }

  /** A session on the browser's page target (the about:blank it started with). */
  async page(timeoutMs = 5000): Promise<CdpSession> {
    const t0 = performance.now();
    while (performance.now() - t0 <= timeoutMs) {
      const list = (await (await fetch(`http://127.0.0.1:${this.port}/json/list`, { signal: AbortSignal.timeout(2000) })).json()) as { type: string; webSocketDebuggerUrl?: string }[];
      const page = list.find((t) => t.type === "page" && t.webSocketDebuggerUrl);
      if (page) return CdpSession.connect(page.webSocketDebuggerUrl!, timeoutMs);
      await Bun.sleep(100);
    }
    throw new Error(`no page target in ${timeoutMs} ms`);
  }

  stderr(): string {
    return this.stderrTail();
  }

  /** Kill the browser's whole process group and remove its profile. */
  async close(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        process.kill(-this.proc.pid, "SIGKILL");
      } catch {
        try {
          this.proc.kill("SIGKILL");
        } catch {
          // gone
        }
      }
    }
    await within(this.proc.exited, 5000, "chromium exit").catch(() => {});
    rmSync(this.profile, { recursive: true, force: true });
  }
}
