// Gossiped reading batches, verified off the consensus thread. A validator admits each batch a peer
// gossips, and admission used to verify every reading's device signature synchronously: bench:net's
// profiles put 27% of a validator's main thread there at 4 validators. Here the readings are verified
// on libuv's thread pool (node:crypto's verify with a callback) before the mempool sees the batch, which
// then skips them; admissions still happen one at a time in arrival order, so an author's nonces stay in
// sequence. Everything else (envelope, attestation, state checks) is the mempool's as before; the
// envelope and attestation it verifies are remembered for the process (gateway/chain/verified-txs.ts).
import type { KeyObject } from "node:crypto";
import { toLatin1 } from "../../shared/byte-strings.ts";
import { verifyEd25519Async } from "../../shared/ed25519.ts";
import { sigStructure } from "../../shared/reading.ts";
import { decodedReadings } from "../../shared/decoded-readings.ts";
import { decodeTx, type DecodedTx } from "../../shared/tx.ts";
import { verifiedReadings } from "../../shared/verified-readings.ts";
import type { Chain } from "../chain/chain.ts";
import type { Mempool } from "../chain/mempool.ts";

/** A reading of a batch whose signature this process has not verified yet, with what verifying it takes. */
export interface UnverifiedReading {
  digest: Uint8Array;
  publicKey: Uint8Array;
  key: KeyObject;
  message: Uint8Array;
  signature: Uint8Array;
}

/**
 * Splits a batch's readings into those this process verified already (shared/verified-readings.ts:
 * its own ingest, an earlier copy) and those to verify, under their enrolled device's key. Readings
 * that do not decode or name no enrolled device are in neither: execution gives them their outcome.
 */
export function batchReadings(chain: Chain, tx: DecodedTx): { known: Uint8Array[]; unverified: UnverifiedReading[] } {
  const known: Uint8Array[] = [];
  const unverified: UnverifiedReading[] = [];
  if (tx.body.kind !== "readingBatch") return { known, unverified };
  const state = chain.state();
  // A batch holds many readings of few devices: each device record is read once.
  const keys = new Map<string, { raw: Uint8Array; key: KeyObject } | null>();
  const keyOf = (deviceId: Uint8Array): { raw: Uint8Array; key: KeyObject } | null => {
    const id = toLatin1(deviceId);
    let key = keys.get(id);
    if (key === undefined) {
      const device = state.deviceView(deviceId);
      key = device ? { raw: device.publicKey, key: chain.keys.get(device.publicKey) } : null;
      keys.set(id, key);
    }
    return key;
  };
  for (const { bytes } of tx.body.readings) {
    let decoded;
    try {
      decoded = decodedReadings.decode(bytes, (kid) => state.deviceIdOfKid(kid));
    } catch {
      continue;
    }
    const { reading, digest } = decoded;
    const key = keyOf(reading.deviceId);
    if (!key) continue;
    if (verifiedReadings.has(digest, key.raw)) known.push(digest);
    else unverified.push({ digest, publicKey: key.raw, key: key.key, message: sigStructure(reading.protectedBytes, reading.payloadBytes), signature: reading.signature });
  }
  return { known, unverified };
}

/**
 * Verifies readings on libuv's thread pool; those that verify join the process's verified set. A
 * reading already being verified (its batch's gossip admission, when a proposal carries it) is not
 * verified again: its verification under way is awaited. Resolves to the digests that verified.
 */
export async function verifyReadingsAsync(readings: UnverifiedReading[]): Promise<Uint8Array[]> {
  const ok = await Promise.all(readings.map((r) => verifiedReadings.verifyOnce(r.digest, r.publicKey, () => verifyEd25519Async(r.key, r.message, r.signature))));
  return readings.filter((_, i) => ok[i]).map((r) => r.digest);
}

/** Digests of the batch's readings whose signatures verify under their enrolled device's key (all now in verified-readings.ts). */
export async function preverifyReadings(chain: Chain, tx: DecodedTx): Promise<Uint8Array[]> {
  const { known, unverified } = batchReadings(chain, tx);
  return [...known, ...(await verifyReadingsAsync(unverified))];
}

/** Admits peers' transactions into the mempool in arrival order, each batch's readings verified in parallel first. */
export class OrderedAdmission {
  private tail: Promise<unknown> = Promise.resolve();
  /** Admissions received and not yet settled (verifying, or queued behind an earlier one). */
  private inFlight = 0;

  constructor(
    private readonly chain: Chain,
    private readonly mempool: Mempool,
  ) {}

  admit(bytes: Uint8Array): Promise<boolean> {
    let tx: DecodedTx | undefined;
    try {
      tx = decodeTx(bytes);
    } catch {
      tx = undefined; // the mempool refuses it with its reason
    }
    // Readings that verify join the process's verified set, where admission then finds them.
    const verified = tx ? preverifyReadings(this.chain, tx) : Promise.resolve();
    this.inFlight++;
    const admitted = this.tail.then(async () => {
      await verified;
      try {
        this.mempool.add(tx ?? bytes, Date.now()); // decoded once
        return true;
      } catch {
        return false;
      } finally {
        this.inFlight--;
      }
    });
    this.tail = admitted;
    return admitted;
  }

  /**
   * Resolves once every admission received so far has settled, or after `waitMs`, whichever comes
   * first; at once when none is under way. Later arrivals are not waited for. Resolves to the
   * milliseconds waited (0 when nothing was in flight).
   */
  settled(waitMs: number): Promise<number> {
    if (this.inFlight === 0 || waitMs <= 0) return Promise.resolve(0);
    const since = performance.now();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(performance.now() - since);
      };
      const timer = setTimeout(done, waitMs);
      this.tail.then(done, done);
    });
  }
}
