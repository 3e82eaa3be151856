// Recovery and verification of a stored chain. SQLite's WAL already guarantees that a block and
// its state changes are on disk together or not at all; what remains to check on open is that the
// data is the chain we think it is:
//
//   recoverOnOpen   the tip's header hashes to its id and links to its parent; the stored sparse
//                   Merkle root equals the tip's state root; derived indexes lagging the tip are
//                   rebuilt from block bodies (and device logs from a rebuilt readings index).
//   verifyChain     every block from genesis: hash links, heights, time order, transaction roots,
//                   certificate links (lastCommitHash). Signatures and state roots need the
//                   validator sets and a re-execution: replay the blocks through Chain.validate.
import type { ChainStore } from "../storage/chain-store.ts";
import { StorageCorruption } from "../storage/errors.ts";
import { decodeHeader } from "./block.ts";
import { decodeStoredBody, storedTxRoot } from "./pruned-body.ts";
import { certificateHash } from "./certificate.ts";
import { contractRows, indexRowsFromStored } from "./index-rows.ts";
import { rebuildDeviceLogs } from "./device-log-rebuild.ts";
import { blockResultLeaves, resultsRootOf } from "./reading-outcome.ts";
import { smtRoot } from "./smt.ts";
import { kidResolverOf } from "./state.ts";

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StorageCorruption(message);
}

export function recoverOnOpen(store: ChainStore): { tipHeight: number; indexesRebuilt: number; contractIndexRebuilt: number } {
  const tip = store.tip();
  check(tip !== undefined, "chain store is empty after genesis");
  const b = store.block(tip.height)!;
  const header = decodeHeader(b.header);
  check(header.height === tip.height, `tip row ${tip.height} holds a header of height ${header.height}`);
  if (tip.height > 0) {
    const parent = store.block(tip.height - 1);
    check(parent !== undefined && Buffer.compare(parent.hash, header.previousHash) === 0, `tip ${tip.height} does not link to block ${tip.height - 1}`);
  }
  const root = smtRoot(store);
  check(Buffer.compare(root, header.stateRoot) === 0, `stored state root differs from the tip's header at ${tip.height}: the state tables are damaged; restore from a peer`);
  const recorded = store.meta("state_root");
  check(recorded !== undefined && Buffer.compare(recorded, root) === 0, "meta state_root differs from the tree's root");
  // The contract index first: a file migrated from schema 2 has it empty below every block.
  const contractIndexRebuilt = store.contractIndexHeight() < tip.height ? store.rebuildContractIndex((blk) => contractRows(blockResultLeaves(blk.results))) : 0;
  const indexesRebuilt = store.indexHeight() < tip.height ? store.rebuildIndexes((blk) => indexRowsFromStored(decodeStoredBody(blk.body).txs, blk.results, (id) => store.indexes.deviceReadingCount(id), kidResolverOf(store))) : 0;
  // A file migrated from storage schema 3 or older: its device logs are keyed by their readings'
  // places (storage schema 6), which the index rebuilt above now holds.
  if (store.meta("device_log_rebuild") !== undefined) {
    rebuildDeviceLogs(store);
    store.db.prepare("DELETE FROM meta WHERE key = 'device_log_rebuild'").run();
  }
  return { tipHeight: tip.height, indexesRebuilt, contractIndexRebuilt };
}

/** Verifies hash links and roots of blocks [0, tip]; returns the number of blocks checked. */
export function verifyChain(store: ChainStore): number {
  const tip = store.tip();
  check(tip !== undefined, "chain store is empty");
  let previousHash: Uint8Array = new Uint8Array(32);
  let previousTime = -1;
  for (let h = 0; h <= tip.height; h++) {
    const b = store.block(h);
    check(b !== undefined, `block ${h} is missing below the tip ${tip.height}`);
    const header = decodeHeader(b.header);
    const body = decodeStoredBody(b.body); // pruned or not: a pruned transaction keeps its leaf hash
    check(header.height === h, `block ${h} holds a header of height ${header.height}`);
    check(Buffer.compare(header.previousHash, previousHash) === 0 && Buffer.compare(b.previousHash, previousHash) === 0, `block ${h} does not link to block ${h - 1}`);
    check(header.timeMs > previousTime, `block ${h} time does not advance`);
    check(Buffer.compare(storedTxRoot(body.txs), header.txRoot) === 0, `block ${h} transactions do not match its root`);
    check(Buffer.compare(resultsRootOf(blockResultLeaves(b.results)), header.resultsRoot) === 0, `block ${h} results do not match its root`);
    if (h > 1) {
      check(body.lastCommit !== null && Buffer.compare(certificateHash(body.lastCommit), header.lastCommitHash) === 0, `block ${h} does not carry the certificate its header names`);
    }
    previousHash = b.hash;
    previousTime = header.timeMs;
  }
  return tip.height + 1;
}
