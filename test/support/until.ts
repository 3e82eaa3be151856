// Polls `fn` until it gives a value: for tests that wait on separate processes or a network, where
// the moment something happens is not theirs to know. A rejection counts as "not yet". When the wait
// runs out, the message says what the last attempt gave: a stale error from an early attempt, named as
// if it were the last, once sent a trace after "the API refused connections" when the last minute of
// attempts had in fact answered, just not with what was awaited.
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000, pollMs = 300): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastFailed = false;
  let errors = 0;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const v = await fn();
      if (v !== undefined) return v;
      lastFailed = false;
    } catch (e) {
      lastError = e;
      lastFailed = true;
      errors++;
    }
    if (Date.now() > deadline) {
      const detail = (e: unknown) => {
        const err = e as Error & { cause?: unknown };
        const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
        return `${err.message}${cause}`;
      };
      const tail = lastFailed
        ? `last attempt failed: ${detail(lastError)}`
        : `last attempt answered "not yet"${errors ? `; ${errors} of ${attempts} attempts failed, the last with: ${detail(lastError)}` : ""}`;
      throw new Error(`${what}: not within ${timeoutMs} ms (${tail})`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** `until` for a condition: waits until `cond` holds (a rejection counts as "not yet"). */
export async function untilTrue(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000, pollMs = 100): Promise<void> {
  await until(what, async () => ((await cond()) ? true : undefined), timeoutMs, pollMs);
}
