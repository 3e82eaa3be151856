// Transaction gossip towards the proposers (BRIEF §7, clause 7.2.1): a transaction admitted here
// (from the API, from this gateway's ingest as a reading batch, or from a peer) is sent to the
// validators that propose the next few heights, who put it in their mempools. Each transaction is
// relayed once (a bounded seen-set); a gateway re-sends its own pending transactions now and then,
// since a proposer that restarted lost its mempool and a nonce gap would stall the author.
import { createHash } from "node:crypto";

export interface GossipDeps {
  selfId: string;
  /** Validator ids proposing the next `count` heights (round 0), nearest first. */
  upcomingProposers(count: number): string[];
  send(peer: string, tx: Uint8Array): void;
  /** Puts a peer's transaction into the mempool; false when refused (invalid, duplicate, full). */
  admit(tx: Uint8Array): boolean | Promise<boolean>;
}

export class TxGossip {
  private readonly seen = new Map<string, true>();
  stats = { relayed: 0, admitted: 0, refused: 0, duplicates: 0 };

  constructor(
    private readonly deps: GossipDeps,
    readonly seenMax: number,
    readonly proposersAhead: number,
  ) {}

  /** A transaction this node admitted itself: send it on. */
  local(tx: Uint8Array): void {
    this.markSeen(tx);
    this.relay(tx, undefined);
  }

  fromPeer(peer: string, tx: Uint8Array): void {
    if (!this.markSeen(tx)) {
      this.stats.duplicates++;
      return;
    }
    const settle = (ok: boolean) => {
      if (!ok) {
        this.stats.refused++;
        return;
      }
      this.stats.admitted++;
      this.relay(tx, peer);
    };
    const admitted = this.deps.admit(tx);
    if (typeof admitted === "boolean") settle(admitted);
    else admitted.then(settle, () => settle(false));
  }

  /** Own transactions still pending: sent again regardless of the seen-set. */
  resend(txs: Uint8Array[]): void {
    for (const tx of txs) this.relay(tx, undefined);
  }

  private relay(tx: Uint8Array, from: string | undefined): void {
    for (const id of new Set(this.deps.upcomingProposers(this.proposersAhead))) {
      if (id === this.deps.selfId || id === from) continue;
      this.deps.send(id, tx);
      this.stats.relayed++;
    }
  }

  /** True when the transaction is new. */
  private markSeen(tx: Uint8Array): boolean {
    const key = createHash("sha256").update(tx).digest("base64");
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.seenMax) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, true);
    return true;
  }
}
