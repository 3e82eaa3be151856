// Defaults of the SQLite chain store, in one place.

export interface StoreOptions {
  /** Decoded state values kept in memory (by key); hot accounts and devices hit it. */
  stateCacheMax: number;
  /** Sparse Merkle nodes kept in memory; the upper levels of the tree are read by every update. */
  nodeCacheMax: number;
  /**
   * SQLite page cache, KiB: an upper bound, filled as pages are read (a small chain's file never
   * fills it). With storage schema 7 the pages a block touches at scale are the tails of the
   * place-keyed tables, the recent readings' trees, one sixteenth of the devices' merged entries, and
   * the state and tree nodes: about 256 MiB at 1 M stored readings. bench:chain on a quiet machine,
   * apply at 1,052,672 stored against the empty chain, alternating pairs: 78%, 84%, 89% with 64 MiB,
   * 101% and 102% with 256 MiB (README bench:chain). Cost: up to this much memory per gateway.
   */
  pageCacheKiB: number;
  /**
   * FULL: a commit is on disk before commitBlock returns, so a finalized block survives power
   * loss too, not only a killed process. NORMAL would survive kill -9 but not a power cut.
   */
  synchronous: "FULL" | "NORMAL";
  /**
   * WAL pages after which a commit copies the WAL back into the file (SQLite's wal_autocheckpoint).
   * Each block dirties some pages again that the last one dirtied (the tails of the place-keyed
   * tables, the recent readings' trees, state and tree nodes): a WAL that holds several blocks copies
   * such a page back once for all of them (bench/chain-pages.ts). With storage schema 7 a
   * 4,096-reading block at 1 M stored writes ~1,700 pages (schema 6: ~6,300), so this WAL holds
   * about 20 such blocks. Cost: up to this many pages of WAL on disk (32,768 x 4 KiB = 128 MiB,
   * plus the last transaction) and a checkpoint of that size (~110 ms) on the commit that
   * reaches it.
   */
  walCheckpointPages: number;
  readonly: boolean;
}

export const storeDefaults: StoreOptions = {
  stateCacheMax: 200_000,
  nodeCacheMax: 1_000_000,
  pageCacheKiB: 256 * 1024,
  synchronous: "FULL",
  walCheckpointPages: 32_768,
  readonly: false,
};

/** The one database file of a gateway, inside its data directory. */
export const chainDbFileName = "chain.sqlite";
