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
//   epochs      the walk a light client needs to trust the block's set and the head from genesis
//               alone (gateway/consensus/light-client.ts): one transition per epoch, its last
//               header, that header's certificate and the set it announces (hashed by the client to
//               the header's nextValidatorSetHash); then the head and the block, each with its
//               certificate. The chain keeps every epoch's set (state `validators/epoch/<n>`), so a
//               reading from any epoch checks, not only from the last two.
import { attestedLeaf, decodeAttestation, readingProof, verifyReadingProof, type AttestedReading } from "../../shared/attestation.ts";
import { decode } from "../../shared/cbor.ts";
import { verifyEd25519 } from "../../shared/ed25519.ts";
import { inclusionProof, leafHash, verifyInclusion } from "../../shared/merkle.ts";
import { isPrunedReading, storedTxLeaf } from "../chain/pruned-body.ts";
import { readingDigest, sigStructure, verifyReading } from "../../shared/reading.ts";
import type { BlockHeader } from "../chain/block.ts";
import { commitMessage, decodeCertificate } from "../chain/certificate.ts";
import type { Chain } from "../chain/chain.ts";
import { logRoot, readingLeafData } from "../chain/device-log.ts";
import { epochOfHeight, quorumOf } from "../chain/dpos.ts";
import { validatorSetHash } from "../chain/execute.ts";
import { decodeHeader } from "../chain/block.ts";
import { encodeValidatorSet } from "../chain/state.ts";
import { decodeCertifiedHeader, decodeEpochTransition, LightClient, LightClientError, walkEpochs } from "../consensus/light-client.ts";
import { stateKey } from "../chain/keys.ts";
import { verifyStateProof } from "../chain/proof.ts";
import { proveReading, verifyReadingPresent } from "../chain/reading-proof.ts";
import { deviceCodec, type Device, type ReadingRecord, type ValidatorSet } from "../chain/records.ts";
import type { BlockReader } from "./block-reader.ts";
import { stateProofView } from "./contract-views.ts";
import { notFound } from "./errors.ts";
import type { ChainQueries, ReadingIndexRow } from "./queries.ts";
import { certificateView, headerView, hex, readingView } from "./views.ts";

/** Which set certified a block: the set of its epoch (the chain keeps every one), if it hashes to the header's. */
function certifyingSet(chain: Chain, header: BlockHeader): ValidatorSet | undefined {
  const state = chain.state();
  const set = state.epochValidators(epochOfHeight(header.height, state.params().epochBlocks));
  return set && Buffer.compare(validatorSetHash(set), header.validatorSetHash) === 0 ? set : undefined;
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
    // The key the set held when it certified; a candidate's current key only for outsiders.
    const member = set?.validators.find((v) => Buffer.compare(v.id, s.validatorId) === 0);
    const publicKey = member?.publicKey ?? state.candidate(s.validatorId)?.publicKey;
    const valid = publicKey !== undefined && verifyEd25519(chain.keys.get(publicKey), message, s.signature);
    return { validatorId: hex(s.validatorId), valid, inSet: member !== undefined };
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
    device: stateProofView(key, proof.device.value, proof.device.proof, deviceValid),
    log,
    valid: present && matches,
  };
}

/** The batch holding a reading, whole or pruned (gateway/chain/pruned-body.ts): what the gateway link needs. */
function batchOf(reader: BlockReader, height: number, txIndex: number) {
  const pruned = reader.prunedTx(height, txIndex);
  if (pruned) {
    return {
      txId: pruned.txId,
      author: pruned.author,
      attestation: decodeAttestation(pruned.attestation),
      leaves: pruned.readings.map((r): AttestedReading => ({ digest: isPrunedReading(r) ? r.digest : readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })),
    };
  }
  const tx = reader.tx(height, txIndex);
  if (!tx || tx.body.kind !== "readingBatch") return undefined;
  return { txId: tx.id, author: tx.author, attestation: tx.body.attestation, leaves: tx.body.readings.map((r): AttestedReading => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })) };
}

/**
 * A reading's provenance. Once the reading expired (gateway/chain/expiry.ts) its bytes are gone here:
 * `reading.expired` says so, `cose` and `device` are null, and the rest still proves its digest (the
 * gateway's attested root, the block's txRoot by the kept leaf hash, the device's log under the head).
 */
