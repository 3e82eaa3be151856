// The proofs a verified answer carries (what verify.ts checks), built by the gateway from its chain
// at the head the statement read. Nothing new is proven here: it is the provenance endpoint's
// material (gateway/api/provenance.ts: the epoch walk, the device record's state proof, the
// reading's log audit path), shared by the rows of one answer instead of repeated per row, plus the
// range proofs of range-proof.ts.
//
//   head       the header every proof is against, and its commit certificate
//   epochs     the light-client walk from genesis to the head's epoch (provenance.ts epochWalk)
//   devices    each device the answer touches: its state record and sparse Merkle proof at the head
//   ranges     for each declared device sequence range: consecutive log leaves and outside hashes
//   rows       per answer row: the reading's COSE_Sign1 bytes, its log leaf fields and audit path
//              (null when a declared range already holds its leaf), or the block's header and certificate
import { decode } from "../../shared/cbor.ts";
import { fromHex } from "../../shared/ed25519.ts";
import { epochWalk } from "../api/provenance.ts";
import type { Chain } from "../chain/chain.ts";
import { logAuditPath } from "../chain/device-log.ts";
import { stateKey } from "../chain/keys.ts";
import { decodeStoredBody, isPrunedReading, isPrunedTx, type StoredTx } from "../chain/pruned-body.ts";
import { deviceCodec } from "../chain/records.ts";
import { readingDigest } from "../../shared/reading.ts";
import { batchReadingBytes } from "./batch-reading.ts";
import { SqlError } from "./errors.ts";
import type { ColumnOrigin } from "./guard.ts";
import { rangeSiblings, rangeWitnessGap } from "./range-proof.ts";
import type { RunAnswer } from "./run-statement.ts";
import { viewByName, type ViewSpec } from "./views.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** A device sequence range the client wants proven complete: every reading of `device` with from ≤ seq ≤ to. */
export interface DeclaredRange {
  device: string;
  from: number;
  to: number;
}

export interface LeafWire {
  seq: number;
  digest: string;
  height: number;
  gateway: string;
  receivedMs: number;
}

export interface RangeProofWire extends DeclaredRange {
  size: number;
  first: number;
  leaves: LeafWire[];
  siblings: string[];
}

export interface ReadingRowProof {
  cose: string;
  height: number;
  gateway: string;
  receivedMs: number;
  logIndex: number;
  path: string[] | null;
}

export interface RowProof {
  reading?: ReadingRowProof;
  block?: { header: string; certificate: string | null };
}

export interface SqlProof {
  head: { height: number; header: string; certificate: string | null };
  epochs: { epochBlocks: number; transitions: ReturnType<typeof epochWalk>["transitions"]; complete: boolean; next: string | null };
  devices: { id: string; value: string | null; siblings: string[]; terminal: { keyHash: string; valueHash: string } | null }[];
  ranges: RangeProofWire[];
  rows: RowProof[];
}

/** The plain view columns that identify a row of each provable view. */
export const identityColumns: Record<NonNullable<ViewSpec["provable"]>, string[]> = {
  reading: ["device", "seq"],
  "reading-value": ["device", "seq", "rec"],
  device: ["id"],
  block: ["height"],
};

export interface ProvableGroup {
  view: ViewSpec;
  kind: NonNullable<ViewSpec["provable"]>;
  /** Answer column index of each identity column. */
  identity: number[];
}

/**
 * Which views the answer's columns come from, and where their identity columns are. Throws
 * `fail(code, message)` for an answer that cannot be proven: a computed column, a view without
 * proofs, a missing identity column, a view used twice, readings and reading_values together.
 */
export function provableGroups<E extends Error>(origins: ColumnOrigin[], fail: (message: string) => E): ProvableGroup[] {
  const groups = new Map<string, ProvableGroup>();
  for (const c of origins) {
    if (!c.view || !c.column) throw fail(`column "${c.name}" is computed (an expression, aggregate or literal): only plain columns of readings, reading_values, devices and blocks can be proven`);
    const view = viewByName.get(c.view)!;
    if (!view.provable) throw fail(`column "${c.name}" comes from ${c.view}, which has no proofs: verify covers readings, reading_values, devices and blocks`);
    if (!groups.has(view.name)) groups.set(view.name, { view, kind: view.provable, identity: [] });
  }
  if (groups.has("readings") && groups.has("reading_values")) throw fail("readings and reading_values in one verified answer: select from one of them");
  for (const g of groups.values()) {
    for (const name of identityColumns[g.kind]) {
      const at = origins.flatMap((c, i) => (c.view === g.view.name && c.column === name ? [i] : []));
      if (at.length !== 1) throw fail(`a verified answer from ${g.view.name} needs its column ${name} exactly once (it identifies the row: ${identityColumns[g.kind].join(", ")})`);
      g.identity.push(at[0]);
    }
  }
  return [...groups.values()];
}

