// Single-validator block production (development, and `npm start` before PBFT): this gateway is
// the whole validator set, so a block is final when it is committed, with a one-signature
// certificate (certificate.ts). Each tick: pull readings from the ingest pipeline into batch
// transactions, build a block from the mempool, commit it, tell ingest which readings made it.
//
// Time: the only clock read is the injected `clock`, and a block's time is max(clock, parent + 1)
// so block times strictly increase even if the wall clock steps back.
import type { AttachedReading, DecodedTx } from "../../shared/tx.ts";
import { toHex } from "../../shared/ed25519.ts";
import type { Chain, ChainHead } from "./chain.ts";
import { encodeCertificate, signSoloCertificate } from "./certificate.ts";
import { ChainError } from "./errors.ts";
import type { Identity } from "./keyfile.ts";
import type { Mempool } from "./mempool.ts";
import { producerDefaults, type ProducerOptions } from "./options.ts";
import { submitReadingBatch, type ReadingRefusal } from "./reading-batch.ts";

/** What the ingest pipeline's pending store offers (gateway/ingest). */
export interface PendingReadingSource {
  /**
   * Up to `max` accepted readings not yet on chain, oldest first. Readings handed out before and
   * not yet resolved may come again (gateway/ingest's store does so, to survive crashes); the
   * producer skips those it carries. Each one comes back through markIncluded or markRejected.
   */
  takeBatch(max: number): ({ id: number | string } & AttachedReading)[];
  /** The readings are in the committed block at `height`. */
  markIncluded(ids: (number | string)[], height: number): void;
  /** The chain will never take these readings (code and message say why). */
  markRejected?(ids: (number | string)[], code: string, message: string): void;
}

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
  source?: PendingReadingSource;
  options?: Partial<ProducerOptions>;
  onBlock?: (b: ProducedBlock) => void;
  onError?: (e: unknown) => void;
}

export class SoloProducer {
  readonly options: ProducerOptions;
  /** Ingest ids carried by each pending batch transaction, by transaction id. */
  private readonly inFlight = new Map<string, (number | string)[]>();
  private timer: NodeJS.Timeout | undefined;
  private lastBlockAtMs = 0;

  constructor(private readonly deps: ProducerDeps) {
    this.options = { ...producerDefaults, ...deps.options };
    const validators = deps.chain.validators().validators;
    if (validators.length !== 1 || Buffer.compare(validators[0].id, deps.identity.id) !== 0) {
      throw new ChainError("PRODUCER_NOT_SOLE_VALIDATOR", `single-validator mode needs this gateway (${toHex(deps.identity.id)}) to be the only validator; the set has ${validators.length}. Run PBFT instead.`);
    }
  }

  /** Moves readings from the ingest pipeline into batch transactions. */
  private pullReadings(nowMs: number): void {
    const source = this.deps.source;
    if (!source) return;
    const max = Math.min(this.options.ingestBatchMax, this.deps.chain.params().batchReadingsMax);
    for (let i = 0; i < this.options.ingestBatchesPerBlock; i++) {
      // In-flight readings are the oldest pending ones: ask for that many more, skip them.
      const carried = new Set([...this.inFlight.values()].flat());
      const items = source.takeBatch(max + carried.size).filter((r) => !carried.has(r.id)).slice(0, max);
      if (items.length === 0) return;
      const s = submitReadingBatch(this.deps.mempool, this.deps.identity, items, nowMs);
      if (s.tx) this.inFlight.set(toHex(s.tx.id), s.included.map((k) => items[k].id));
      this.reportRefused(items, s.refused);
      if (items.length < max) return;
    }
  }

  private reportRefused(items: { id: number | string }[], refused: ReadingRefusal[]): void {
    const byCode = new Map<string, { ids: (number | string)[]; message: string }>();
    for (const r of refused) {
      const g = byCode.get(r.code) ?? { ids: [], message: r.message };
      g.ids.push(items[r.index].id);
      byCode.set(r.code, g);
    }
    for (const [code, g] of byCode) this.deps.source?.markRejected?.(g.ids, code, g.message);
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
    let readings = 0;
    for (const [i, tx] of pending.execution.txs.entries()) {
      readings += pending.execution.readings[i].length;
      const ids = this.inFlight.get(toHex(tx.id));
      if (ids) this.deps.source?.markIncluded(ids, committed.height);
      this.inFlight.delete(toHex(tx.id));
    }
    for (const r of rejected) {
      const ids = this.inFlight.get(toHex(r.tx.id));
      if (ids) this.deps.source?.markRejected?.(ids, r.error.code, r.error.message);
      this.inFlight.delete(toHex(r.tx.id));
    }
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
      this.timer = setTimeout(loop, this.deps.chain.params().blockIntervalMs);
    };
    this.timer = setTimeout(loop, this.deps.chain.params().blockIntervalMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