export function readingProvenance(chain: Chain, queries: ChainQueries, reader: BlockReader, deviceId: Uint8Array, sequence: number) {
  const row = queries.reading(deviceId, sequence);
  if (!row) throw notFound("READING_NOT_FOUND", `device ${hex(deviceId)} has no finalized reading with sequence ${sequence}; it may still be pending, or never received`);
  const located = reader.reading(row.height, row.txIndex, row.position);
  const block = reader.block(row.height);
  const batch = batchOf(reader, row.height, row.txIndex);
  const expired = !located && chain.expiry.isExpired(deviceId, row.logIndex);
  if ((!located && !expired) || !block || !batch) throw new Error(`index row ${hex(deviceId)}/${sequence} points at a missing reading (block ${row.height}, tx ${row.txIndex}, position ${row.position})`);
  const state = chain.state();

  const device = state.device(deviceId);
  const reading = located?.reading;
  const deviceSignatureValid = reading !== undefined && device !== undefined && verifyReading(reading, chain.keys.get(device.publicKey));

  const leaf = batch.leaves[row.position];
  const path = readingProof(batch.leaves, row.position);
  const coSignatureValid = Buffer.compare(leaf.digest, row.digest) === 0 && verifyReadingProof(batch.attestation, chain.keys.get(batch.author), leaf, row.position, path);

  const txLeaves = block.txs.map(storedTxLeaf);
  const txPath = inclusionProof(txLeaves, row.txIndex);
  const txIncluded = verifyInclusion(txLeaves[row.txIndex], row.txIndex, txLeaves.length, txPath, block.header.txRoot);

  const certificate = certificateCheck(chain, block.header, block.hash, block.certificate);
  const next = reader.block(row.height + 1);
  const canonical = next?.lastCommit ? Buffer.compare(next.lastCommit, block.certificate ?? new Uint8Array()) === 0 : null;

  const stateLink = readingState(chain, deviceId, sequence, row, located ? readingDigest(located.attached.bytes) : row.digest);
  const epochs = epochWalk(chain, row.height);
  const expiry = expired ? { expired: true, expiredAtMs: chain.expiry.expiresAtMs(deviceId, row.height) } : {};

  return {
    reading: { ...readingView(row, reading), ...expiry, cose: located ? hex(located.attached.bytes) : null },
    device:
      reading === undefined
        ? null
        : {
            id: hex(deviceId),
            publicKey: device ? hex(device.publicKey) : null,
            algorithm: "EdDSA (Ed25519, COSE alg -8)",
            signature: hex(reading.signature),
            signedBytes: hex(sigStructure(reading.protectedBytes, reading.payloadBytes)),
            valid: deviceSignatureValid,
          },
    gateway: {
      id: hex(batch.attestation.gatewayId),
      publicKey: hex(batch.author),
      attestation: { version: batch.attestation.version, count: batch.attestation.count, root: hex(batch.attestation.root), signature: hex(batch.attestation.signature) },
      leafIndex: row.position,
      leaf: hex(attestedLeaf(leaf)),
      merklePath: path.map(hex),
      valid: coSignatureValid,
    },
    block: {
      header: headerView(block.header, block.hash),
      txId: hex(batch.txId),
      txIndex: row.txIndex,
      txCount: block.txs.length,
      txLeaf: hex(txLeaves[row.txIndex]),
      txMerklePath: txPath.map(hex),
      txIncluded,
    },
    certificate: { ...certificate, canonical, decoded: certificateView(block.certificate) },
    state: stateLink,
    epochs,
    // An expired reading has no device signature left to check: its digest is what is proven.
    verified: (expired || deviceSignatureValid) && coSignatureValid && txIncluded && certificate.valid && stateLink.valid && epochs.valid !== false,
  };
}

/** A chain whose history lacks a set or block (one made before sets were archived per epoch). */
export class EpochHistoryMissing extends Error {}

/** Transitions served inline with a provenance; a longer history is paged through /v1/epochs. */
export const epochWalkInlineMax = 64;
/** Transitions per page of /v1/epochs. */
export const epochPageMax = 256;

/**
 * The hand-over at the end of each epoch in [fromEpoch, toEpoch): the epoch's last header (stored
 * bytes), its certificate, and the set it announces, which the chain archived (or holds as the
 * current set). A light client checks each against the previous one (walkEpochs); nothing here is
 * trusted.
 */