function deviceSize(chain: Chain, deviceId: Uint8Array): number {
  const value = chain.store.get(stateKey.device(deviceId));
  return value ? deviceCodec.from(decode(value)).readings : 0;
}

type LogRow = { seq: number; log_idx: number };

/** Leaves [first, last] with the witnesses of range-proof.ts at both ends. */
function rangeProof(chain: Chain, r: DeclaredRange, leavesMax: number): RangeProofWire {
  const db = chain.store.db;
  const device = Buffer.from(fromHex(r.device));
  const size = deviceSize(chain, device);
  const empty = { ...r, size, first: 0, leaves: [], siblings: [] };
  if (size === 0) return empty;
  const span = db.prepare<[Buffer, number, number], { lo: number | null; hi: number | null }>("SELECT min(log_idx) AS lo, max(log_idx) AS hi FROM device_readings WHERE device = ? AND seq BETWEEN ? AND ?").get(device, r.from, r.to)!;
  let lo = span.lo;
  let hi = span.hi;
  if (lo === null || hi === null) {
    // Nothing in the range: anchor at the nearest reading below it (or above), then widen as usual.
    const near = db.prepare<[Buffer, number], LogRow>("SELECT seq, log_idx FROM device_readings WHERE device = ? AND seq < ? ORDER BY seq DESC LIMIT 1").get(device, r.from) ?? db.prepare<[Buffer, number], LogRow>("SELECT seq, log_idx FROM device_readings WHERE device = ? AND seq > ? ORDER BY seq LIMIT 1").get(device, r.to)!;
    lo = hi = near.log_idx;
  }
  const tooLarge = () => new SqlError("SQL_RANGE_TOO_LARGE", `proving device ${r.device} complete over sequences ${r.from}..${r.to} takes more than ${leavesMax} log leaves (readings arrived far out of order, or the range is wide): narrow the range`);
  let first = 0;
  for (const row of db.prepare<[Buffer, number], LogRow>("SELECT seq, log_idx FROM device_readings WHERE device = ? AND log_idx <= ? ORDER BY log_idx DESC").iterate(device, lo)) {
    if (hi - row.log_idx + 1 > leavesMax) throw tooLarge();
    if (row.seq <= r.from - rangeWitnessGap) {
      first = row.log_idx;
      break;
    }
  }
  let last = size - 1;
  for (const row of db.prepare<[Buffer, number], LogRow>("SELECT seq, log_idx FROM device_readings WHERE device = ? AND log_idx >= ? ORDER BY log_idx").iterate(device, hi)) {
    if (row.log_idx - first + 1 > leavesMax) throw tooLarge();
    if (row.seq >= r.to + rangeWitnessGap) {
      last = row.log_idx;
      break;
    }
  }
  if (last - first + 1 > leavesMax) throw tooLarge();
  const leaves = db
    .prepare<[Buffer, number, number], { seq: number; digest: Buffer; height: number; gateway: Buffer; received_ms: number }>("SELECT seq, digest, height, gateway, received_ms FROM device_readings WHERE device = ? AND log_idx BETWEEN ? AND ? ORDER BY log_idx")
    .all(device, first, last)
    .map((l) => ({ seq: l.seq, digest: hex(l.digest), height: l.height, gateway: hex(l.gateway), receivedMs: l.received_ms }));
  if (leaves.length !== last - first + 1) throw new Error(`device ${r.device}: the readings index holds ${leaves.length} of log leaves ${first}..${last}`);
  return { ...r, size, first, leaves, siblings: rangeSiblings(chain.store, device, size, first, last).map(hex) };
}

function devicesProof(chain: Chain, ids: Iterable<string>): SqlProof["devices"] {
  return [...ids].map((id) => {
    const p = chain.prove(stateKey.device(fromHex(id)));
    return { id, value: p.value ? hex(p.value) : null, siblings: p.proof.siblings.map(hex), terminal: p.proof.terminal ? { keyHash: hex(p.proof.terminal.keyHash), valueHash: hex(p.proof.terminal.valueHash) } : null };
  });
}

