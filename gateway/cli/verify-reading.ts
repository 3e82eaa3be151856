// The client's check of one reading's provenance (GET /v1/devices/{id}/readings/{seq}), trusting only
// the network's genesis and commit certificates (`mote device verify`). What it proves is the
// reading's digest is final on chain; and, while the reading has not expired, that the device signed
// the bytes served:
//
//   1. head     the light client walks the epochs from genesis and checks the head's certificate
//   2. device   the device's record by its sparse Merkle proof against the head's state root
//   3. reading  (not expired) the COSE_Sign1 bytes are this device's and verify under its key; the
//               digest is SHA-256 of them. Expired (docs/expiry.md): the bytes are gone on every
//               gateway; the digest is the one the log leaf names, and step 4 is what proves it
//   4. log      the leaf cbor([sequence, digest, height, gateway, received]) is in the device's log
//               under the record's frontier, so under the certified state root
import { decode } from "../../shared/cbor.ts";
import { fromHex, PublicKeyCache, sha256, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import { leafHash, verifyInclusion } from "../../shared/merkle.ts";
import { decodeReading, provenKidResolver, verifyReading, type SignedReading } from "../../shared/reading.ts";
import type { BlockHeader } from "../chain/block.ts";
import { logRoot, readingLeafData } from "../chain/device-log.ts";
import { stateKey } from "../chain/keys.ts";
import { verifyStateProof } from "../chain/proof.ts";
import { deviceCodec, type ValidatorSet } from "../chain/records.ts";
import { LightClientError, trustHead, type EpochTransitionHex } from "../consensus/light-client.ts";

export class ReadingVerifyError extends MoteError {}

type Hex = string;

/** The parts of a provenance this check reads (gateway/api/provenance.ts). */
export interface ReadingProvenanceWire {
  reading: { deviceId: Hex; sequence: number; cose: Hex | null; expired?: boolean };
  state: {
    atHeight: number;
    device: { value: Hex | null; siblings: Hex[]; terminal: { keyHash: Hex; valueHash: Hex } | null };
    log: { record: { sequence: number; digest: Hex; height: number; gatewayId: Hex; receivedAtMs: number }; index: number; auditPath: Hex[] } | null;
  };
  epochs: { transitions: EpochTransitionHex[]; complete: boolean; head: { height: number; header: Hex; certificate: Hex | null } };
}

export interface ReadingVerifyReport {
  deviceId: Hex;
  sequence: number;
  digest: Hex;
  /** The bytes are gone (expired): only the digest was proven, not the device's signature. */
  expired: boolean;
  height: number;
  headHeight: number;
  /** The decoded reading whose signature verified; absent when it expired. */
  reading?: SignedReading;
}

const keys = new PublicKeyCache(64);
const fail = (code: string, message: string): never => {
  throw new ReadingVerifyError(code, message);
};

export async function verifyReadingProvenance(input: {
  provenance: ReadingProvenanceWire;
  genesis: { header: BlockHeader; validators: ValidatorSet };
  moreTransitions?: (fromEpoch: number) => Promise<{ items: EpochTransitionHex[]; next: number | null }>;
}): Promise<ReadingVerifyReport> {
  const p = input.provenance;
  let head: BlockHeader;
  try {
    head = (await trustHead(input.genesis, p.epochs, p.epochs.head, input.moreTransitions ?? (() => fail("VERIFY_HEAD", "the epoch walk is not complete and no gateway was given to page it")))).header;
  } catch (e) {
    if (e instanceof LightClientError) return fail("VERIFY_HEAD", `the head does not check from genesis: ${e.code}: ${e.message}`);
    throw e;
  }
  if (p.state.atHeight !== head.height) fail("VERIFY_STATE", `the state proof is at height ${p.state.atHeight}, the certified head is ${head.height}`);
  const deviceId = fromHex(p.reading.deviceId);
  const d = p.state.device;
  const value = d.value === null ? undefined : fromHex(d.value);
  const smt = { siblings: d.siblings.map(fromHex), terminal: d.terminal ? { keyHash: fromHex(d.terminal.keyHash), valueHash: fromHex(d.terminal.valueHash) } : null };
  if (!value || !verifyStateProof(head, stateKey.device(deviceId), value, smt)) fail("VERIFY_DEVICE", `device ${p.reading.deviceId}: no record proven against the head's state root`);
  const device = deviceCodec.from(decode(value!));

  const log = p.state.log ?? fail("VERIFY_LOG", "no log entry for the reading");
  let digest: Uint8Array;
  let reading: SignedReading | undefined;
  if (p.reading.cose !== null) {
    const cose = fromHex(p.reading.cose);
    try {
      reading = decodeReading(cose, provenKidResolver(deviceId, device.shortKid));
    } catch (e) {
      return fail("VERIFY_READING", `the reading's COSE bytes do not decode: ${(e as Error).message}`);
    }
    if (Buffer.compare(reading.deviceId, deviceId) !== 0 || reading.sequence !== p.reading.sequence) fail("VERIFY_READING", `the COSE bytes are not reading ${p.reading.deviceId}/${p.reading.sequence}`);
    if (!verifyReading(reading, keys.get(device.publicKey))) fail("VERIFY_READING", "the device's signature does not verify under its enrolled key");
    digest = sha256(cose);
  } else {
    if (p.reading.expired !== true) fail("VERIFY_READING", "the gateway served no bytes for a reading it does not say expired");
    digest = fromHex(log.record.digest);
  }
  const record = { sequence: p.reading.sequence, digest, height: log.record.height, gatewayId: fromHex(log.record.gatewayId), receivedAtMs: log.record.receivedAtMs };
  const leaf = leafHash(readingLeafData(record));
  if (!verifyInclusion(leaf, log.index, device.readings, log.auditPath.map(fromHex), logRoot(device.logFrontier))) fail("VERIFY_LOG", `the reading's log leaf is not in the device's log at index ${log.index}`);
  return { deviceId: p.reading.deviceId, sequence: p.reading.sequence, digest: toHex(digest), expired: p.reading.cose === null, height: record.height, headHeight: head.height, reading };
}
