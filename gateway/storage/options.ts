// Defaults of the SQLite chain store, in one place.

export interface StoreOptions {
  /** Decoded state values kept in memory (by key); hot accounts and devices hit it. */
  stateCacheMax: number;
  /** Sparse Merkle nodes kept in memory; the upper levels of the tree are read by every update. */
  nodeCacheMax: number;
  /** SQLite page cache, KiB. */
  pageCacheKiB: number;
  /**
   * FULL: a commit is on disk before commitBlock returns, so a finalized block survives power
   * loss too, not only a killed process. NORMAL would survive kill -9 but not a power cut.
   */
  synchronous: "FULL" | "NORMAL";
  readonly: boolean;
}

export const storeDefaults: StoreOptions = {
  stateCacheMax: 200_000,
  nodeCacheMax: 1_000_000,
  pageCacheKiB: 64 * 1024,
  synchronous: "FULL",
  readonly: false,
};

/** The one database file of a gateway, inside its data directory. */
export const chainDbFileName = "chain.sqlite";
