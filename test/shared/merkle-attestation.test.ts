// RFC 6962-shaped Merkle proofs and the gateway's batch co-signature built on them.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encode } from "../../shared/cbor.ts";
import { randomBytes } from "node:crypto";
import { inclusionProof, leafHash, merkleRoot, verifyInclusion, emptyRoot } from "../../shared/merkle.ts";
import { attestBatch, attestedLeaf, decodeAttestation, encodeAttestation, readingProof, verifyBatch, verifyReadingProof, type AttestedReading } from "../../shared/attestation.ts";
import { privateKeyObject, publicKeyFromSeed, publicKeyObject, sha256 } from "../../shared/ed25519.ts";

describe("merkle", () => {
  it("proves every leaf of trees of 1..70 leaves, and nothing else", () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(Uint8Array.of(i, n)));
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const path = inclusionProof(leaves, i);
        expect(verifyInclusion(leaves[i], i, n, path, root)).toBe(true);
        expect(verifyInclusion(leaves[i], (i + 1) % n, n, path, root)).toBe(n === 1);
        expect(verifyInclusion(leafHash(Uint8Array.of(255)), i, n, path, root)).toBe(false);
        if (path.length) {
          const bad = path.map((p) => p.slice());
          bad[0][0] ^= 1;
          expect(verifyInclusion(leaves[i], i, n, bad, root)).toBe(false);
        }
      }
    }
  });

  it("hashes the empty tree and a single leaf as RFC 6962 §2.1 defines", () => {
    expect(Buffer.from(emptyRoot).toString("hex")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const leaf = leafHash(new Uint8Array(0));
    expect(Buffer.from(leaf).toString("hex")).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    expect(merkleRoot([leaf])).toEqual(leaf);
  });
});

describe("batch attestation", () => {
  it("hashes each leaf as leafHash(cbor([digest, receivedAtMs])), at every integer width and off the fast path", () => {
    const widths = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER];
    const ms = fc.oneof(fc.constantFrom(...widths), fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(-1, 1.5, 2 ** 60));
    const digest = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }));
    fc.assert(
      fc.property(digest, ms, (d, t) => {
        expect(attestedLeaf({ digest: d, receivedAtMs: t })).toEqual(leafHash(encode([d, t])));
      }),
      { numRuns: 3000 },
    );
  });

  const seed = randomBytes(32);
  const key = privateKeyObject(seed);
  const pub = publicKeyObject(publicKeyFromSeed(seed));
  const gatewayId = sha256(publicKeyFromSeed(seed)).subarray(0, 16);
  const readings: AttestedReading[] = Array.from({ length: 37 }, (_, i) => ({ digest: sha256(Uint8Array.of(i)), receivedAtMs: 1_700_000_000_000 + i }));

  it("signs once per batch and proves each reading against the signed root", () => {
    const att = attestBatch(key, gatewayId, readings);
    expect(verifyBatch(att, pub, readings)).toBe(true);
    readings.forEach((r, i) => expect(verifyReadingProof(att, pub, r, i, readingProof(readings, i))).toBe(true));
    expect(decodeAttestation(encodeAttestation(att))).toEqual(att);
  });

  it("fails for a changed receipt time, a dropped reading or another gateway's key", () => {
    const att = attestBatch(key, gatewayId, readings);
    const moved = readings.map((r, i) => (i === 5 ? { ...r, receivedAtMs: r.receivedAtMs + 1 } : r));
    expect(verifyBatch(att, pub, moved)).toBe(false);
    expect(verifyBatch(att, pub, readings.slice(1))).toBe(false);
    const other = publicKeyObject(publicKeyFromSeed(randomBytes(32)));
    expect(verifyBatch(att, other, readings)).toBe(false);
    expect(verifyReadingProof(att, pub, moved[5], 5, readingProof(readings, 5))).toBe(false);
  });
});
