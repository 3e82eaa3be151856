// Gossiped reading batches, verified off the consensus thread. A validator admits each batch a peer
// gossips, and admission used to verify every reading's device signature synchronously: bench:net's
// profiles put 27% of a validator's main thread there at 4 validators. Here the readings are verified
// on libuv's thread pool (node:crypto's verify with a callback) before the mempool sees the batch, which
// then skips them; admissions still happen one at a time in arrival order, so an author's nonces stay in
// sequence. Everything else (envelope, attestation, state checks) is the mempool's as before.
import type { KeyObject } from "node:crypto";
import { toHex, verifyEd25519Async } from "../../shared/ed25519.ts";
import { decodeReading, readingDigest, sigStructure } from "../../shared/reading.ts";
import { decodeTx, type DecodedTx } from "../../shared/tx.ts";
import { verifiedReadings } from "../../shared/verified-readings.ts";
import type { Chain } from "../chain/chain.ts";
import type { Mempool } from "../chain/mempool.ts";

/** Hex digests of the batch's readings whose signatures verify under their enrolled device's key. */
export async function preverifyReadings(chain: Chain, tx: DecodedTx): Promise<Set<string>> {
  const verified = new Set<string>();
  if (tx.body.kind !== "readingBatch") return verified;
  const state = chain.state();
  // A batch holds many readings of few devices: each device record is read once.
  const keys = new Map<string, { raw: Uint8Array; key: KeyObject } | null>();
  const keyOf = (deviceId: Uint8Array): { raw: Uint8Array; key: KeyObject } | null => {
    const id = toHex(deviceId);
    let key = keys.get(id);
    if (key === undefined) {
      const device = state.device(deviceId);
      key = device ? { raw: device.publicKey, key: chain.keys.get(device.publicKey) } : null;
      keys.set(id, key);
    }
    return key;
  };
  await Promise.all(
    tx.body.readings.map(async ({ bytes }) => {
      let reading;
      try {
        reading = decodeReading(bytes);
      } catch {
        return; // the mempool gives the reading its outcome
      }
      const key = keyOf(reading.deviceId);
      if (!key) return;
      // Once per process: this gateway's own ingest, or an earlier copy, may have verified it already.
      const digest = readingDigest(bytes);
      if (verifiedReadings.has(digest, key.raw) || (await verifyEd25519Async(key.key, sigStructure(reading.protectedBytes, reading.payloadBytes), reading.signature))) {
        verifiedReadings.add(digest, key.raw);
        verified.add(toHex(digest));
      }
    }),
  );
  return verified;
}

/** Admits peers' transactions into the mempool in arrival order, each batch's readings verified in parallel first. */
export class OrderedAdmission {
  private tail: Promise<unknown> = Promise.resolve();

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
    const verified = tx ? preverifyReadings(this.chain, tx) : Promise.resolve(new Set<string>());
    const admitted = this.tail.then(async () => {
      const set = await verified;
      try {
        this.mempool.add(tx ?? bytes, Date.now(), set); // decoded once
        return true;
      } catch {
        return false;
      }
    });
    this.tail = admitted;
    return admitted;
  }
}
