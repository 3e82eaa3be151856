// A light verifier (BRIEF §7, clause 8.8): it trusts the genesis header and its validator set and
// nothing else, and checks any later header by its commit certificate. Each header names the set
// that certifies it (validatorSetHash) and the set after it (nextValidatorSetHash, different only at
// an epoch's last block; a set's hash covers its epoch, so it differs at every boundary), so the
// client walks epoch to epoch: within an epoch it may skip ahead to any header certified by the set
// it trusts; across a boundary it takes the new set from a header the old set certified, checked
// against that header's nextValidatorSetHash, and may then skip to any header of the new epoch.
// Once a header is trusted, state proofs against its stateRoot (gateway/chain/proof.ts) need
// nothing more.
//
//   const lc = new LightClient(genesisHeader, genesisSet);
//   lc.verify(header, certificate);                 // same epoch, any height ahead
//   lc.verify(laterInNextEpoch, cert, nextSet);     // the set announced by the trusted epoch-end header
//
// History: every set the client trusted is remembered (bounded), so a header behind the trusted one
// (a reading's block in epoch 0 while the client trusts the head in epoch 9) is checked with
// `checkCertified`. The walk a gateway serves (gateway/api/provenance.ts) is one transition per
// epoch, the epoch's last header, its certificate and the set it announces:
//
//   walkEpochs(lc, transitions.map(decodeEpochTransition));  // genesis → the head's epoch
//   lc.verify(head, headCertificate);                        // then the head, then old headers:
//   lc.checkCertified(readingBlockHeader, readingBlockCertificate);
import { checkCertificate, type CertificateMembers, type CertificateProblem } from "../../shared/consensus-certificate.ts";
import { decode } from "../../shared/cbor.ts";
import { decodeCertificate, type Certificate } from "../../shared/consensus-messages.ts";
import { fromHex, PublicKeyCache, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import { decodeHeader, headerHash, type BlockHeader } from "../chain/block.ts";
import { validatorSetHash } from "../chain/execute.ts";
import { validatorSetCodec, type ValidatorSet } from "../chain/records.ts";

export type LightClientErrorCode =
  | "LIGHT_CHAIN"
  | "LIGHT_BEHIND"
  | "LIGHT_LINK"
  | "LIGHT_SET_UNKNOWN"
  | "LIGHT_SET_MISMATCH"
  | "LIGHT_NOT_EPOCH_END"
  | "LIGHT_MALFORMED"
  | "LIGHT_WALK_TOO_LONG"
  | CertificateProblem;

/** Sets remembered for checking old headers: one per epoch, oldest dropped first. */
export const setsKnownMax = 65_536;
/** Transitions one walkEpochs call accepts (a gateway pages longer histories). */
export const walkTransitionsMax = 4096;

export class LightClientError extends MoteError {
  declare readonly code: LightClientErrorCode;
  constructor(code: LightClientErrorCode, message: string) {
    super(code, message);
  }
}

const keys = new PublicKeyCache(4096);

function members(set: ValidatorSet): CertificateMembers {
  const byId = new Map(set.validators.map((v) => [toHex(v.id), keys.get(v.publicKey)]));
  return { n: set.validators.length, keyOf: (id) => byId.get(id) };
}

interface KnownSet {
  set: ValidatorSet;
  setHash: Uint8Array;
}

interface Trusted extends KnownSet {
  header: BlockHeader;
  hash: Uint8Array;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
/** An epoch's last header announces a set other than its own. */
const endsEpoch = (t: Trusted) => !same(t.header.nextValidatorSetHash, t.setHash);

export class LightClient {
  private trusted: Trusted;
  /** The set the trusted epoch-end header announced, once given (learnNextSet). */
  private next: KnownSet | undefined;
  /** Every set that certified a trusted header, or was announced by one, by hex hash. */
  private readonly known = new Map<string, ValidatorSet>();

  constructor(genesis: BlockHeader, genesisSet: ValidatorSet) {
    const setHash = validatorSetHash(genesisSet);
    if (genesis.height !== 0 || !same(setHash, genesis.validatorSetHash)) {
      throw new LightClientError("LIGHT_SET_MISMATCH", "the genesis set does not hash to the genesis header's validatorSetHash: use the network's genesis file");
    }
    this.trusted = { header: genesis, hash: headerHash(genesis), set: genesisSet, setHash };
    this.remember(this.trusted);
  }

  get height(): number {
    return this.trusted.header.height;
  }
  get header(): BlockHeader {
    return this.trusted.header;
  }
  /** Sets the client trusts, one per epoch it walked through. */
  get setsKnown(): number {
    return this.known.size;
  }

  private remember(k: KnownSet): void {
    const key = toHex(k.setHash);
    if (this.known.has(key)) return;
    if (this.known.size >= setsKnownMax) this.known.delete(this.known.keys().next().value!);
    this.known.set(key, k.set);
  }

  /**
   * Takes the set the trusted header announced (it must end an epoch), checked against its
   * nextValidatorSetHash; the next verify may then skip to any header that set certified.
   */
  learnNextSet(set: ValidatorSet): void {
    const t = this.trusted;
    if (!endsEpoch(t)) throw new LightClientError("LIGHT_NOT_EPOCH_END", `header ${t.header.height} does not end an epoch: it announces no new set`);
    const setHash = validatorSetHash(set);
    if (!same(setHash, t.header.nextValidatorSetHash)) {
      throw new LightClientError("LIGHT_SET_MISMATCH", `the set given does not hash to the nextValidatorSetHash of header ${t.header.height}`);
    }
    this.next = { set, setHash };
    this.remember(this.next);
  }

  /**
   * Checks `header` with its commit certificate and, when it is certified by a set other than the
   * trusted one, the set announced by the trusted header (pass it as `set`, or learnNextSet first).
   * Throws LightClientError; on success the header becomes the trusted one.
   */
  verify(header: BlockHeader, certificate: Certificate, set?: ValidatorSet): void {
    const t = this.trusted;
    const fail = (code: LightClientErrorCode, why: string): never => {
      throw new LightClientError(code, `header ${header.height}: ${why}`);
    };
    if (header.chainId !== t.header.chainId) fail("LIGHT_CHAIN", `chain "${header.chainId}" is not "${t.header.chainId}"`);
    if (header.height <= t.header.height) fail("LIGHT_BEHIND", `already trusting height ${t.header.height}`);
    const hash = headerHash(header);
    if (header.height === t.header.height + 1 && !same(header.previousHash, t.hash)) fail("LIGHT_LINK", "does not link to the trusted header");
    let signers: KnownSet = t;
    if (endsEpoch(t)) {
      // After an epoch's last header only the set it announced certifies anything: a set's hash
      // covers its epoch, so a header of this epoch or a later one names no other set.
      if (set) this.learnNextSet(set);
      if (!this.next) return fail("LIGHT_SET_UNKNOWN", `height ${t.header.height} ended an epoch: pass the validator set it announced`);
      if (!same(header.validatorSetHash, this.next.setHash)) fail("LIGHT_SET_UNKNOWN", `not certified by the set height ${t.header.height} announced; verify the last header of each epoch in turn`);
      signers = this.next;
    } else if (!same(header.validatorSetHash, t.setHash)) {
      fail("LIGHT_SET_UNKNOWN", `certified by a set the client was not told about; verify the last header of each epoch first (trusted: ${t.header.height})`);
    }
    const problem = checkCertificate(certificate, "commit", header.chainId, members(signers.set), { height: header.height, blockHash: hash });
    if (problem) fail(problem, "commit certificate does not hold a quorum of the set's signatures");
    this.trusted = { header, hash, set: signers.set, setHash: signers.setHash };
    this.next = undefined;
    this.remember(signers);
  }

  /**
   * Checks a header at any height, behind the trusted one too, against a set the client already
   * trusts (the one its validatorSetHash names). Trust does not move. Returns the header's hash.
   * Sound for the same reason skipping inside an epoch is: a quorum of a trusted set signed it.
   */
  checkCertified(header: BlockHeader, certificate: Certificate): Uint8Array {
    const fail = (code: LightClientErrorCode, why: string): never => {
      throw new LightClientError(code, `header ${header.height}: ${why}`);
    };
    if (header.chainId !== this.trusted.header.chainId) fail("LIGHT_CHAIN", `chain "${header.chainId}" is not "${this.trusted.header.chainId}"`);
    const set = this.known.get(toHex(header.validatorSetHash));
    if (!set) return fail("LIGHT_SET_UNKNOWN", "certified by a set the client has not walked to; walk the epochs up to this header's first");
    const hash = headerHash(header);
    const problem = checkCertificate(certificate, "commit", header.chainId, members(set), { height: header.height, blockHash: hash });
    if (problem) fail(problem, "commit certificate does not hold a quorum of the set's signatures");
    return hash;
  }
}

/** One epoch's hand-over: its last header, that header's certificate, and the set it announces. */
export interface EpochTransition {
  header: BlockHeader;
  certificate: Certificate;
  nextSet: ValidatorSet;
}

/** Walks `client` across epoch boundaries, one transition per epoch, in order. Throws LightClientError. */
export function walkEpochs(client: LightClient, transitions: readonly EpochTransition[]): void {
  if (transitions.length > walkTransitionsMax) throw new LightClientError("LIGHT_WALK_TOO_LONG", `${transitions.length} transitions in one walk; at most ${walkTransitionsMax}, walk in pages`);
  for (const t of transitions) {
    client.verify(t.header, t.certificate);
    client.learnNextSet(t.nextSet);
  }
}

/** An epoch transition as gateways serve it (hex; gateway/api/provenance.ts epochTransitions). */
export type EpochTransitionHex = { header: string; certificate: string | null; nextSet: string };

/**
 * A client's trust in a served head from genesis alone: walks the transitions served inline, pages on
 * with `more(fromEpoch)` while the walk is not `complete`, then checks the head's certificate.
 * Throws LightClientError (and whatever `more` throws).
 */
export async function trustHead(
  genesis: { header: BlockHeader; validators: ValidatorSet },
  walk: { transitions: EpochTransitionHex[]; complete: boolean },
  head: { header: string; certificate: string | null },
  more: (fromEpoch: number) => Promise<{ items: EpochTransitionHex[]; next: number | null }>,
): Promise<{ header: BlockHeader; lc: LightClient }> {
  const lc = new LightClient(genesis.header, genesis.validators);
  const step = (ts: EpochTransitionHex[]) => walkEpochs(lc, ts.map((t) => decodeEpochTransition({ header: fromHex(t.header), certificate: fromHex(t.certificate ?? ""), nextSet: fromHex(t.nextSet) })));
  step(walk.transitions);
  let next = walk.complete ? null : walk.transitions.length;
  while (next !== null) {
    const page = await more(next);
    step(page.items);
    next = page.next;
  }
  const h = decodeCertifiedHeader({ header: fromHex(head.header), certificate: fromHex(head.certificate ?? "") });
  if (h.header.height > lc.height) lc.verify(h.header, h.certificate);
  lc.checkCertified(h.header, h.certificate);
  return { header: h.header, lc };
}

// A set on the wire: validatorSetCodec's CBOR, at most 256 members.
const setLimits = { depthMax: 3, itemsMax: 1024, bytesMax: 64 };

/** A header and its certificate from the bytes a gateway serves. */
export function decodeCertifiedHeader(w: { header: Uint8Array; certificate: Uint8Array }): { header: BlockHeader; certificate: Certificate } {
  try {
    return { header: decodeHeader(w.header), certificate: decodeCertificate(w.certificate) };
  } catch (e) {
    throw new LightClientError("LIGHT_MALFORMED", `certified header: ${(e as Error).message}`);
  }
}

/** A transition from the bytes a gateway serves (header, certificate, next set as CBOR). */
export function decodeEpochTransition(w: { header: Uint8Array; certificate: Uint8Array; nextSet: Uint8Array }): EpochTransition {
  try {
    return { header: decodeHeader(w.header), certificate: decodeCertificate(w.certificate), nextSet: validatorSetCodec.from(decode(w.nextSet, setLimits)) };
  } catch (e) {
    throw new LightClientError("LIGHT_MALFORMED", `epoch transition: ${(e as Error).message}`);
  }
}
