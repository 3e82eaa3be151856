// Verifies a chain store copied from a peer (GET /v1/snapshot) from the genesis file alone, before a
// joining gateway uses it: it trusts nothing the peer says. The owning module of "a joined node's
// chain is the certified chain": each check below is one clause, and each failure is a typed
// SnapshotError naming it.
//
//   1 genesis      block 0 is the block the genesis file builds              SNAPSHOT_GENESIS
//   2 headers      every header from genesis links by hash, roots of stored
//                  (possibly pruned) bodies and results, certificate links     SNAPSHOT_CHAIN
//   3 certificates the light client's epoch walk from the genesis set, each
//                  epoch's last header by its certificate, then the tip's      SNAPSHOT_CERTIFICATE
//   4 state        the sparse Merkle tree rebuilt from the state rows alone
//                  gives the certified tip's state root; the stored tree is
//                  replaced by the rebuilt one (not trusted either)            SNAPSHOT_STATE
//   5 indexes      derived tables are dropped and rebuilt from bodies and
//                  results (recover.ts); each device's reading log rebuilt from
//                  the readings must give the frontier its certified record
//                  holds                                                       SNAPSHOT_INDEX
//
// Because headers link by hash up to a certified tip, the tip's certificate covers every header
// below it; 2 and 3 together are what a full node's sync would have checked, less the re-execution
// that pruned bodies no longer allow.
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { decodeCertificate, type Certificate } from "../../shared/consensus-messages.ts";
import { decodeHeader, headerHash, type BlockHeader } from "../chain/block.ts";
import { DeviceLogMismatch, rebuildDeviceLogs } from "../chain/device-log-rebuild.ts";
import { genesisBlock, type GenesisFile } from "../chain/genesis.ts";
import { keyHash, valueHash } from "../chain/keys.ts";
import { decodeStoredBody, isPrunedReading, isPrunedTx, type StoredBody } from "../chain/pruned-body.ts";
import type { ValidatorSet } from "../chain/records.ts";
import { recoverOnOpen, verifyChain } from "../chain/recover.ts";
import { MemoryNodeStore, smtApply } from "../chain/smt.ts";
import { State } from "../chain/state.ts";
import { LightClient } from "../consensus/light-client.ts";
import { ChainStore } from "../storage/chain-store.ts";
import { expirySchemaSql } from "../storage/expiry-store.ts";
import { SnapshotError, type SnapshotErrorCode } from "./errors.ts";

export interface SnapshotReport {
  tipHeight: number;
  tipHash: string;
  stateRoot: string;
  /** Epoch boundaries the light client walked across from genesis. */
  epochsWalked: number;
  stateKeys: number;
  devicesChecked: number;
  /** Blocks whose body expiry had pruned (they cannot be re-executed, only hash-checked). */
  prunedBlocks: number;
}

/**
 * Tables derived from bodies and results, or expiry's bookkeeping of the bodies (pruned_blocks,
 * expiry_cursor): never taken from a peer, rebuilt here.
 */
const derivedTables = ["txs", "readings", "readings_recent", "readings_merged", "reading_devices", "reading_values", "contract_runs", "contract_events", "contract_stats", "device_log", "expiry_cursor", "pruned_blocks"];

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** Runs one clause; anything it throws (a storage assertion, a decoder, the light client) fails it. */
function clause<T>(code: SnapshotErrorCode, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(code, `${what}: ${(e as Error).message}; nothing was installed, join from another peer`);
  }
}

/**
 * Verifies the chain store `<dir>/chain.sqlite` against `genesis` and rebuilds its derived tables in
 * place. Throws SnapshotError; on success the file is ready to be installed as a data directory's.
 */
