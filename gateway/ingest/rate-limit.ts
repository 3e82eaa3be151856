// Token bucket per device: `burst` readings at once, refilled at `ratePerS`. A device that floods
// gets 4.29 with the seconds until its next token (RFC 8516 §3: Max-Age tells when to retry).

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

  /** Takes one token; returns 0 if granted, else the seconds (≥ 1) until one is available. */
  take(nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.lastMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerS) / 1000);
    this.lastMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.ratePerS));
  }
}
