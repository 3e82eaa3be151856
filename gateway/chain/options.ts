// Node-local defaults of the chain subsystem, in one place (Lodestar habit). These are limits of
// this process, not consensus rules: consensus rules live in params.ts and are on chain.

export interface MempoolOptions {
  /** Transactions held at most; beyond it new ones are refused with MEMPOOL_FULL. */
  txsMax: number;
  /** Bytes held at most across all transactions. */
  bytesMax: number;
  /** Pending transactions one author may have queued (nonces in a row). */
  perAuthorMax: number;
}

export const mempoolDefaults: MempoolOptions = {
  txsMax: 20_000,
  bytesMax: 128 << 20,
  perAuthorMax: 1024,
};

export interface ProducerOptions {
  /** Produce a block even with no transactions after this long, so time and rewards advance. */
  emptyBlockIntervalMs: number;
}

export const producerDefaults: ProducerOptions = {
  emptyBlockIntervalMs: 10_000,
};

/** Election and list sizes that bound work at epoch boundaries. */
export const candidatesMax = 1000;
/** Unbonding entries maturing at one height (one per unstake transaction in a block). */
export const unbondingPerHeightMax = 100_000;
/** Evidence records kept per device; later reports only count. */
export const evidencePerDeviceMax = 64;