export function verifySnapshot(dir: string, genesis: GenesisFile): SnapshotReport {
  const g = clause("SNAPSHOT_GENESIS", "the genesis file", () => genesisBlock(genesis));
  let store = clause("SNAPSHOT_MALFORMED", "the snapshot file", () => ChainStore.open(dir));
  try {
    const tip = clause("SNAPSHOT_MALFORMED", "the snapshot file", () => store.tip());
    if (!tip) throw new SnapshotError("SNAPSHOT_MALFORMED", "the snapshot holds no blocks; join from another peer");
    const block0 = clause("SNAPSHOT_CHAIN", "block 0", () => store.block(0));
    if (!block0 || !same(block0.hash, headerHash(g.header))) {
      throw new SnapshotError("SNAPSHOT_GENESIS", `the snapshot's genesis block ${block0 ? toHex(block0.hash) : "(none)"} is not ${toHex(headerHash(g.header))}, the one this genesis file builds: the peer runs another network`);
    }
    clause("SNAPSHOT_CHAIN", "the headers", () => verifyChain(store));
    const tipHeader = decodeHeader(store.block(tip.height)!.header);
    const epochsWalked = clause("SNAPSHOT_CERTIFICATE", `the certificates up to the tip ${tip.height}`, () => walkToTip(store, g.header, g.validators, tipHeader));
    const stateKeys = clause("SNAPSHOT_STATE", "the state", () => replaceStateTree(store, tipHeader));
    clause("SNAPSHOT_MALFORMED", "dropping the derived tables", () => dropDerived(store));
    store.close();
    store = ChainStore.open(dir);
    clause("SNAPSHOT_INDEX", "rebuilding the indexes from the bodies", () => recoverOnOpen(store));
    const devicesChecked = clause("SNAPSHOT_INDEX", "the device logs", () => rebuildLogs(store));
    const prunedBlocks = markPrunedBlocks(store, tip.height);
    rebuildExpiryCursors(store);
    return { tipHeight: tip.height, tipHash: toHex(tip.hash), stateRoot: toHex(tipHeader.stateRoot), epochsWalked, stateKeys, devicesChecked, prunedBlocks };
  } finally {
    store.close();
  }
}

/** A block's commit certificate: stored with it, else carried by the next block (bound by its header). */
function certificateAt(store: ChainStore, height: number): Certificate {
  const bytes = store.block(height)?.certificate ?? decodeStoredBody(store.block(height + 1)?.body ?? new Uint8Array()).lastCommit;
  if (!bytes) throw new SnapshotError("SNAPSHOT_CERTIFICATE", `block ${height} has no commit certificate in the snapshot; join from another peer`);
  return decodeCertificate(bytes);
}

/** Clause 3: genesis set → each epoch's last header → the tip, as a light client (light-client.ts). */
function walkToTip(store: ChainStore, genesisHeader: BlockHeader, genesisSet: ValidatorSet, tip: BlockHeader): number {
  const lc = new LightClient(genesisHeader, genesisSet);
  const state = new State(store);
  let epoch = genesisSet.epoch;
  let walked = 0;
  for (let h = 1; h <= tip.height; h++) {
    const header = decodeHeader(store.block(h)!.header);
    if (same(header.nextValidatorSetHash, header.validatorSetHash)) continue; // not an epoch's end
    lc.verify(header, certificateAt(store, h));
    const next = state.epochValidators(epoch + 1);
    if (!next) throw new SnapshotError("SNAPSHOT_CERTIFICATE", `epoch ${epoch} ended at block ${h} but the snapshot's state lacks the set of epoch ${epoch + 1}`);
    lc.learnNextSet(next); // checked against the header's nextValidatorSetHash
    epoch += 1;
    walked += 1;
  }
  if (tip.height > lc.height) lc.verify(tip, certificateAt(store, tip.height));
  return walked;
}

