// What a transaction sees of the block it is applied in. Everything here comes from the block
// header or from the state before the block, never from this node's clock or configuration, so a
// transaction's outcome is the same on every node.
import type { KeyObject } from "node:crypto";
import { toHex } from "../../shared/ed25519.ts";
import type { DecodedTx } from "../../shared/tx.ts";
import { PublicKeyCache } from "../../shared/ed25519.ts";
import type { LogNode } from "./device-log.ts";
import type { ChainParams } from "./params.ts";
import type { TxResult } from "./reading-outcome.ts";
import type { ValidatorSet } from "./records.ts";
import type { ContractBlockEnv } from "../contracts/apply-contracts.ts";
import type { SenmlRecord } from "../../shared/senml.ts";

export interface TxContext {
  chainId: string;
  height: number;
  /** The block's time (header), or the local clock when the mempool pre-checks. */
  timeMs: number;
  params: ChainParams;
  /** The validator set in force for this block. */
  validators: ValidatorSet;
  /** Parsed public keys, shared across blocks: parsing a key costs more than verifying with it. */
  keys: KeyCache;
  /**
   * True when the envelope signature and, for a batch, the attestation inside these exact
   * transaction bytes were already verified by this node, e.g. at mempool admission. Device
   * signatures are never skipped on this word: admission does not check a reading whose device
   * was unknown or inactive or whose reception lay in the future, and a later block may record it;
   * each reading is a look-up in shared/verified-readings.ts instead (apply-readings.ts). Verification is a pure
   * function of the bytes and of keys that never change for an id, so the cache is safe as long
   * as it is keyed by the whole transaction, signature included (verifiedKey), never by its id
   * alone: a proposer could otherwise pair a known id with a forged signature.
   */
  signaturesVerified(tx: DecodedTx): boolean;
  /** Readings on chain by (device, sequence): the store's, plus those of this block so far. */
  recorded: RecordedReadings;
  /**
   * The block's contract environment (gateway/contracts/apply-contracts.ts): parent hash, gas used
   * so far against blockGasMax, the subscriptions in force. Absent for a mempool trial run,
   * which then runs against a fresh one.
   */
  contracts?: ContractBlockEnv;
}

/** Where the reading rule learns the digest of a recorded sequence (duplicate or equivocation). */
export class RecordedReadings {
  // Every recorded reading is noted, and asked about only for a duplicate or an equivocation: the
  // notes are kept as they come, and indexed when something first asks.
  private readonly notes: { deviceId: Uint8Array; sequence: number; digest: Uint8Array }[] = [];
  private readonly inBlock = new Map<string, Uint8Array>();
  private indexed = 0;

  constructor(private readonly stored: (deviceId: Uint8Array, sequence: number) => Uint8Array | undefined) {}

  digest(deviceId: Uint8Array, sequence: number): Uint8Array | undefined {
    for (; this.indexed < this.notes.length; this.indexed++) {
      const n = this.notes[this.indexed];
      this.inBlock.set(`${toHex(n.deviceId)}/${n.sequence}`, n.digest);
    }
    return this.inBlock.get(`${toHex(deviceId)}/${sequence}`) ?? this.stored(deviceId, sequence);
  }

  /** A reading this block recorded (called once its transaction applied). */
  note(deviceId: Uint8Array, sequence: number, digest: Uint8Array): void {
    this.notes.push({ deviceId, sequence, digest });
  }
}

export interface KeyCache {
  get(raw: Uint8Array): KeyObject;
}

export const sharedKeyCache: KeyCache = new PublicKeyCache(200_000);

/** A reading as the derived index stores it (gateway/storage readings table). */
export interface IndexedReading {
  deviceId: Uint8Array;
  sequence: number;
  digest: Uint8Array;
  receivedAtMs: number;
  /** Position of the reading inside its batch transaction. */
  position: number;
  /** Position of the reading in its device's log (device-log.ts): arrival order on chain. */
  logIndex: number;
  /** Its SenML records as execution decoded them (the index keeps them: storage reading_values). */
  records: SenmlRecord[];
}

/** What applying one transaction produced beside its state writes. */
export interface TxEffects {
  fee: bigint;
  readings: IndexedReading[];
  /** Device log nodes its readings appended (stored with the block, outside the state tree). */
  logNodes: LogNode[];
  /** The transaction's result (reading-outcome.ts), committed to by the header's resultsRoot. */
  result: TxResult;
}

/** Cache key of a verified transaction: its id and its signature determine its bytes exactly. */
export function verifiedKey(tx: DecodedTx): string {
  return toHex(tx.id) + toHex(tx.signature);
}
