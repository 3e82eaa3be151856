// Wire formats of consensus: every message, certificate, envelope, WAL record and piece of evidence
// round-trips to the same bytes, and arbitrary or mutated bytes are refused with a typed error,
// never a crash (fast-check).
import fc from "fast-check";
import { expect, test } from "vitest";
import { decode, encode } from "../../shared/cbor.ts";
import { ConsensusMessageError, decodeCertificate, decodeConsensusMessage, encodeCertificate, encodeConsensusMessage, voteSigningBytes, type ConsensusMessage } from "../../shared/consensus-messages.ts";
import { checkCertificate, quorumSize } from "../../shared/consensus-certificate.ts";
import { commitMessage, decodeCertificate as chainDecodeCertificate } from "../../gateway/chain/certificate.ts";
import { quorumOf } from "../../gateway/chain/dpos.ts";
import { decodeEnvelope, encodeEnvelope, type Envelope } from "../../gateway/p2p/envelope.ts";
import { P2pError } from "../../gateway/p2p/errors.ts";
import { decodeWal, encodeWal } from "../../gateway/consensus/wal.ts";
import { ConsensusError } from "../../gateway/consensus/errors.ts";
import { decodeEvidence, encodeEvidence, makeEvidence, verifyEvidence } from "../../gateway/consensus/evidence.ts";
import { ConsensusValidators } from "../../gateway/consensus/validators.ts";
import { simIdentity } from "./sim/keys.ts";

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const hash = bytes(32);
const sig = bytes(64);
const id = bytes(16);
const u = fc.nat({ max: 1_000_000 });
const round = fc.nat({ max: 50 });
const validator = fc.nat({ max: 99 });
const cert = fc.record({ height: u, round, blockHash: hash, votes: fc.uniqueArray(fc.tuple(id, sig), { maxLength: 7, selector: ([i]) => Buffer.from(i).toString("hex") }) }).map((c) => ({ ...c, votes: c.votes.sort((a, b) => Buffer.compare(a[0], b[0])) }));
const prepared = fc.option(fc.record({ round, hash, cert, block: fc.uint8Array({ minLength: 1, maxLength: 64 }) }), { nil: undefined });
const signedRc = fc.record({ height: u, round, validator, signature: sig, p: fc.option(fc.tuple(round, hash), { nil: undefined }) }).map((r) => ({ height: r.height, round: r.round, validator: r.validator, signature: r.signature, preparedRound: r.p?.[0] ?? null, preparedHash: r.p?.[1] ?? null }));
const message: fc.Arbitrary<ConsensusMessage> = fc.oneof(
  fc.record({ type: fc.constantFrom("prepare" as const, "commit" as const), height: u, round, blockHash: hash, validator, signature: sig }),
  fc.record({ height: u, round, validator, signature: sig, p: prepared }).map((r): ConsensusMessage => ({
    type: "roundChange",
    height: r.height,
    round: r.round,
    validator: r.validator,
    signature: r.signature,
    preparedRound: r.p?.round ?? null,
    preparedHash: r.p?.hash ?? null,
    preparedCertificate: r.p?.cert ?? null,
    preparedBlock: r.p?.block ?? null,
  })),
  fc.record({ height: u, round, blockHash: hash, validator, signature: sig, block: fc.uint8Array({ minLength: 1, maxLength: 200 }), j: fc.option(fc.record({ rcs: fc.array(signedRc, { maxLength: 5 }), prepared: fc.option(cert, { nil: null }) }), { nil: null }) }).map(
    (r): ConsensusMessage => ({ type: "proposal", height: r.height, round: r.round, blockHash: r.blockHash, validator: r.validator, signature: r.signature, block: r.block, justification: r.j && { roundChanges: r.j.rcs, prepared: r.j.prepared } }),
  ),
);

test("consensus messages round-trip to identical bytes", () => {
  fc.assert(
    fc.property(message, (m) => {
      const b = encodeConsensusMessage(m);
      expect(encodeConsensusMessage(decodeConsensusMessage(b))).toEqual(b);
    }),
    { numRuns: 2000 },
  );
});

test("mutated or random bytes are refused with PBFT_MALFORMED, never a crash", () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.nat({ max: 255 }), (m, at, x) => {
      const b = encodeConsensusMessage(m);
      b[at % b.length] ^= x || 1;
      try {
        encodeConsensusMessage(decodeConsensusMessage(b));
      } catch (e) {
        expect(e).toBeInstanceOf(ConsensusMessageError);
      }
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      for (const f of [() => decodeConsensusMessage(b), () => decodeCertificate(b)]) {
        try {
          f();
        } catch (e) {
          expect(e).toBeInstanceOf(ConsensusMessageError);
        }
      }
      try {
        decodeEnvelope(b, 1 << 20);
      } catch (e) {
        expect(e instanceof P2pError || e instanceof ConsensusMessageError).toBe(true);
      }
    }),
    { numRuns: 5000 },
  );
});