/** Clause 4: the tree from the state rows alone; the stored nodes are replaced by it. */
function replaceStateTree(store: ChainStore, tip: BlockHeader): number {
  const updates = [...store.stateEntries()].map(([key, value]) => ({ keyHash: keyHash(key), valueHash: valueHash(value) }));
  const { root, writes } = smtApply(new MemoryNodeStore(), updates);
  if (!same(root, tip.stateRoot)) {
    throw new SnapshotError("SNAPSHOT_STATE", `the snapshot's ${updates.length} state rows give root ${toHex(root)}, the certified tip ${tip.height} names ${toHex(tip.stateRoot)}: its state was altered; nothing was installed, join from another peer`);
  }
  const put = store.db.prepare("INSERT INTO smt_nodes (id, body) VALUES (?, ?)");
  store.db.transaction(() => {
    store.db.exec("DELETE FROM smt_nodes");
    for (const [id, body] of writes) if (body) put.run(Buffer.from(id, "latin1"), body);
    store.setMeta("state_root", root);
  })();
  return updates.length;
}

function dropDerived(store: ChainStore): void {
  store.db.exec(expirySchemaSql);
  store.db.transaction(() => {
    for (const t of derivedTables) store.db.exec(`DELETE FROM ${t}`);
    store.setMeta("index_height", Buffer.from("-1"));
    store.setMeta("contract_index_height", Buffer.from("-1"));
  })();
}

/** Clause 5: each device's log rebuilt from its readings rows must be the one its certified record commits to. */
function rebuildLogs(store: ChainStore): number {
  try {
    return rebuildDeviceLogs(store);
  } catch (e) {
    if (!(e instanceof DeviceLogMismatch)) throw e;
    throw new SnapshotError("SNAPSHOT_INDEX", `${e.message} (from the snapshot's block bodies); nothing was installed, join from another peer`);
  }
}

/** Expiry's record of pruned bodies, from the bodies themselves (chain.ts blockAt reads it). */
function markPrunedBlocks(store: ChainStore, tipHeight: number): number {
  const mark = store.db.prepare("INSERT INTO pruned_blocks (height, version) VALUES (?, 1)");
  let pruned = 0;
  store.db.transaction(() => {
    for (let h = 1; h <= tipHeight; h++) {
      if (!decodeStoredBody(store.block(h)!.body).txs.some(isPrunedTx)) continue;
      mark.run(h);
      pruned += 1;
    }
  })();
  return pruned;
}

/**
 * Expiry's cursors from the bodies: a device's readings are pruned in log order (expiry.ts), so its
 * cursor is the length of the prefix of its log whose readings the bodies hold pruned. The API and
 * the payload scan read "expired" from the cursor, so it must agree with the bodies from the start.
 */
function rebuildExpiryCursors(store: ChainStore): void {
  const rows = store.db.prepare<[Buffer], { height: number; tx_idx: number; pos: number }>("SELECT height, tx_idx, pos FROM device_readings WHERE device = ? ORDER BY log_idx");
  const setCursor = store.db.prepare("INSERT INTO expiry_cursor (device, log_idx) VALUES (?, ?)");
  let last: { height: number; body: StoredBody } | undefined; // a device's readings come in block order
  const prunedAt = store.db.prepare<[number], { version: number }>("SELECT version FROM pruned_blocks WHERE height = ?");
  const isPrunedAt = (r: { height: number; tx_idx: number; pos: number }): boolean => {
    if (!prunedAt.get(r.height)) return false;
    if (last?.height !== r.height) last = { height: r.height, body: decodeStoredBody(store.block(r.height)!.body) };
    const tx = last.body.txs[r.tx_idx];
    return tx !== undefined && isPrunedTx(tx) && tx.readings[r.pos] !== undefined && isPrunedReading(tx.readings[r.pos]);
  };
  store.db.transaction(() => {
    for (const [key] of [...store.stateEntries("device/")]) {
      const id = Buffer.from(fromHex(key.slice("device/".length)));
      let cursor = 0;
      for (const r of rows.all(id)) {
        if (!isPrunedAt(r)) break;
        cursor += 1;
      }
      if (cursor > 0) setCursor.run(id, cursor);
    }
  })();
}
