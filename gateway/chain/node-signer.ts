// Everything this node signs with its own key goes through here: allocated a nonce and stored by
// the outbox (tx-outbox.ts) first, then put in the local mempool and gossiped. Until the chain
// uses its nonce an entry is offered again, the same bytes: after a restart (the mempool is empty
// again), when the local mempool was full, and to peers every `regossipMs` in case they missed it.
import type { Logger } from "pino";
import { toHex } from "../../shared/ed25519.ts";
import type { DecodedTx, TxBody } from "../../shared/tx.ts";
import { LogThrottle } from "../log.ts";
import { minimumFee } from "./apply-tx.ts";
import type { Chain } from "./chain.ts";
import { TxRejected } from "./errors.ts";
import type { Mempool } from "./mempool.ts";
import type { OutboxEntry, TxOutbox } from "./tx-outbox.ts";
import { addSignedHere } from "./verified-txs.ts";

export interface NodeSignerOptions {
  /** Unconfirmed transactions are gossiped again after this long. */
  regossipMs: number;
}

export const nodeSignerDefaults: NodeSignerOptions = { regossipMs: 5_000 };

export class NodeSigner {
  private readonly gossipedAtMs = new Map<number, number>();
  private readonly throttle = new LogThrottle(1);
  readonly stats = { signed: 0, regossiped: 0, displaced: 0 };

  constructor(
    readonly chain: Chain,
    readonly mempool: Mempool,
    readonly outbox: TxOutbox,
    private readonly gossip: (bytes: Uint8Array) => void,
    private readonly log: Logger,
    private readonly options: NodeSignerOptions = nodeSignerDefaults,
  ) {}

  get id(): Uint8Array {
    return this.outbox.identity.id;
  }

  /**
   * Signs, stores, then offers `body`. The entry stays in the outbox until its nonce is used.
   * `attestedHere`: a reading batch whose attestation this node made with its own key over exactly
   * these readings (reading-feed.ts), so its local admission need not verify it (verified-txs.ts).
   */
  submit(body: TxBody, payload: { readingIds?: number[]; topic?: string }, nowMs: number, attestedHere = false): OutboxEntry {
    // Past anything of this key the mempool holds (e.g. a transaction submitted through the API).
    const entry = this.outbox.sign(body, minimumFee(body, this.chain.params()), this.mempool.nextNonce(this.id), payload, nowMs);
    addSignedHere(this.chain.chainId, entry.tx, this.outbox.identity, attestedHere);
    this.stats.signed++;
    this.offer(nowMs);
    return entry;
  }

  /** Unconfirmed entries, in nonce order. */
  unconfirmed(): OutboxEntry[] {
    return this.outbox.unconfirmed();
  }

  /**
   * Puts every unconfirmed entry missing from the mempool back in it, in nonce order, and gossips
   * what is new or has waited `regossipMs`. Stops at the first the mempool will not take now.
   */
  offer(nowMs: number): void {
    for (const e of this.outbox.unconfirmed()) {
      if (!this.mempool.has(e.tx.id)) {
        try {
          this.mempool.add(e.tx, nowMs); // decoded when signed: a 25-reading batch costs ~35 µs to decode again
        } catch (err) {
          if (!(err instanceof TxRejected)) throw err;
          // Full, or a nonce the chain has used meanwhile (settle drops it at the next commit).
          const suppressed = this.throttle.admit(err.code);
          if (suppressed !== undefined) this.log.warn({ nonce: e.nonce, tx: toHex(e.tx.id), code: err.code, reason: err.message, suppressed: suppressed || undefined }, "own transaction not admitted to the mempool yet; offered again later");
          return;
        }
      }
      const last = this.gossipedAtMs.get(e.nonce);
      if (last === undefined || nowMs - last >= this.options.regossipMs) {
        if (last !== undefined) this.stats.regossiped++;
        this.gossipedAtMs.set(e.nonce, nowMs);
        this.gossip(e.tx.bytes);
      }
    }
  }

  /**
   * After a commit: entries whose nonce the chain used leave the outbox. `settled` ones were
   * included (now or in a block this process did not see); `displaced` ones lost their nonce to
   * another transaction of this key and must be signed again by their owner.
   */
  settle(): { settled: OutboxEntry[]; displaced: OutboxEntry[] } {
    const nonce = this.chain.state().account(this.id).nonce;
    const r = this.outbox.settle(nonce, (tx: DecodedTx) => this.chain.store.indexes.txById(tx.id) !== undefined);
    for (const e of [...r.settled, ...r.displaced]) this.gossipedAtMs.delete(e.nonce);
    if (r.displaced.length > 0) {
      this.stats.displaced += r.displaced.length;
      this.log.warn({ nonces: r.displaced.map((e) => e.nonce) }, "own transactions displaced by another transaction of this key at their nonce; their contents will be signed again");
    }
    return r;
  }
}
