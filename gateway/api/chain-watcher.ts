// Notices each newly finalized block once, in height order, and tells its listeners (the SSE
// stream, the metrics). Pushed by the consensus source when it can (ConsensusSource.onFinalized),
// and polled as a fallback, so the API works the same over the solo producer and PBFT.
//
// A listener that throws is logged and kept; a burst of blocks (a node catching up by sync) is
// bounded: only the last `replayBlocksMax` heights are announced, the rest are skipped.
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import { decodeHeader, type BlockHeader } from "../chain/block.ts";
import type { ConsensusSource } from "./consensus-source.ts";
import type { ContractEventRow } from "../storage/contract-index.ts";
import type { ChainQueries, DeviceTxRow, ReadingIndexRow } from "./queries.ts";

export interface FinalizedBlock {
  height: number;
  hash: Uint8Array;
  header: BlockHeader;
  txs: number;
  bodyBytes: number;
  /** Index rows of the block's readings (at most readingsPerEventMax). */
  readings: ReadingIndexRow[];
  /** Contract events the block's runs emitted (at most contractEventsPerBlockMax), from the events index. */
  contractEvents: ContractEventRow[];
  /** Transactions of the block that may change a device's status (revoke, report, lift). */
  deviceTxs: DeviceTxRow[];
  /** When this gateway saw it finalized, and how long after its header time. */
  observedAtMs: number;
  finalityMs: number;
}

/** Readings per block carried by one event; a block holds at most a few batches of 4,096. */
export const readingsPerEventMax = 20_000;
/** Contract events per block carried by the stream (the index has them all: GET /v1/contracts/:id/events). */
export const contractEventsPerBlockMax = 1000;
const latencyWindow = 32;

export class ChainWatcher {
  private last: number;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly listeners = new Set<(b: FinalizedBlock) => void>();
  private readonly latenciesMs: number[] = [];

  constructor(
    private readonly deps: { chain: Chain; queries: ChainQueries; consensus?: ConsensusSource; clock: () => number; log: Logger },
    private readonly options: { pollMs: number; replayBlocksMax: number },
  ) {
    this.last = deps.chain.head().height;
  }

  start(): void {
    this.unsubscribe = this.deps.consensus?.onFinalized?.(() => this.check());
    this.timer = setInterval(() => this.check(), this.options.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  on(listener: (b: FinalizedBlock) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Finality latency of the last few blocks, for the head view and the dashboard. */
  recentFinality(): { blocks: number; meanMs: number | null; lastMs: number | null } {
    const n = this.latenciesMs.length;
    if (n === 0) return { blocks: 0, meanMs: null, lastMs: null };
    return { blocks: n, meanMs: Math.round(this.latenciesMs.reduce((a, b) => a + b, 0) / n), lastMs: this.latenciesMs[n - 1] };
  }

  /** Announces every block finalized since the last check. Safe to call at any time. */
  check(): void {
    const head = this.deps.chain.head().height;
    if (head <= this.last) return;
    const from = Math.max(this.last + 1, head - this.options.replayBlocksMax + 1);
    const nowMs = this.deps.clock();
    for (let h = from; h <= head; h++) {
      const b = this.load(h, nowMs);
      this.last = h;
      if (!b) continue;
      this.latenciesMs.push(b.finalityMs);
      if (this.latenciesMs.length > latencyWindow) this.latenciesMs.shift();
      for (const l of this.listeners) {
        try {
          l(b);
        } catch (e) {
          this.deps.log.error({ err: e, height: h }, "finalized-block listener failed");
        }
      }
    }
  }

  /** A finalized block as an event (also used to replay past blocks to reconnecting clients). */
  load(height: number, observedAtMs: number): FinalizedBlock | undefined {
    const stored = this.deps.chain.store.block(height);
    if (!stored) return undefined;
    const header = decodeHeader(stored.header);
    const rows = this.deps.queries.blocks(height, height, 1, "asc");
    return {
      height,
      hash: stored.hash,
      header,
      txs: rows[0]?.txs ?? 0,
      bodyBytes: stored.body.length,
      readings: this.deps.queries.readingsOfBlock(height, readingsPerEventMax),
      contractEvents: this.deps.queries.contractEventsOfBlock(height, contractEventsPerBlockMax),
      deviceTxs: this.deps.queries.deviceTxsOfBlock(height),
      observedAtMs,
      finalityMs: Math.max(0, observedAtMs - header.timeMs),
    };
  }
}
