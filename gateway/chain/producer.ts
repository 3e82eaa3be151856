// Single-validator block production (development, and `npm start` before PBFT): this gateway is
// the whole validator set, so a block is final when it is committed, with a one-signature
// certificate (certificate.ts). Each tick: the reading feed (reading-feed.ts) turns pending
// readings into batch transactions, a block is built from the mempool and committed, and the feed
// settles each reading by its outcome, exactly as under PBFT.
//
// Time: the only clock read is the injected `clock`, and a block's time is max(clock, parent + 1)
// so block times strictly increase even if the wall clock steps back.
import type { DecodedTx } from "../../shared/tx.ts";
import { toHex } from "../../shared/ed25519.ts";
import type { Chain, ChainHead } from "./chain.ts";
import { encodeCertificate, signSoloCertificate } from "./certificate.ts";
import { ChainError } from "./errors.ts";
import type { Identity } from "./keyfile.ts";
import type { Mempool } from "./mempool.ts";
import type { NodeSigner } from "./node-signer.ts";
import { producerDefaults, type ProducerOptions } from "./options.ts";
import type { ReadingFeed } from "./reading-feed.ts";

export interface ProducedBlock {
  head: ChainHead;
  txs: number;
  readings: number;
  rejected: { tx: DecodedTx; code: string; message: string }[];
}

export interface ProducerDeps {
  chain: Chain;
  mempool: Mempool;
  identity: Identity;
  clock: () => number;
  /** This node's signer (its outbox); with `feed`, ingest's readings reach the chain. */
  signer?: NodeSigner;
  feed?: ReadingFeed;
  options?: Partial<ProducerOptions>;
  onBlock?: (b: ProducedBlock) => void;
  onError?: (e: unknown) => void;
}

export class SoloProducer {
  readonly options: ProducerOptions;
  private timer: NodeJS.Timeout | undefined;
  private lastBlockAtMs = 0;
  /** When the running loop ticks next (the feed flushes then), Unix ms; undefined when not started. */
  nextTickAtMs: number | undefined;

  constructor(private readonly deps: ProducerDeps) {
    this.options = { ...producerDefaults, ...deps.options };
    const validators = deps.chain.validators().validators;
    if (validators.length !== 1 || Buffer.compare(validators[0].id, deps.identity.id) !== 0) {
      throw new ChainError("PRODUCER_NOT_SOLE_VALIDATOR", `single-validator mode needs this gateway (${toHex(deps.identity.id)}) to be the only validator; the set has ${validators.length}. Run PBFT instead.`);
    }
  }

  /** Offers this node's own transactions again and moves pending readings into batches. */
  private pullReadings(nowMs: number): void {
    this.deps.signer?.offer(nowMs);
    this.deps.feed?.tick(nowMs);
  }

  /** Builds and commits one block now (even an empty one). */
  produce(): ProducedBlock {
    const nowMs = this.deps.clock();
    this.pullReadings(nowMs);
    return this.commitBlock(nowMs);
  }

  private commitBlock(nowMs: number): ProducedBlock {
    const { chain, mempool, identity } = this.deps;
    const head = chain.head();
    const params = chain.params();
    const timeMs = Math.max(nowMs, head.header.timeMs + 1);
    const { pending, rejected } = chain.build({ timeMs, proposer: identity.id, txs: mempool.take(params.blockTxsMax, params.blockBytesMax) });
    const cert = signSoloCertificate(identity.key, identity.id, chain.chainId, pending.block.header.height, pending.hash);
    const committed = chain.commit(pending, encodeCertificate(cert));
    mempool.onCommit(pending.execution.txs, rejected.map((r) => r.tx));
    const readings = pending.execution.readings.reduce((n, r) => n + r.length, 0);
    if (this.deps.feed) this.deps.feed.onCommitted(committed, pending);
    else this.deps.signer?.settle();
    this.lastBlockAtMs = nowMs;
    const produced = { head: committed, txs: pending.execution.txs.length, readings, rejected: rejected.map((r) => ({ tx: r.tx, code: r.error.code, message: r.error.message })) };
    this.deps.onBlock?.(produced);
    return produced;
  }

  /** One tick: a block if anything waits, or if the empty-block interval has passed. */
  tick(): ProducedBlock | undefined {
    const nowMs = this.deps.clock();
    this.pullReadings(nowMs);
    const due = nowMs - this.lastBlockAtMs >= this.options.emptyBlockIntervalMs;
    if (this.deps.mempool.size === 0 && !due) return undefined;
    return this.commitBlock(nowMs);
  }

  start(): void {
    if (this.timer) return;
    const loop = (): void => {
      try {
        this.tick();
      } catch (e) {
        this.deps.onError?.(e);
      }
      this.schedule(loop);
    };
    this.schedule(loop);
  }

  private schedule(loop: () => void): void {
    const intervalMs = this.deps.chain.params().blockIntervalMs;
    this.nextTickAtMs = this.deps.clock() + intervalMs;
    this.timer = setTimeout(loop, intervalMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.nextTickAtMs = undefined;
  }
}
