// The process's set of transactions whose envelope and attestation verified (gateway/chain/
// verified-txs.ts): its check agrees with verifyTxSignature and verifyBatch on valid and mutated
// transactions, only a success is remembered, and a hit needs the same bytes on the same chain.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { verifyBatch } from "../../shared/attestation.ts";
import { encode } from "../../shared/cbor.ts";
import { readingDigest } from "../../shared/reading.ts";
import { decodeTx, verifyTxSignature, type DecodedTx } from "../../shared/tx.ts";
import { sharedKeyCache } from "../../gateway/chain/context.ts";
import { addSignedHere, VerifiedTxs, verifiedTxs, verifyTxSignatures } from "../../gateway/chain/verified-txs.ts";
import { batchBody, deviceReading, makeFixture, signed } from "./fixture.ts";

const f = makeFixture({ label: "verified-txs", users: 1 });
const chainId = f.genesis.chainId;
const gw = f.gateways[0];
const d = f.devices[0];

function syncVerdict(tx: DecodedTx): boolean {
  const key = sharedKeyCache.get(tx.author);
  if (!verifyTxSignature(tx, key, chainId)) return false;
  if (tx.body.kind !== "readingBatch") return true;
  return verifyBatch(tx.body.attestation, key, tx.body.readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
}

describe("verified transactions", () => {
  it("verifies as the envelope and attestation checks do, and remembers only a success", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.nat(1_000_000), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 2 }), (n, base, edits) => {
        const readings = Array.from({ length: n }, (_, i) => ({ bytes: deviceReading(d, base + i), receivedAtMs: 1000 + i }));
        const bytes = signed(chainId, gw, base, batchBody(gw, readings), 5n);
        // Mutations anywhere: most break the decoding, some the envelope or the attestation.
        const mutated = bytes.slice();
        for (const [at, v] of edits) mutated[at % mutated.length] = v;
        let tx: DecodedTx;
        try {
          tx = decodeTx(mutated);
        } catch {
          return;
        }
        const expected = syncVerdict(tx);
        expect(verifyTxSignatures(chainId, sharedKeyCache, tx)).toBe(expected);
        expect(verifiedTxs.has(chainId, tx)).toBe(expected);
        expect(verifiedTxs.has(`${chainId}-other`, tx)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it("keys the whole transaction: the same id under another signature is not verified", () => {
    const tx = decodeTx(signed(chainId, gw, 7, batchBody(gw, [{ bytes: deviceReading(d, 7), receivedAtMs: 5 }]), 5n));
    expect(verifyTxSignatures(chainId, sharedKeyCache, tx)).toBe(true);
    const forged = decodeTx(encode([tx.unsigned, new Uint8Array(64).fill(7)]));
    expect(forged.id).toEqual(tx.id);
    expect(verifiedTxs.has(chainId, forged)).toBe(false);
    expect(verifyTxSignatures(chainId, sharedKeyCache, forged)).toBe(false);
  });

  it("takes a transaction signed here on construction: a batch only when its attestation was made here too", () => {
    const batch = decodeTx(signed(chainId, gw, 11, batchBody(gw, [{ bytes: deviceReading(d, 11), receivedAtMs: 5 }]), 5n));
    const transfer = decodeTx(signed(chainId, gw, 12, { kind: "transfer", to: f.users[0].id, amount: 1n }));
    const otherChain = `${chainId}-signed-here`;
    addSignedHere(otherChain, batch, gw, false);
    expect(verifiedTxs.has(otherChain, batch)).toBe(false);
    addSignedHere(otherChain, batch, gw, true);
    addSignedHere(otherChain, transfer, gw, false);
    expect([verifiedTxs.has(otherChain, batch), verifiedTxs.has(otherChain, transfer)]).toEqual([true, true]);
    const stranger = decodeTx(signed(chainId, f.users[0], 0, { kind: "transfer", to: gw.id, amount: 1n }));
    expect(() => addSignedHere(otherChain, stranger, gw, false)).toThrow(/names this node's key/);
  });

  it("holds at most entriesMax, the newest always among them", () => {
    const txs = Array.from({ length: 40 }, (_, i) => decodeTx(signed(chainId, gw, i, { kind: "transfer", to: f.users[0].id, amount: 1n })));
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 16 }), fc.array(fc.nat(39), { maxLength: 100 }), (max, picks) => {
        const set = new VerifiedTxs(max);
        for (const i of picks) {
          set.add(chainId, txs[i]);
          expect(set.size).toBeLessThanOrEqual(max);
          expect(set.has(chainId, txs[i])).toBe(true);
        }
      }),
    );
  });
});
