// How many bytes of transactions this node puts in a block it proposes. Every validator must
// pre-verify, execute and commit a block within the round's timeout; a block too big for that
// fails round 0 and the height goes to round changes, seconds in which nothing is finalized
// (bench:net at 7 validators, saturated: blocks of a full mempool took 2-5 s and round 1). The cap
// follows what this node saw heights take, additive-increase / multiplicative-decrease as TCP's
// window does: a height that took longer than `targetMs` shrinks the cap to what would have fit,
// a cap that bound a block that decided in time grows by a quarter. Node-local pacing, never a
// consensus rule: other nodes accept any block up to the chain's blockBytesMax.
export interface ProposalSizerOptions {
  /** A height should decide within this, from the block's arrival (or proposal) to its commit. */
  targetMs: number;
  /** The cap never goes below this (so a slow moment never starves the chain) or above `maxBytes`. */
  minBytes: number;
  maxBytes: number;
}

export class ProposalSizer {
  private cap: number;
  private readonly seenAt = new Map<string, number>();

  constructor(readonly options: ProposalSizerOptions) {
    this.cap = Math.max(options.minBytes, Math.floor(options.maxBytes / 4));
  }

  /** Bytes of transactions for the next proposal. */
  bytesMax(): number {
    return this.cap;
  }

  /** A block of `hash` was proposed or arrived for validation at `nowMs` (the first sight counts). */
  seen(hash: string, nowMs: number): void {
    if (!this.seenAt.has(hash)) this.seenAt.set(hash, nowMs);
    if (this.seenAt.size > 64) this.seenAt.delete(this.seenAt.keys().next().value!);
  }

  /** The block of `hash`, carrying `txBytes` of transactions, committed at `nowMs`. */
  committed(hash: string, txBytes: number, nowMs: number): void {
    const since = this.seenAt.get(hash);
    this.seenAt.clear();
    if (since === undefined) return; // synced, never seen deciding
    const tookMs = Math.max(1, nowMs - since);
    const { targetMs, minBytes, maxBytes } = this.options;
    if (tookMs > targetMs) this.cap = Math.max(minBytes, Math.min(this.cap, Math.floor((txBytes * targetMs * 0.9) / tookMs)));
    else if (txBytes >= this.cap * 0.75) this.cap = Math.min(maxBytes, Math.floor(this.cap * 1.25));
  }
}
