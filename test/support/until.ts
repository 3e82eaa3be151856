// Polls `fn` until it gives a value: for tests that wait on separate processes or a network, where
// the moment something happens is not theirs to know. A rejection counts as "not yet"; the last one
// is named when the wait runs out, so a timeout says what was still failing.
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, pollMs = 300): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** `until` for a condition: waits until `cond` holds (a rejection counts as "not yet"). */
export async function untilTrue(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000, pollMs = 100): Promise<void> {
  await until(what, async () => ((await cond()) ? true : undefined), timeoutMs, pollMs);
}
