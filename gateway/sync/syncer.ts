// Block sync, the deciding part: which peer to ask for which blocks, and when to give up on it.
// Pure and deterministic (time comes in as an argument); the replica (gateway/consensus/replica.ts)
// sends the requests, verifies what comes back against the commit certificates, and applies it.
//
// A peer's tip is what it claims (status frames) or what its consensus messages imply (a message
// at height h means it holds h−1). A peer that lies costs one request timeout and a backoff.
import type { SyncOptions } from "./options.ts";

export interface SyncRequest {
  peer: string;
  from: number;
  count: number;
}

export class BlockSyncer {
  private readonly tips = new Map<string, number>();
  private readonly backoffUntilMs = new Map<string, number>();
  /** Failures in a row per peer: its backoff doubles with each (a peer that lies keeps lying). */
  private readonly failures = new Map<string, number>();
  private readonly lastAskedMs = new Map<string, number>();
  private inflight: (SyncRequest & { deadlineMs: number }) | null = null;
  /** A height consensus decided but whose block it lacks: ask even peers not known to be ahead. */
  private wanted = 0;

  constructor(private readonly options: SyncOptions) {}

  notePeerTip(peer: string, height: number): void {
    const known = this.tips.get(peer);
    if (known !== undefined && known >= height) return;
    if (known === undefined && this.tips.size >= this.options.peersMax) return;
    this.tips.set(peer, height);
  }

  forget(peer: string): void {
    this.tips.delete(peer);
    this.lastAskedMs.delete(peer);
    if (this.inflight?.peer === peer) this.inflight = null;
  }

  want(height: number): void {
    this.wanted = Math.max(this.wanted, height);
  }

  /** The peer failed us (timeout, empty answer, a block that does not verify): not asked for a while. */
  backoff(peer: string, nowMs: number): void {
    const failures = Math.min((this.failures.get(peer) ?? 0) + 1, 10);
    this.failures.set(peer, failures);
    this.backoffUntilMs.set(peer, nowMs + Math.min(this.options.peerBackoffMs * 2 ** (failures - 1), this.options.peerBackoffMaxMs));
    if (this.inflight?.peer === peer) this.inflight = null;
  }

  /** A response arrived from `peer`; an empty one counts as a failure. */
  answered(peer: string, blocks: number, nowMs: number): boolean {
    if (this.inflight?.peer !== peer) return false;
    this.inflight = null;
    if (blocks === 0) this.backoff(peer, nowMs);
    else this.failures.delete(peer);
    return true;
  }

  get busy(): boolean {
    return this.inflight !== null;
  }

  /** The next request to send, if one is due. `tip` is our chain's height. */
  poll(tip: number, nowMs: number): SyncRequest | undefined {
    if (this.inflight) {
      if (nowMs < this.inflight.deadlineMs) return undefined;
      this.backoff(this.inflight.peer, nowMs);
    }
    if (this.wanted <= tip) this.wanted = 0;
    // Among the peers ahead of us, the one asked longest ago: a peer that claims the highest tip
    // and never answers must not keep the honest ones from being asked.
    let best: { peer: string; tip: number; askedMs: number } | undefined;
    for (const [peer, peerTip] of this.tips) {
      if ((this.backoffUntilMs.get(peer) ?? 0) > nowMs) continue;
      if (!(peerTip > tip || (this.wanted > tip && peerTip >= tip))) continue;
      const askedMs = this.lastAskedMs.get(peer) ?? -Infinity;
      if (!best || askedMs < best.askedMs || (askedMs === best.askedMs && (peerTip > best.tip || (peerTip === best.tip && peer < best.peer)))) best = { peer, tip: peerTip, askedMs };
    }
    if (!best) return undefined;
    const count = Math.max(1, Math.min(this.options.requestBlocksMax, best.tip - tip));
    this.lastAskedMs.set(best.peer, nowMs);
    this.inflight = { peer: best.peer, from: tip + 1, count, deadlineMs: nowMs + this.options.requestTimeoutMs };
    return { peer: best.peer, from: tip + 1, count };
  }
}
