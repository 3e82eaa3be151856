// A reading's provenance (BRIEF §7, clause 8.7): every link from the device to a finalized block,
// with the material a client needs to check each link itself and this gateway's own verdict.
//
//   device      signed the COSE_Sign1 (RFC 9052 §4.4) with the key enrolled on chain
//   gateway     co-signed a Merkle root over (digest, receivedAtMs) leaves; the audit path puts
//               this reading's leaf under that root (shared/attestation.ts, RFC 6962 §2.1.1)
//   block       holds the batch transaction: an audit path from the transaction to the header's txRoot
//   certificate a quorum of the validators that certified that block signed its hash
//   state       the chain state at the head commits to the reading, in two steps
//               (gateway/chain/reading-proof.ts): the device's record is under the head's state
//               root (sparse Merkle proof); the record's log frontier gives the root of the
//               device's RFC 6962 reading log, and an audit path puts the reading's log leaf,
//               cbor([sequence, digest, height, gatewayId, receivedAtMs]), under that root
import { attestedLeaf, readingProof, verifyReadingProof, type AttestedReading } from "../../shared/attestation.ts";
import { decode } from "../../shared/cbor.ts";
import { verifyEd25519 } from "../../shared/ed25519.ts";
import { inclusionProof, leafHash, verifyInclusion } from "../../shared/merkle.ts";
import { readingDigest, sigStructure, verifyReading } from "../../shared/reading.ts";
import type { BlockHeader } from "../chain/block.ts";
import { commitMessage, decodeCertificate } from "../chain/certificate.ts";
import type { Chain } from "../chain/chain.ts";
import { logRoot, readingLeafData } from "../chain/device-log.ts";
import { quorumOf } from "../chain/dpos.ts";
import { validatorSetHash } from "../chain/execute.ts";
import { stateKey } from "../chain/keys.ts";
import { verifyStateProof } from "../chain/proof.ts";
import { proveReading, verifyReadingPresent } from "../chain/reading-proof.ts";
import { deviceCodec, type Device, type ReadingRecord, type ValidatorSet } from "../chain/records.ts";
import type { BlockReader } from "./block-reader.ts";
import { notFound } from "./errors.ts";
import type { ChainQueries, ReadingIndexRow } from "./queries.ts";
import { certificateView, headerView, hex, readingView } from "./views.ts";

/** Which set certified a block: its header names the set's hash; the chain keeps the last two. */
function certifyingSet(chain: Chain, header: BlockHeader): ValidatorSet | undefined {
  const state = chain.state();
  for (const set of [state.validators(), state.previousValidators()]) {
    if (set && Buffer.compare(validatorSetHash(set), header.validatorSetHash) === 0) return set;
  }
  return undefined;
}

/** Checks each signature of a stored certificate and whether they make a quorum of the block's set. */
export function certificateCheck(chain: Chain, header: BlockHeader, hash: Uint8Array, bytes: Uint8Array | null) {
  if (!bytes) return { present: false as const, valid: false, signers: [], quorum: null, setSize: null };
  let cert;
  try {
    cert = decodeCertificate(bytes);
  } catch {
    return { present: true as const, valid: false, signers: [], quorum: null, setSize: null };
  }
  const state = chain.state();
  const message = commitMessage(chain.chainId, cert.height, cert.round, cert.blockHash);
  const set = certifyingSet(chain, header);
  const signers = cert.signatures.map((s) => {
    const candidate = state.candidate(s.validatorId);
    const valid = candidate !== undefined && verifyEd25519(chain.keys.get(candidate.publicKey), message, s.signature);
    const inSet = set?.validators.some((v) => Buffer.compare(v.id, s.validatorId) === 0) ?? false;
    return { validatorId: hex(s.validatorId), valid, inSet };
  });
  const quorum = set ? quorumOf(set.validators.length) : null;
  const counted = signers.filter((s) => s.valid && s.inSet).length;
  const matches = cert.height === header.height && Buffer.compare(cert.blockHash, hash) === 0;
  return { present: true as const, valid: matches && quorum !== null && counted >= quorum, round: cert.round, signers, quorum, setSize: set?.validators.length ?? null };
}

