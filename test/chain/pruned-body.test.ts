// The pruned body codec (gateway/chain/pruned-body.ts), property-tested: random stored bodies round
// trip byte for byte; random and mutated bytes either decode to a body that re-encodes to the same
// bytes or are refused with BlockError (never another exception); pruning a batch keeps its leaf
// hash (so the header's txRoot), id, attestation and every reading's digest and receipt time.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { leafHash } from "../../shared/merkle.ts";
import { readingDigest } from "../../shared/reading.ts";
import { decodeTx } from "../../shared/tx.ts";
import { encodeBody, txRootOf } from "../../gateway/chain/block.ts";
import { BlockError } from "../../gateway/chain/errors.ts";
import { decodeStoredBody, encodeStoredBody, isPrunedReading, isPrunedTx, pruneStoredTx, storedTxRoot, type PrunedTx, type StoredBody, type StoredTx } from "../../gateway/chain/pruned-body.ts";
import { addBatch, deviceReading, makeFixture, openChain } from "./fixture.ts";

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const kept = fc.record({ bytes: fc.uint8Array({ maxLength: 64 }), receivedAtMs: fc.nat() });
const pruned = fc.oneof(
  fc.record({ digest: bytes(32), receivedAtMs: fc.nat(), deviceId: bytes(16), sequence: fc.nat() }),
  fc.record({ digest: bytes(32), receivedAtMs: fc.nat(), deviceId: fc.constant(null), sequence: fc.constant(null) }),
);
const prunedTx: fc.Arbitrary<PrunedTx> = fc.record({ leafHash: bytes(32), txId: bytes(32), author: bytes(32), attestation: fc.uint8Array({ maxLength: 120 }), readings: fc.array(fc.oneof(kept, pruned), { minLength: 1, maxLength: 6 }) });
const entry: fc.Arbitrary<StoredTx> = fc.oneof(fc.uint8Array({ maxLength: 80 }), prunedTx);
const body: fc.Arbitrary<StoredBody> = fc.record({ txs: fc.array(entry, { maxLength: 6 }), lastCommit: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }) });

function decodesOrRefuses(b: Uint8Array): void {
  try {
    const d = decodeStoredBody(b);
    expect(Buffer.from(encodeStoredBody(d)).equals(Buffer.from(b))).toBe(true);
  } catch (e) {
    expect(e).toBeInstanceOf(BlockError);
  }
}

describe("pruned body codec", () => {
  it("round-trips random stored bodies byte for byte, and an unpruned body is block.ts's encoding", () => {
    fc.assert(
      fc.property(body, (b) => {
        const enc = encodeStoredBody(b);
        const dec = decodeStoredBody(enc);
        expect(Buffer.from(encodeStoredBody(dec)).equals(Buffer.from(enc))).toBe(true);
        expect(dec).toEqual(b);
        if (!b.txs.some(isPrunedTx)) expect(Buffer.from(encodeBody({ txs: b.txs as Uint8Array[], lastCommit: b.lastCommit })).equals(Buffer.from(enc))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses random and mutated bytes with BlockError or decodes them canonically", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), decodesOrRefuses), { numRuns: 500 });
    fc.assert(
      fc.property(body, fc.nat(), fc.integer({ min: 1, max: 255 }), (b, at, x) => {
        const enc = encodeStoredBody(b);
        if (enc.length === 0) return;
        const m = enc.slice();
        m[at % m.length] ^= x;
        decodesOrRefuses(m);
        decodesOrRefuses(enc.subarray(0, at % enc.length));
      }),
      { numRuns: 500 },
    );
  });

  it("pruning keeps the leaf hash, id, attestation, and every digest and receipt time", () => {
    const f = makeFixture({ label: "pruned-body", devices: 3 });
    const { mempool } = openChain(f);
    const readings = f.devices.map((d, i) => ({ bytes: deviceReading(d, 7 + i), receivedAtMs: 1000 + i }));
    // A duplicate entry the chain would not record: pruned with the batch's first pruning.
    readings.push({ ...readings[0], receivedAtMs: 2000 });
    const tx = addBatch(mempool, f.gateways[0], readings, 0);
    const recorded = (p: number) => p < 3;
    const once = pruneStoredTx(tx.bytes, new Map([[1, { deviceId: f.devices[1].id, sequence: 8 }]]), recorded) as PrunedTx;
    expect(isPrunedTx(once)).toBe(true);
    expect(once.leafHash).toEqual(leafHash(tx.bytes));
    expect(once.txId).toEqual(tx.id);
    expect(once.readings.map((r) => isPrunedReading(r))).toEqual([false, true, false, true]);
    const twice = pruneStoredTx(once, new Map([[0, { deviceId: f.devices[0].id, sequence: 7 }]]), recorded) as PrunedTx;
    expect(twice.readings.map((r) => isPrunedReading(r))).toEqual([true, true, false, true]);
    expect(pruneStoredTx(twice, new Map(), recorded)).toBe(twice);
    twice.readings.forEach((r, i) => {
      expect(isPrunedReading(r) ? r.digest : readingDigest(r.bytes)).toEqual(readingDigest(readings[i].bytes));
      expect(r.receivedAtMs).toBe(readings[i].receivedAtMs);
    });
    const original = decodeTx(tx.bytes);
    expect(storedTxRoot([tx.bytes, twice])).toEqual(txRootOf([tx.bytes, tx.bytes]));
    expect(decodeStoredBody(encodeStoredBody({ txs: [twice], lastCommit: null })).txs[0]).toEqual(twice);
    expect(original.body.kind).toBe("readingBatch");
  });
});