test("a commit certificate is the chain's: same bytes, same signed message, same quorum", () => {
  fc.assert(
    fc.property(cert, (c) => {
      const b = encodeCertificate(c);
      const chain = chainDecodeCertificate(b);
      expect(chain.signatures.map((s) => [s.validatorId, s.signature])).toEqual(c.votes);
      expect(voteSigningBytes("x", "commit", c.height, c.round, c.blockHash)).toEqual(commitMessage("x", c.height, c.round, c.blockHash));
    }),
  );
  for (let n = 1; n <= 100; n++) expect(quorumSize(n)).toBe(quorumOf(n));
});

test("certificates: a quorum of valid commit signatures and nothing less", () => {
  const ids = [0, 1, 2, 3].map(simIdentity);
  const set = new ConsensusValidators({ epoch: 0, validators: ids.map((x) => ({ id: x.id, publicKey: x.publicKey })) });
  const h = new Uint8Array(32).fill(7);
  const votes = ids.map((x): [Uint8Array, Uint8Array] => [x.id, x.sign(voteSigningBytes("c", "commit", 5, 1, h))]).sort((a, b) => Buffer.compare(a[0], b[0]));
  const c = { height: 5, round: 1, blockHash: h, votes: votes.slice(0, 3) };
  expect(checkCertificate(c, "commit", "c", set, { height: 5, blockHash: h })).toBeUndefined();
  expect(checkCertificate({ ...c, votes: votes.slice(0, 2) }, "commit", "c", set, {})).toBe("CERT_QUORUM");
  expect(checkCertificate(c, "prepare", "c", set, {})).toBe("CERT_SIGNATURE"); // a commit is not a prepare
  expect(checkCertificate(c, "commit", "other-chain", set, {})).toBe("CERT_SIGNATURE");
  expect(checkCertificate({ ...c, votes: [votes[0], votes[0], votes[1]] }, "commit", "c", set, {})).toBe("CERT_DUPLICATE");
  expect(checkCertificate(c, "commit", "c", set, { height: 6 })).toBe("CERT_HEIGHT");
});

test("envelopes, WAL records and evidence round-trip; evidence verifies only for a real double vote", () => {
  const envelopes: Envelope[] = [
    { kind: "consensus", bytes: new Uint8Array([1, 2]) },
    { kind: "status", height: 9, hash: new Uint8Array(32) },
    { kind: "syncRequest", from: 3, count: 32 },
    { kind: "syncResponse", blocks: [{ block: new Uint8Array([9]), certificate: { height: 1, round: 0, blockHash: new Uint8Array(32), votes: [] } }] },
    { kind: "tx", bytes: new Uint8Array([5]) },
  ];
  for (const e of envelopes) expect(encodeEnvelope(decodeEnvelope(encodeEnvelope(e), 1024))).toEqual(encodeEnvelope(e));
  const record = { height: 4, round: 2, prepared: { round: 1, blockHash: new Uint8Array(32).fill(1), block: new Uint8Array([1, 2, 3]), certificate: { height: 4, round: 1, blockHash: new Uint8Array(32).fill(1), votes: [] } }, sent: [new Uint8Array([7])] };
  expect(encodeWal(decodeWal(encodeWal(record), 1024))).toEqual(encodeWal(record));
  expect(() => decodeWal(new Uint8Array([0xff]), 1024)).toThrow(ConsensusError);

  const v = simIdentity(0);
  const [h1, h2] = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
  const ev = makeEvidence({ height: 3, round: 0, kind: "prepare", publicKey: v.publicKey, a: { blockHash: h2, signature: v.sign(voteSigningBytes("c", "prepare", 3, 0, h2)) }, b: { blockHash: h1, signature: v.sign(voteSigningBytes("c", "prepare", 3, 0, h1)) } });
  expect(verifyEvidence(decodeEvidence(encodeEvidence(ev)), "c")).toBe(true);
  expect(verifyEvidence(ev, "other-chain")).toBe(false);
  expect(verifyEvidence({ ...ev, kind: "commit" }, "c")).toBe(false);
  expect(verifyEvidence({ ...ev, b: ev.a }, "c")).toBe(false);
  expect(decode(encode([1]))).toEqual([1]);
});