function decodeDevice(value: Uint8Array | undefined): Device | undefined {
  if (!value) return undefined;
  try {
    return deviceCodec.from(decode(value));
  } catch {
    return undefined;
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/**
 * The state link, in the chain's two steps against the head's state root: the device's record
 * (state proof), then the reading's entry in the device's log (audit path to the root of the
 * record's frontier). `valid` is the chain's own verifier (verifyReadingPresent) and the entry being
 * this reading: the indexed row's sequence, digest, height, gateway and receipt time, and the
 * digest of the COSE bytes served.
 */
function readingState(chain: Chain, deviceId: Uint8Array, sequence: number, row: ReadingIndexRow, coseDigest: Uint8Array) {
  const proof = proveReading(chain, deviceId, sequence);
  const head = chain.head();
  if (proof.height !== head.height) throw new Error(`reading proof at height ${proof.height} but the head is ${head.height}`);
  const key = stateKey.device(deviceId);
  const record = decodeDevice(proof.device.value);
  const deviceValid = proof.device.value !== undefined && record !== undefined && verifyStateProof(head.header, key, proof.device.value, proof.device.proof);

  const entry = proof.entries.length === 1 && proof.entries[0].reading.sequence === sequence ? proof.entries[0] : undefined;
  let log = null;
  let matches = false;
  if (entry && record) {
    const r: ReadingRecord = entry.reading;
    const leafData = readingLeafData(r);
    const leaf = leafHash(leafData);
    const root = logRoot(record.logFrontier);
    matches = r.sequence === row.sequence && sameBytes(r.digest, row.digest) && r.height === row.height && sameBytes(r.gatewayId, row.gatewayId) && r.receivedAtMs === row.receivedAtMs && sameBytes(r.digest, coseDigest);
    log = {
      record: { sequence: r.sequence, digest: hex(r.digest), height: r.height, gatewayId: hex(r.gatewayId), receivedAtMs: r.receivedAtMs },
      leafData: hex(leafData),
      leaf: hex(leaf),
      index: entry.index,
      size: record.readings,
      auditPath: entry.path.map(hex),
      frontier: record.logFrontier.map(hex),
      root: hex(root),
      matchesReading: matches,
      valid: verifyInclusion(leaf, entry.index, record.readings, entry.path, root),
    };
  }
  const present = verifyReadingPresent(head.header, deviceId, sequence, proof) !== undefined;

  return {
    atHeight: head.height,
    stateRoot: hex(head.header.stateRoot),
    device: {
      key,
      value: proof.device.value ? hex(proof.device.value) : null,
      siblings: proof.device.proof.siblings.map(hex),
      terminal: proof.device.proof.terminal ? { keyHash: hex(proof.device.proof.terminal.keyHash), valueHash: hex(proof.device.proof.terminal.valueHash) } : null,
      valid: deviceValid,
    },
    log,
    valid: present && matches,
  };
}

export function readingProvenance(chain: Chain, queries: ChainQueries, reader: BlockReader, deviceId: Uint8Array, sequence: number) {
  const row = queries.reading(deviceId, sequence);
  if (!row) throw notFound("READING_NOT_FOUND", `device ${hex(deviceId)} has no finalized reading with sequence ${sequence}; it may still be pending, or never received`);
  const located = reader.reading(row.height, row.txIndex, row.position);
  const block = reader.block(row.height);
  if (!located || !block) throw new Error(`index row ${hex(deviceId)}/${sequence} points at a missing reading (block ${row.height}, tx ${row.txIndex}, position ${row.position})`);
  const { reading, tx, attached } = located;
  const state = chain.state();

  const device = state.device(deviceId);
  const deviceSignatureValid = device !== undefined && verifyReading(reading, chain.keys.get(device.publicKey));

  const batch = tx.body.kind === "readingBatch" ? tx.body : undefined;
  if (!batch) throw new Error(`transaction ${hex(tx.id)} holding reading ${hex(deviceId)}/${sequence} is not a batch`);
  const leaves: AttestedReading[] = batch.readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs }));
  const leaf = leaves[row.position];
  const path = readingProof(leaves, row.position);
  const coSignatureValid = verifyReadingProof(batch.attestation, chain.keys.get(tx.author), leaf, row.position, path);

  const txLeaves = block.txs.map(leafHash);
  const txPath = inclusionProof(txLeaves, row.txIndex);
  const txIncluded = verifyInclusion(txLeaves[row.txIndex], row.txIndex, txLeaves.length, txPath, block.header.txRoot);

  const certificate = certificateCheck(chain, block.header, block.hash, block.certificate);
  const next = reader.block(row.height + 1);
  const canonical = next?.lastCommit ? Buffer.compare(next.lastCommit, block.certificate ?? new Uint8Array()) === 0 : null;

  const stateLink = readingState(chain, deviceId, sequence, row, readingDigest(attached.bytes));

  return {
    reading: { ...readingView(row, reading), cose: hex(attached.bytes) },
    device: {
      id: hex(deviceId),
      publicKey: device ? hex(device.publicKey) : null,
      algorithm: "EdDSA (Ed25519, COSE alg -8)",
      signature: hex(reading.signature),
      signedBytes: hex(sigStructure(reading.protectedBytes, reading.payloadBytes)),
      valid: deviceSignatureValid,
    },
    gateway: {
      id: hex(batch.attestation.gatewayId),
      publicKey: hex(tx.author),
      attestation: { version: batch.attestation.version, count: batch.attestation.count, root: hex(batch.attestation.root), signature: hex(batch.attestation.signature) },
      leafIndex: row.position,
      leaf: hex(attestedLeaf(leaf)),
      merklePath: path.map(hex),
      valid: coSignatureValid,
    },
    block: {
      header: headerView(block.header, block.hash),
      txId: hex(tx.id),
      txIndex: row.txIndex,
      txCount: block.txs.length,
      txLeaf: hex(txLeaves[row.txIndex]),
      txMerklePath: txPath.map(hex),
      txIncluded,
    },
    certificate: { ...certificate, canonical, decoded: certificateView(block.certificate) },
    state: stateLink,
    verified: deviceSignatureValid && coSignatureValid && txIncluded && certificate.valid && stateLink.valid,
  };
}
