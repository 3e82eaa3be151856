// From accepted readings to a reading-batch transaction in the mempool: the bridge the ingest
// pipeline's pending store feeds. Readings the chain would refuse (unknown or inactive device,
// sequence already on chain or pending, malformed) are filtered out first with their reason, so
// one bad reading does not sink a gateway's whole batch; the rest is co-signed (one Ed25519
// signature over the batch's Merkle root, shared/attestation.ts), wrapped in a transaction
// signed by the same gateway key, and admitted with full verification.
import { attestBatch } from "../../shared/attestation.ts";
import { toHex } from "../../shared/ed25519.ts";
import { decodeReading, readingDigest, type SignedReading } from "../../shared/reading.ts";
import { signTx, txVersion, type AttachedReading, type DecodedTx } from "../../shared/tx.ts";
import { minimumFee } from "./apply-tx.ts";
import { TxRejected, type TxRejectCode } from "./errors.ts";
import type { Identity } from "./keyfile.ts";
import type { Mempool } from "./mempool.ts";
import { deviceStatus } from "./records.ts";

export interface ReadingRefusal {
  index: number;
  code: TxRejectCode;
  message: string;
}

export interface BatchSubmission {
  tx: DecodedTx | undefined;
  /** Indexes (into the input) of the readings the transaction carries. */
  included: number[];
  refused: ReadingRefusal[];
}

/** Retries after the mempool refuses one reading of a batch (its index is dropped each time). */
const resubmitsMax = 4;

function prefilter(mempool: Mempool, readings: AttachedReading[], nowMs: number): { keep: { index: number; reading: SignedReading }[]; refused: ReadingRefusal[] } {
  const state = mempool.chain.state();
  const params = state.params();
  const refused: ReadingRefusal[] = [];
  const decoded: { index: number; reading: SignedReading }[] = [];
  readings.forEach((r, index) => {
    try {
      decoded.push({ index, reading: decodeReading(r.bytes) });
    } catch (e) {
      refused.push({ index, code: "READING_MALFORMED", message: (e as Error).message });
    }
  });
  // Same device in sequence order, so a batch never carries a device's readings backwards.
  decoded.sort((a, b) => Buffer.compare(a.reading.deviceId, b.reading.deviceId) || a.reading.sequence - b.reading.sequence || a.index - b.index);
  const lastByDevice = new Map<string, number>();
  const keep: typeof decoded = [];
  for (const d of decoded) {
    const hex = toHex(d.reading.deviceId);
    const device = state.device(d.reading.deviceId);
    let last = lastByDevice.get(hex);
    if (last === undefined) last = mempool.deviceSequence(d.reading.deviceId);
    if (!device) refused.push({ index: d.index, code: "DEVICE_UNKNOWN", message: `device ${hex} is not enrolled` });
    else if (device.status !== deviceStatus.active) refused.push({ index: d.index, code: "DEVICE_NOT_ACTIVE", message: `device ${hex} is revoked or quarantined` });
    else if (d.reading.sequence <= last) refused.push({ index: d.index, code: "READING_SEQUENCE_REPLAY", message: `sequence ${d.reading.sequence} is not above ${last}` });
    else if (readings[d.index].receivedAtMs > nowMs + params.blockTimeDriftMaxMs) refused.push({ index: d.index, code: "READING_FROM_FUTURE", message: "received in the future" });
    else {
      keep.push(d);
      lastByDevice.set(hex, d.reading.sequence);
    }
  }
  return { keep, refused };
}

/**
 * Co-signs `readings` as one batch and adds it to the mempool. At most the chain's batchReadingsMax
 * readings: callers split larger sets.
 */
export function submitReadingBatch(mempool: Mempool, gateway: Identity, readings: AttachedReading[], nowMs: number): BatchSubmission {
  const chainId = mempool.chain.chainId;
  const params = mempool.chain.params();
  const { keep, refused } = prefilter(mempool, readings.slice(0, params.batchReadingsMax), nowMs);
  for (let i = params.batchReadingsMax; i < readings.length; i++) refused.push({ index: i, code: "BATCH_TOO_LARGE", message: `over ${params.batchReadingsMax} readings per batch; submit the rest in another batch` });
  let carried = keep;
  for (let attempt = 0; attempt <= resubmitsMax && carried.length > 0; attempt++) {
    const attached = carried.map((c) => readings[c.index]);
    const attestation = attestBatch(gateway.key, gateway.id, attached.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
    const body = { kind: "readingBatch" as const, attestation, readings: attached };
    const bytes = signTx(gateway.key, chainId, { version: txVersion, author: gateway.publicKey, nonce: mempool.nextNonce(gateway.id), fee: minimumFee(body, params), body });
    try {
      return { tx: mempool.add(bytes, nowMs), included: carried.map((c) => c.index), refused };
    } catch (e) {
      if (!(e instanceof TxRejected)) throw e;
      if (e.readingIndex === undefined || attempt === resubmitsMax) {
        for (const c of carried) refused.push({ index: c.index, code: e.code as TxRejectCode, message: e.message });
        return { tx: undefined, included: [], refused };
      }
      const bad = carried[e.readingIndex];
      refused.push({ index: bad.index, code: e.code as TxRejectCode, message: e.message });
      carried = carried.filter((_, i) => i !== e.readingIndex);
    }
  }
  return { tx: undefined, included: [], refused };
}
