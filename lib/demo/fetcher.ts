// `drcm demo fetcher`: the demo's eyes inside the client namespace of `drcm demo --netns` (the host
// cannot reach the namespaces). Reads commands on stdin, one per line:
//   get ID URL TIMEOUT_MS  -> "r ID <answer>" or "r ID -" (no answer)
//   probe URL              -> starts a GET every 10 ms; prints "p <epoch ms> <answer>|-" at each change
//                             of answer, with "l <epoch ms>" (last good answer) before a change to "-"
// It exits when stdin closes.
const now = (): number => performance.timeOrigin + performance.now();

async function get(url: string, timeoutMs: number): Promise<string | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return (await r.text()).trim();
  } catch {
    return null;
  }
}

export async function runDemoFetcher(): Promise<number> {
  const say = (s: string): void => void process.stdout.write(`${s}\n`);
  let probing = false;
  const probe = async (url: string): Promise<void> => {
    let last: string | null | undefined;
    let lastOkAt = 0;
    // Bounded: at most ~30 minutes of probing.
    for (let i = 0; i < 180_000 && probing; i++) {
      const t = now();
      const a = await get(url, 100);
      if (a !== last) {
        if (a === null) say(`l ${lastOkAt}`);
        say(`p ${t} ${a ?? "-"}`);
        last = a;
      }
      if (a !== null) lastOkAt = now();
      await Bun.sleep(Math.max(0, 10 - (now() - t)));
    }
  };
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of Bun.stdin.stream()) {
    buf += dec.decode(chunk);
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const [cmd, a, b, c] = buf.slice(0, nl).trim().split(/\s+/);
      buf = buf.slice(nl + 1);
      if (cmd === "get" && a !== undefined && b !== undefined) void get(b, Number(c ?? 300)).then((r) => say(`r ${a} ${r ?? "-"}`));
      else if (cmd === "probe" && a !== undefined && !probing) {
        probing = true;
        void probe(a);
      }
    }
  }
  probing = false;
  return 0;
}
