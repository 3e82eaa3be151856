// The consensus record a validator must not forget across a crash (TigerBeetle's rule: persist the
// vote before sending it). Without it a restarted validator could sign a second, different
// prepare or commit in a round it already voted in, or forget that it prepared a block and let a
// later round replace a block that may have been committed. It holds, for the undecided height:
//
//   record = [version = 1, height, round, prepared | null, [sent message...]]
//   prepared = [round, blockHash, block, prepareCertificate]
//   sent = every consensus message this node signed at this height (encoded), within the rounds window
//
// The node writes it (atomically, fsync'd) before any message of the same step leaves the process;
// a record for a height at or below the chain's tip is stale and ignored (the block is committed).
import { decode, encode } from "../../shared/cbor.ts";
import { certificateFromCbor, certificateToCbor, type Certificate } from "../../shared/consensus-messages.ts";
import { ConsensusError } from "./errors.ts";

export interface PreparedState {
  round: number;
  blockHash: Uint8Array;
  block: Uint8Array;
  certificate: Certificate;
}

export interface WalRecord {
  height: number;
  round: number;
  prepared: PreparedState | null;
  sent: Uint8Array[];
}

/** Where the record lives: a file for real nodes (wal-file.ts), a map entry in the simulator. */
export interface WalStore {
  load(): Uint8Array | undefined;
  /** Durable when it returns. */
  save(bytes: Uint8Array): void;
}

const walVersion = 1;

export function encodeWal(r: WalRecord): Uint8Array {
  const prepared = r.prepared ? [r.prepared.round, r.prepared.blockHash, r.prepared.block, certificateToCbor(r.prepared.certificate)] : null;
  return encode([walVersion, r.height, r.round, prepared, r.sent]);
}

export function decodeWal(bytes: Uint8Array, blockBytesMax: number): WalRecord {
  const fail = (what: string): never => {
    throw new ConsensusError("WAL_CORRUPT", `consensus record: ${what}; restore the data directory from a peer or remove consensus.wal to start the height afresh (only safe if this node has not voted in it)`);
  };
  let v;
  try {
    v = decode(bytes, { depthMax: 6, itemsMax: 4096, bytesMax: blockBytesMax + 4096 });
  } catch (e) {
    return fail(`not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 5 || v[0] !== walVersion) return fail(`unknown shape or version`);
  const [, height, round, p, sent] = v;
  if (typeof height !== "number" || typeof round !== "number" || !Array.isArray(sent) || !sent.every((s) => s instanceof Uint8Array)) return fail("bad fields");
  let prepared: PreparedState | null = null;
  if (p !== null) {
    if (!Array.isArray(p) || p.length !== 4 || typeof p[0] !== "number" || !(p[1] instanceof Uint8Array) || !(p[2] instanceof Uint8Array)) return fail("bad prepared state");
    try {
      prepared = { round: p[0], blockHash: p[1], block: p[2], certificate: certificateFromCbor(p[3]) };
    } catch (e) {
      return fail(`bad prepared certificate: ${(e as Error).message}`);
    }
  }
  return { height, round, prepared, sent: sent as Uint8Array[] };
}

/** In-memory store: the simulator's "disk", which survives its simulated crashes. */
export class MemoryWalStore implements WalStore {
  private bytes: Uint8Array | undefined;
  load(): Uint8Array | undefined {
    return this.bytes;
  }
  save(bytes: Uint8Array): void {
    this.bytes = bytes;
  }
}
