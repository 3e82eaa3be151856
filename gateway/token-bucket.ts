// Token bucket: `burst` units at once, refilled continuously at `ratePerS`. Used per device by
// ingest (readings) and per peer by p2p (frames and bytes). Time is passed in, so tests and the
// consensus simulator need no clock.
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly ratePerS: number,
    readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  private refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.lastMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerS) / 1000);
    this.lastMs = nowMs;
  }

  /** Takes `n` units if they are there; otherwise takes nothing and returns false. */
  take(nowMs: number, n = 1): boolean {
    this.refill(nowMs);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Whole seconds (≥ 1) until `n` units will be there: a 4.29's Max-Age (RFC 8516 §3). */
  retryAfterS(n = 1): number {
    return Math.max(1, Math.ceil((n - this.tokens) / this.ratePerS));
  }
}
