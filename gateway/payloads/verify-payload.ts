// The client's check of a payload and its proof chain (GET /v1/payloads/{sha256} and .../proof),
// trusting only the network's genesis (header and validator set) and commit certificates, not the
// gateway that served them:
//
//   1. bytes     SHA-256 of the bytes is the digest asked for
//   2. head      the light client (gateway/consensus/light-client.ts) walks the epochs from genesis and
//                checks the head's certificate: its state root is now trusted
//   3. device    the device's record by its sparse Merkle proof against that root: its public key and
//                the frontier of its reading log
//   4. reading   the COSE_Sign1 bytes decode, are this device's (kid) and verify under its key
//   5. log       the log leaf cbor([sequence, digest of those bytes, height, gateway, received]) is in the
//                device's log (audit path to the frontier's root): the reading is final on chain
//   6. anchor    the signed reading names the digest (shared/payload-anchor.ts) with the bytes' size
//
// One anchoring reading that passes all six is enough; any failure of the bytes throws, and a proof
// that fails is reported with its reason. PayloadVerifyError carries the code.
import { decode } from "../../shared/cbor.ts";
import { fromHex, PublicKeyCache, sha256, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import { leafHash, verifyInclusion } from "../../shared/merkle.ts";
import { payloadAnchors, type PayloadAnchor } from "../../shared/payload-anchor.ts";
import { decodeReading, provenKidResolver, readingDigest, verifyReading } from "../../shared/reading.ts";
import type { BlockHeader } from "../chain/block.ts";
import { logRoot, readingLeafData } from "../chain/device-log.ts";
import { stateKey } from "../chain/keys.ts";
import { verifyStateProof } from "../chain/proof.ts";
import { deviceCodec, type ReadingRecord, type ValidatorSet } from "../chain/records.ts";
import { LightClientError, trustHead, type EpochTransitionHex } from "../consensus/light-client.ts";

export class PayloadVerifyError extends MoteError {}

type Hex = string;
type TransitionWire = EpochTransitionHex;
type CertifiedWire = { height: number; header: Hex; certificate: Hex | null };

/** The parts of a reading's provenance (gateway/api/provenance.ts) this check reads. */
export interface ProvenanceWire {
  reading: { deviceId: Hex; sequence: number; cose: Hex };
  state: {
    atHeight: number;
    device: { value: Hex | null; siblings: Hex[]; terminal: { keyHash: Hex; valueHash: Hex } | null };
    log: { record: { sequence: number; digest: Hex; height: number; gatewayId: Hex; receivedAtMs: number }; index: number; auditPath: Hex[] } | null;
  };
  epochs: { transitions: TransitionWire[]; complete: boolean; head: CertifiedWire };
}

export interface PayloadProofWire {
  sha256: Hex;
  proofs: { anchor: { deviceId: Hex; sequence: number }; provenance: ProvenanceWire }[];
}

export interface PayloadVerifyInput {
  sha256: Hex;
  bytes: Uint8Array;
  proof: PayloadProofWire;
  genesis: { header: BlockHeader; validators: ValidatorSet };
  /** Pages of /v1/epochs from an epoch on, when a walk is not complete inline. */
  moreTransitions?: (fromEpoch: number) => Promise<{ items: TransitionWire[]; next: number | null }>;
}

export interface PayloadVerifyReport {
  sha256: Hex;
  bytes: number;
  /** Anchoring readings that verified, with the head height each was proven at. */
  verified: { deviceId: Hex; sequence: number; anchor: string; contentFormat: number; height: number; headHeight: number }[];
  failed: { deviceId: Hex; sequence: number; reason: string }[];
}

const keys = new PublicKeyCache(256);
const b = (s: Hex) => fromHex(s);
const same = (x: Uint8Array, y: Uint8Array) => Buffer.compare(x, y) === 0;

const fail = (code: string, message: string): never => {
  throw new PayloadVerifyError(code, message);
};

export async function verifyPayload(input: PayloadVerifyInput): Promise<PayloadVerifyReport> {
  const got = toHex(sha256(input.bytes));
  if (got !== input.sha256.toLowerCase()) fail("VERIFY_DIGEST", `the bytes hash to ${got}, not ${input.sha256}`);
  if (input.proof.sha256 !== got) fail("VERIFY_DIGEST", `the proof is for ${input.proof.sha256}, not ${got}`);
  const report: PayloadVerifyReport = { sha256: got, bytes: input.bytes.length, verified: [], failed: [] };
  for (const p of input.proof.proofs) {
    try {
      const r = await verifyAnchoringReading(input, p.provenance, got);
      report.verified.push(r);
    } catch (e) {
      if (!(e instanceof PayloadVerifyError)) throw e;
      report.failed.push({ deviceId: p.anchor.deviceId, sequence: p.anchor.sequence, reason: `${e.code}: ${e.message}` });
    }
  }
  if (report.verified.length === 0) fail("VERIFY_NO_ANCHOR", report.failed.length ? `no anchoring reading verifies: ${report.failed.map((f) => `${f.deviceId}/${f.sequence}: ${f.reason}`).join("; ")}` : "the proof holds no anchoring reading (not finalized yet?)");
  return report;
}

async function trustedHead(input: PayloadVerifyInput, epochs: ProvenanceWire["epochs"]): Promise<BlockHeader> {
  const more = input.moreTransitions ?? (() => fail("VERIFY_HEAD", "the epoch walk is not complete and no gateway was given to page it"));
  try {
    return (await trustHead(input.genesis, epochs, epochs.head, more)).header;
  } catch (e) {
    if (e instanceof LightClientError) fail("VERIFY_HEAD", `the head does not check from genesis: ${e.code}: ${e.message}`);
    throw e;
  }
}

async function verifyAnchoringReading(input: PayloadVerifyInput, p: ProvenanceWire, digestHex: Hex) {
  const head = await trustedHead(input, p.epochs);
  if (p.state.atHeight !== head.height) fail("VERIFY_STATE", `the state proof is at height ${p.state.atHeight}, the certified head is ${head.height}`);
  const deviceId = b(p.reading.deviceId);
  const d = p.state.device;
  const value = d.value === null ? undefined : b(d.value);
  const smt = { siblings: d.siblings.map(b), terminal: d.terminal ? { keyHash: b(d.terminal.keyHash), valueHash: b(d.terminal.valueHash) } : null };
  if (!value || !verifyStateProof(head, stateKey.device(deviceId), value, smt)) fail("VERIFY_DEVICE", `device ${p.reading.deviceId}: no record proven against the head's state root`);
  const device = deviceCodec.from(decode(value!));

  const cose = b(p.reading.cose);
  let reading;
  try {
    reading = decodeReading(cose, provenKidResolver(deviceId, device.shortKid));
  } catch (e) {
    return fail("VERIFY_READING", `the reading's COSE bytes do not decode: ${(e as Error).message}`);
  }
  if (!same(reading.deviceId, deviceId) || reading.sequence !== p.reading.sequence) fail("VERIFY_READING", `the COSE bytes are not reading ${p.reading.deviceId}/${p.reading.sequence}`);
  if (!verifyReading(reading, keys.get(device.publicKey))) fail("VERIFY_READING", "the device's signature does not verify under its enrolled key");

  const log = p.state.log;
  if (!log) fail("VERIFY_LOG", "no log entry for the reading");
  const record: ReadingRecord = { sequence: reading.sequence, digest: readingDigest(cose), height: log!.record.height, gatewayId: b(log!.record.gatewayId), receivedAtMs: log!.record.receivedAtMs };
  const leaf = leafHash(readingLeafData(record));
  if (!verifyInclusion(leaf, log!.index, device.readings, log!.auditPath.map(b), logRoot(device.logFrontier))) fail("VERIFY_LOG", `the reading's log leaf is not in the device's log at index ${log!.index}`);

  let anchors: PayloadAnchor[];
  try {
    anchors = payloadAnchors(reading.records);
  } catch (e) {
    return fail("VERIFY_ANCHOR", `the reading's anchors are malformed: ${(e as Error).message}`);
  }
  const anchor = anchors.find((a) => toHex(a.digest) === digestHex);
  if (!anchor) fail("VERIFY_ANCHOR", `the signed reading does not name ${digestHex}`);
  if (anchor!.bytes !== input.bytes.length) fail("VERIFY_ANCHOR", `the reading says ${anchor!.bytes} bytes; got ${input.bytes.length}`);
  return { deviceId: p.reading.deviceId, sequence: reading.sequence, anchor: anchor!.name, contentFormat: anchor!.contentFormat, height: record.height, headHeight: head.height };
}
