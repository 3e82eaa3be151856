// Validator signatures remembered once verified (shared/verified-signatures.ts): the verdict is
// verifyEd25519's on valid and mutated signatures, only a success is remembered, a hit needs the same
// key, message and signature, and two key objects of one raw key share what was verified.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { privateKeyObject, publicKeyFromSeed, publicKeyObject, signEd25519, verifyEd25519 } from "../../shared/ed25519.ts";
import { VerifiedSignatures } from "../../shared/verified-signatures.ts";

const seedA = new Uint8Array(32).fill(11);
const seedB = new Uint8Array(32).fill(12);
const keyA = publicKeyObject(publicKeyFromSeed(seedA));
const keyB = publicKeyObject(publicKeyFromSeed(seedB));

describe("verified signatures", () => {
  it("gives verifyEd25519's verdict on valid and mutated signatures, and remembers only successes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 120 }), fc.array(fc.tuple(fc.nat(63), fc.integer({ min: 1, max: 255 })), { maxLength: 2 }), fc.boolean(), (message, edits, otherKey) => {
        const set = new VerifiedSignatures(64);
        const signature = signEd25519(privateKeyObject(seedA), message);
        for (const [at, x] of edits) signature[at] ^= x;
        const key = otherKey ? keyB : keyA;
        const expected = verifyEd25519(key, message, signature);
        expect(set.verify(key, message, signature)).toBe(expected);
        expect(set.size).toBe(expected ? 1 : 0);
        // Asked again: the same verdict, from memory only when it was a success.
        expect(set.verify(key, message, signature)).toBe(expected);
        expect(set.stats.hits).toBe(expected ? 1 : 0);
      }),
      { numRuns: 80 },
    );
  });

  it("keys the raw public key, message and signature: another key, message or signature is verified afresh", () => {
    const set = new VerifiedSignatures(64);
    const message = new Uint8Array([1, 2, 3]);
    const signature = signEd25519(privateKeyObject(seedA), message);
    expect(set.verify(keyA, message, signature)).toBe(true);
    expect(set.verify(keyB, message, signature)).toBe(false);
    expect(set.verify(keyA, new Uint8Array([1, 2, 4]), signature)).toBe(false);
    // Another key object of the same raw key (another cache made it) finds the verdict.
    expect(set.verify(publicKeyObject(publicKeyFromSeed(seedA)), message, signature)).toBe(true);
    expect(set.stats).toEqual({ hits: 1, misses: 3 });
  });

  it("holds at most entriesMax", () => {
    const set = new VerifiedSignatures(8);
    for (let i = 0; i < 40; i++) {
      const message = new Uint8Array([i]);
      expect(set.verify(keyA, message, signEd25519(privateKeyObject(seedA), message))).toBe(true);
      expect(set.size).toBeLessThanOrEqual(8);
    }
  });
});
