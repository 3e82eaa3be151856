// The client's check of a payload and its proof chain (GET /v1/payloads/{sha256} and .../proof),
// trusting only the network's genesis (header and validator set) and commit certificates, not the
// gateway that served them:
//
//   1. bytes     SHA-256 of the bytes is the digest asked for
//   2-5 are gateway/cli/verify-reading.ts (`mote device verify`), the same check a reading gets:
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
import { sha256, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import { payloadAnchors, type PayloadAnchor } from "../../shared/payload-anchor.ts";
import type { BlockHeader } from "../chain/block.ts";
import type { ValidatorSet } from "../chain/records.ts";
import type { EpochTransitionHex } from "../consensus/light-client.ts";
import { ReadingVerifyError, verifyReadingProvenance, type ReadingProvenanceWire, type ReadingVerifyReport } from "../cli/verify-reading.ts";

export class PayloadVerifyError extends MoteError {}

type Hex = string;
type TransitionWire = EpochTransitionHex;

/** The parts of a reading's provenance (gateway/api/provenance.ts) this check reads. */
export type ProvenanceWire = ReadingProvenanceWire;

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

/** Steps 2-5: the reading's provenance, by the same check `mote device verify` makes; its failures keep their codes. */
async function verifyAnchoringReading(input: PayloadVerifyInput, p: ProvenanceWire, digestHex: Hex) {
  let proven: ReadingVerifyReport;
  try {
    proven = await verifyReadingProvenance({ provenance: p, genesis: input.genesis, moreTransitions: input.moreTransitions });
  } catch (e) {
    if (e instanceof ReadingVerifyError) fail(e.code, e.message);
    throw e;
  }
  const reading = proven!.reading ?? fail("VERIFY_READING", `reading ${p.reading.deviceId}/${p.reading.sequence} expired: its bytes, and the anchor they held, are gone`);

  let anchors: PayloadAnchor[];
  try {
    anchors = payloadAnchors(reading.records);
  } catch (e) {
    return fail("VERIFY_ANCHOR", `the reading's anchors are malformed: ${(e as Error).message}`);
  }
  const anchor = anchors.find((a) => toHex(a.digest) === digestHex);
  if (!anchor) fail("VERIFY_ANCHOR", `the signed reading does not name ${digestHex}`);
  if (anchor!.bytes !== input.bytes.length) fail("VERIFY_ANCHOR", `the reading says ${anchor!.bytes} bytes; got ${input.bytes.length}`);
  return { deviceId: p.reading.deviceId, sequence: reading.sequence, anchor: anchor!.name, contentFormat: anchor!.contentFormat, height: proven!.height, headHeight: proven!.headHeight };
}
