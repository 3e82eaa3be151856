// validatorEvidence (type 11, gateway/chain/apply-evidence.ts): a validator's double signature,
// verified with the consensus module's rule, jails it from the next epoch; every invalid case is
// refused with its own code and changes nothing; the same offence applies once.
import { describe, expect, it } from "vitest";
import { decode as decodeCbor, encode, type CborValue } from "../../shared/cbor.ts";
import { decodeCertificate, voteSigningBytes } from "../../shared/consensus-messages.ts";
import { sha256, signEd25519, toHex } from "../../shared/ed25519.ts";
import { decodeTx, TxError } from "../../shared/tx.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { TxRejected } from "../../gateway/chain/errors.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { smtRoot } from "../../gateway/chain/smt.ts";
import { ChainAdapter } from "../../gateway/consensus/chain-adapter.ts";
import { encodeEvidence, makeEvidence, type SignedKind } from "../../gateway/consensus/evidence.ts";
import { buildAndCommit, certify } from "./drive.ts";
import { feedFor, makeFixture, openChain, signed } from "./fixture.ts";

const chainId = "mote-evidence";
const f = makeFixture({ gateways: 4, users: 2, devices: 0, chainId, label: "evidence", params: { epochBlocks: 10 } });
const signers = new Map(f.gateways.map((g) => [toHex(g.id), g]));
const [user] = f.users;

function doubleSign(who: Identity, height: number, round: number, kind: SignedKind = "prepare", onChain = chainId): Uint8Array {
  const h1 = sha256(encode(["a", height, round]));
  const h2 = sha256(encode(["b", height, round]));
  const sig = (h: Uint8Array) => signEd25519(who.key, voteSigningBytes(onChain, kind, height, round, h));
  return encodeEvidence(makeEvidence({ height, round, kind, publicKey: who.publicKey, a: { blockHash: h1, signature: sig(h1) }, b: { blockHash: h2, signature: sig(h2) } }));
}

const evidenceTx = (nonce: number, evidence: Uint8Array, who: Identity = user) => signed(chainId, who, nonce, { kind: "validatorEvidence", evidence });
const inSet = (chain: Chain, who: Identity) => chain.validators().validators.some((v) => Buffer.compare(v.id, who.id) === 0);