export function epochTransitions(chain: Chain, fromEpoch: number, toEpoch: number) {
  const state = chain.state();
  const epochBlocks = state.params().epochBlocks;
  const out = [];
  for (let epoch = fromEpoch; epoch < toEpoch; epoch++) {
    const height = (epoch + 1) * epochBlocks;
    const stored = chain.store.block(height);
    const nextSet = state.epochValidators(epoch + 1);
    if (!stored || !nextSet) throw new EpochHistoryMissing(`epoch ${epoch} ended at height ${height}, but this chain lacks ${stored ? `the set of epoch ${epoch + 1}` : "that block"}`);
    const setBytes = encodeValidatorSet(nextSet);
    out.push({ epoch, height, header: hex(stored.header), certificate: stored.certificate ? hex(stored.certificate) : null, nextSet: hex(setBytes), nextSetHash: hex(validatorSetHash(nextSet)) });
  }
  return out;
}

type Transition = ReturnType<typeof epochTransitions>[number];
type Certified = { height: number; header: string; certificate: string | null };

function storedCertified(chain: Chain, height: number): Certified {
  const b = chain.store.block(height);
  if (!b) throw new Error(`block ${height} is missing from the store`);
  return { height, header: hex(b.header), certificate: b.certificate ? hex(b.certificate) : null };
}

/**
 * This gateway runs the light client itself over what it serves, from its block 0 and the set of
 * epoch 0: the same check a client makes with its genesis file. Callers skip it while a
 * certificate is missing.
 */
function checkWalk(chain: Chain, transitions: Transition[], head: Certified, block: Certified): { valid: boolean; problem: string | null } {
  const genesisSet = chain.state().epochValidators(0);
  if (!genesisSet) throw new Error("the chain has no set for epoch 0");
  const bytes = (s: string) => Buffer.from(s, "hex");
  try {
    const lc = new LightClient(decodeHeader(chain.store.block(0)!.header), genesisSet);
    walkEpochs(lc, transitions.map((t) => decodeEpochTransition({ header: bytes(t.header), certificate: bytes(t.certificate ?? ""), nextSet: bytes(t.nextSet) })));
    const certified = (c: Certified) => decodeCertifiedHeader({ header: bytes(c.header), certificate: bytes(c.certificate ?? "") });
    const h = certified(head);
    if (head.height > lc.height) lc.verify(h.header, h.certificate);
    const b = certified(block);
    lc.checkCertified(b.header, b.certificate);
    return { valid: true, problem: null };
  } catch (e) {
    if (e instanceof LightClientError) return { valid: false, problem: `${e.code}: ${e.message}` };
    throw e;
  }
}

/**
 * What a light client needs to trust the reading's block and the head (whose state root the state
 * link is proven against) from genesis alone, bounded: at most epochWalkInlineMax transitions
 * inline; when the history is longer, `complete` is false and `/v1/epochs?from=<next>` pages on.
 */
export function epochWalk(chain: Chain, blockHeight: number) {
  const head = chain.head();
  const epochBlocks = chain.params().epochBlocks;
  const headEpoch = epochOfHeight(head.height, epochBlocks);
  const count = Math.min(headEpoch, epochWalkInlineMax);
  let transitions: Transition[] = [];
  let missing: string | null = null;
  try {
    transitions = epochTransitions(chain, 0, count);
  } catch (e) {
    if (!(e instanceof EpochHistoryMissing)) throw e;
    missing = e.message;
  }
  const headCertified = storedCertified(chain, head.height);
  const block = storedCertified(chain, blockHeight);
  const complete = missing === null && count === headEpoch;
  const certified = headCertified.certificate !== null && block.certificate !== null && transitions.every((t) => t.certificate !== null);
  const check = complete && certified ? checkWalk(chain, transitions, headCertified, block) : { valid: null, problem: missing ?? (complete ? "a certificate is not stored yet" : "more transitions than served inline") };
  return {
    epochBlocks,
    blockEpoch: epochOfHeight(blockHeight, epochBlocks),
    headEpoch,
    genesisHash: hex(chain.store.block(0)!.hash),
    transitions,
    complete,
    next: complete || missing !== null ? null : `/v1/epochs?from=${count}`,
    head: headCertified,
    block,
    /** This gateway's light-client check of exactly this material from its genesis; null when it could not run. */
    valid: check.valid as boolean | null,
    problem: check.problem,
  };
}