export interface ProveLimits {
  rangeLeavesMax: number;
}

/** The proofs of `answer`, read at the chain's head (the caller makes sure the answer read that height). */
export function proveAnswer(chain: Chain, answer: RunAnswer, groups: ProvableGroup[], ranges: DeclaredRange[], o: ProveLimits): SqlProof {
  const head = chain.head();
  if (answer.height !== head.height) throw new Error(`answer read height ${answer.height}, the head is ${head.height}`);
  const devices = new Set<string>(ranges.map((r) => r.device));
  const rangeProofs = ranges.map((r) => rangeProof(chain, r, o.rangeLeavesMax));
  const covered = (device: string, logIndex: number) => rangeProofs.some((p) => p.device === device && p.leaves.length > 0 && logIndex >= p.first && logIndex < p.first + p.leaves.length);
  const sizes = new Map<string, number>();
  // Block bodies of this answer's readings (a body is up to a few MB; rows of one block share it).
  const bodies = new Map<number, StoredTx[]>();
  const coseOf = (height: number, txIndex: number, position: number): Uint8Array => {
    let txs = bodies.get(height);
    if (!txs) {
      const b = chain.store.block(height);
      if (!b) throw new Error(`block ${height} of an indexed reading is not stored`);
      txs = decodeStoredBody(b.body).txs;
      bodies.set(height, txs);
    }
    const tx = txs[txIndex];
    if (!isPrunedTx(tx)) return batchReadingBytes(tx, position);
    const r = tx.readings[position];
    if (isPrunedReading(r)) {
      throw new SqlError("SQL_NOT_PROVABLE", `the reading at block ${height}, transaction ${txIndex}, position ${position} expired: its bytes were pruned (docs/expiry.md); prove its digest through GET /v1/devices/{id}/readings/{seq}`);
    }
    return r.bytes;
  };
  const rows = answer.rows.map((row): RowProof => {
    const proof: RowProof = {};
    for (const g of groups) {
      const ids = g.identity.map((i) => row[i]);
      if (ids.some((v) => v === null)) throw new SqlError("SQL_NOT_PROVABLE", `a row's ${identityColumns[g.kind].join(", ")} is NULL (an outer join?): it cannot be proven`);
      if (g.kind === "reading" || g.kind === "reading-value") {
        const [device, seq] = ids as [string, number];
        devices.add(device);
        const found = chain.store.indexes.reading(fromHex(device), seq);
        if (!found) throw new SqlError("SQL_NOT_PROVABLE", `a row's device and seq (${device}/${seq}) name no reading on chain: rows made up by the statement (a UNION with literals, say) cannot be proven`);
        const cose = coseOf(found.height, found.txIndex, found.position);
        // The paired check: the bytes served are the ones whose digest the chain recorded.
        if (Buffer.compare(readingDigest(cose), found.digest) !== 0) throw new Error(`reading ${device}/${seq}: the batch entry at ${found.height}/${found.txIndex}/${found.position} does not hash to the indexed digest`);
        if (!sizes.has(device)) sizes.set(device, deviceSize(chain, fromHex(device)));
        const path = covered(device, found.logIndex) ? null : logAuditPath(chain.store, fromHex(device), found.logIndex, sizes.get(device)!).map(hex);
        proof.reading = { cose: hex(cose), height: found.height, gateway: hex(found.gatewayId), receivedMs: found.receivedAtMs, logIndex: found.logIndex, path };
      } else if (g.kind === "device") {
        devices.add(ids[0] as string);
      } else {
        const b = chain.store.block(ids[0] as number);
        if (!b) throw new SqlError("SQL_NOT_PROVABLE", `a row's height (${String(ids[0])}) names no stored block: rows made up by the statement cannot be proven`);
        proof.block = { header: hex(b.header), certificate: b.certificate ? hex(b.certificate) : null };
      }
    }
    return proof;
  });
  const walk = epochWalk(chain, head.height);
  return {
    head: walk.head,
    epochs: { epochBlocks: walk.epochBlocks, transitions: walk.transitions, complete: walk.complete, next: walk.next },
    devices: devicesProof(chain, devices),
    ranges: rangeProofs,
    rows,
  };
}