describe("validatorEvidence", () => {
  it("jails the validator from the next epoch, not before, and applies once", () => {
    const { chain, store } = openChain(f);
    const accused = f.gateways[1];
    let t = f.genesis.genesisTimeMs + 1000;
    const step = (txs: Uint8Array[] = []) => buildAndCommit(chain, signers, txs, (t += 1000));
    expect(inSet(chain, accused)).toBe(true);
    const ev = doubleSign(accused, 2, 0);
    expect(step([evidenceTx(0, ev)]).codes).toEqual([undefined]);
    expect(chain.state().candidate(accused.id)!.jailedUntilEpoch).toBe(2);
    expect(chain.state().validatorEvidenceHeight(accused.id, 2, 0)).toBe(1);
    // The same offence again, shown as a commit double signature this time: a duplicate. It lands
    // as a failed result (fee paid, nonce used) so the submitter's later nonces are not stuck.
    const jailed = chain.state().candidate(accused.id)!;
    const again = step([evidenceTx(1, ev), evidenceTx(2, doubleSign(accused, 2, 0, "commit"))]);
    expect(again.codes).toEqual([undefined, undefined]);
    expect(again.failures).toEqual(["VALIDATOR_EVIDENCE_DUPLICATE", "VALIDATOR_EVIDENCE_DUPLICATE"]);
    expect(chain.state().account(user.id).nonce).toBe(3);
    expect(chain.state().candidate(accused.id)).toEqual(jailed);
    // Mid-epoch the validator keeps its seat (sets change only at boundaries)...
    while (chain.head().height < 9) {
      step();
      expect(inSet(chain, accused), `height ${chain.head().height}`).toBe(true);
    }
    // ...and the election at the end of epoch 0 leaves it out of epoch 1.
    const boundary = step();
    expect(chain.validators().epoch).toBe(1);
    expect(inSet(chain, accused)).toBe(false);
    expect(chain.validators().validators).toHaveLength(3);
    expect(boundary.pending.block.header.nextValidatorSetHash).not.toEqual(boundary.pending.block.header.validatorSetHash);
    // A validator of the previous epoch can still be accused (another offence), then it is electable again at epoch 2.
    const later = step([evidenceTx(3, doubleSign(accused, 3, 1))]);
    expect([later.codes, later.failures]).toEqual([[undefined], [null]]);
    expect(chain.state().candidate(accused.id)!.jailedUntilEpoch).toBe(3);
    store.close();
  });

  it("refuses malformed and unverifiable evidence, changing nothing; non-validator and duplicate evidence land as failed results", () => {
    const { chain, mempool, store } = openChain(f);
    const g = f.gateways[2];
    let t = f.genesis.genesisTimeMs + 1000;
    const ev = doubleSign(g, 1, 0);
    const swapped = (() => {
      const arr = decodeCbor(ev) as CborValue[];
      [arr[4], arr[5], arr[6], arr[7]] = [arr[6], arr[7], arr[4], arr[5]];
      return encode(arr);
    })();
    const tampered = Uint8Array.from(ev);
    tampered[tampered.length - 1] ^= 1;
    const cases: [string, Uint8Array][] = [
      ["VALIDATOR_EVIDENCE_MALFORMED", encode([1, 2, 3])],
      ["VALIDATOR_EVIDENCE_MALFORMED", Uint8Array.from([0xff])],
      ["VALIDATOR_EVIDENCE_INVALID", tampered],
      ["VALIDATOR_EVIDENCE_INVALID", swapped], // non-canonical order
      ["VALIDATOR_EVIDENCE_INVALID", doubleSign(g, 1, 0, "prepare", "another-chain")],
      ["VALIDATOR_EVIDENCE_INVALID", (() => {
        const s = signEd25519(g.key, voteSigningBytes(chainId, "prepare", 1, 0, sha256(new Uint8Array([1]))));
        return encodeEvidence({ height: 1, round: 0, kind: "prepare", publicKey: g.publicKey, a: { blockHash: sha256(new Uint8Array([1])), signature: s }, b: { blockHash: sha256(new Uint8Array([1])), signature: s } });
      })()], // one vote twice is no double vote
    ];
    const before = smtRoot(store);
    for (const [code, bytes] of cases) {
      // The mempool refuses it with the reason...
      let got: string | undefined;
      try {
        mempool.add(evidenceTx(0, bytes), t);
      } catch (e) {
        if (!(e instanceof TxRejected)) throw e;
        got = e.code;
      }
      expect(got, code).toBe(code);
      // ...and so does the state machine; nothing of the transaction lands.
      const { pending, rejected } = chain.build({ timeMs: t + 1, proposer: chain.validators().validators[1].id, txs: [decodeTx(evidenceTx(0, bytes))] });
      expect(rejected.map((r) => r.error.code), code).toEqual([code]);
      expect(pending.execution.txs).toHaveLength(0);
    }
    expect(smtRoot(store)).toEqual(before);
    // Over the size limit: the transaction body itself does not decode.
    expect(() => decodeTx(evidenceTx(0, new Uint8Array(257)))).toThrow(TxError);
    expect(() => decodeTx(evidenceTx(0, new Uint8Array(0)))).toThrow(TxError);
    // Against a key that is no validator, and a duplicate: what they say depends on the state, so
    // they land with the failure as their result, the fee paid, and change nothing else.
    const stranger = evidenceTx(0, doubleSign(f.users[1], 1, 0));
    mempool.add(stranger, t);
    const s1 = buildAndCommit(chain, signers, [stranger], (t += 1000));
    expect([s1.codes, s1.failures]).toEqual([[undefined], ["VALIDATOR_EVIDENCE_NOT_VALIDATOR"]]);
    expect(buildAndCommit(chain, signers, [evidenceTx(1, ev)], (t += 1000)).failures).toEqual([null]);
    const jailed = chain.state().candidate(g.id)!;
    mempool.onCommit([], []);
    mempool.add(evidenceTx(2, ev), t);
    expect(buildAndCommit(chain, signers, [evidenceTx(2, ev)], (t += 1000)).failures).toEqual(["VALIDATOR_EVIDENCE_DUPLICATE"]);
    expect(chain.state().candidate(g.id)).toEqual(jailed);
    store.close();
  });

  it("a proposer puts pooled evidence in its block, signed with its next nonce, once", () => {
    const { chain, mempool, store } = openChain(f);
    const proposer = f.gateways[1];
    const { signer } = feedFor(chain, mempool, proposer, { takeBatch: () => [], markIncluded() {}, markRejected() {}, markLost() {} });
    const adapter = new ChainAdapter(chain, mempool, { signer: () => signer });
    const accused = f.gateways[3];
    const h1 = sha256(new Uint8Array([1]));
    const h2 = sha256(new Uint8Array([2]));
    const sig = (h: Uint8Array) => signEd25519(accused.key, voteSigningBytes(chainId, "commit", 1, 0, h));
    const e = makeEvidence({ height: 1, round: 0, kind: "commit", publicKey: accused.publicKey, a: { blockHash: h2, signature: sig(h2) }, b: { blockHash: h1, signature: sig(h1) } });
    // The proposer's own pending transaction comes first; the evidence takes the nonce after it.
    mempool.add(signed(chainId, proposer, 0, { kind: "transfer", to: user.id, amount: 5n }), f.genesis.genesisTimeMs);
    const { block } = adapter.propose({ height: 1, round: 0, proposer: proposer.id, timeMs: f.genesis.genesisTimeMs + 1000, evidence: [e, e] });
    const d = adapter["decoded"](block)!;
    const txs = d.block.txs.map((b) => decodeTx(b));
    expect(txs.map((x) => [x.body.kind, x.nonce, toHex(x.authorId)])).toEqual([
      ["transfer", 0, toHex(proposer.id)],
      ["validatorEvidence", 1, toHex(proposer.id)],
    ]);
    expect(adapter.evidenceSettled(e)).toBe(false);
    adapter.commit(block, decodeCertificate(certify(chain, signers, 1, d.hash)));
    expect(chain.state().candidate(accused.id)!.jailedUntilEpoch).toBe(2);
    expect(adapter.evidenceSettled(e)).toBe(true);
    // Already applied: the next block leaves it out.
    const next = adapter.propose({ height: 2, round: 0, proposer: proposer.id, timeMs: f.genesis.genesisTimeMs + 2000, evidence: [e] });
    expect(adapter["decoded"](next.block)!.block.txs).toHaveLength(0);
    store.close();
  });
});
