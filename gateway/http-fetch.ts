// Fetching bytes from another gateway's HTTP API with limits, shared by firmware images
// (firmware/image-fetch.ts) and off-chain payloads (payloads/payload-fetch.ts): at most bytesMax bytes
// are read (a larger Content-Length is refused before reading), within timeoutMs overall. What the
// bytes must be (a manifest's digest, a payload's SHA-256) is the caller's check.
import { MoteError } from "../shared/errors.ts";

/**
 * UNREACHABLE (no answer, or an answer not 2xx: `status` says which), TOO_LARGE (over bytesMax),
 * TOO_SLOW (not done within timeoutMs).
 */
export class BoundedFetchError extends MoteError {
  constructor(
    code: "UNREACHABLE" | "TOO_LARGE" | "TOO_SLOW",
    message: string,
    readonly status?: number,
  ) {
    super(code, message);
  }
}

export interface BoundedFetchOptions {
  bytesMax: number;
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
}

export async function fetchBounded(location: string, o: BoundedFetchOptions): Promise<{ bytes: Uint8Array; contentType: string | null }> {
  const doFetch = o.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await doFetch(location, { signal: AbortSignal.timeout(o.timeoutMs), redirect: "follow" });
  } catch (e) {
    throw new BoundedFetchError("UNREACHABLE", `cannot fetch ${location}: ${(e as Error).message}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new BoundedFetchError("UNREACHABLE", `${location} answered HTTP ${res.status}`, res.status);
  }
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > o.bytesMax) {
    await res.body?.cancel();
    throw new BoundedFetchError("TOO_LARGE", `${location} serves ${declared} bytes; at most ${o.bytesMax} expected`);
  }
  return { bytes: await readAtMost(res, o.bytesMax, location, o.timeoutMs), contentType: res.headers.get("content-type") };
}

async function readAtMost(res: Response, bytesMax: number, location: string, timeoutMs: number): Promise<Uint8Array> {
  const out = new Uint8Array(bytesMax);
  let n = 0;
  const reader = res.body?.getReader();
  if (!reader) return out.subarray(0, 0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new BoundedFetchError("UNREACHABLE", `${location}: the answer broke off: ${(e as Error).message}`);
    }
    const { done, value } = chunk;
    if (done) break;
    if (n + value.length > bytesMax) {
      await reader.cancel();
      throw new BoundedFetchError("TOO_LARGE", `${location} serves more than the ${bytesMax} bytes expected`);
    }
    out.set(value, n);
    n += value.length;
    if (Date.now() > deadline) {
      await reader.cancel();
      throw new BoundedFetchError("TOO_SLOW", `${location} too slow: not done within ${timeoutMs} ms`);
    }
  }
  return out.subarray(0, n);
}
