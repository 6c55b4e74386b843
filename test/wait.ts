// Bounded waiting for the real-process rings (integration, netns): every wait has a limit in count and time.

export async function sleep(ms: number): Promise<void> {
  await Bun.sleep(ms);
}

/** Poll `cond` every `everyMs` until it is true or `timeoutMs` passed. Returns elapsed ms, or -1 on timeout. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number> {
  const t0 = performance.now();
  const limit = Math.ceil(timeoutMs / everyMs) + 2;
  for (let i = 0; i < limit; i++) {
    if (await cond()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) break;
    await Bun.sleep(everyMs);
  }
  return -1;
}
