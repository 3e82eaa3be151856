// shared/firmware-manifest.ts: the signed firmware manifest of docs/firmware-update.md. Its RFC 9052
// structure is walked by hand and decoded by cbor-x, its signature checked by @noble/curves over a
// Sig_structure built by hand (independent of shared/cbor.ts); round trips; and random and mutated input:
// the decoder only ever throws FirmwareError, and no mutation of a signed manifest passes decode + verify.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createHash, randomBytes } from "node:crypto";
import { Decoder } from "cbor-x";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import {
  decodeManifest,
  manifestBytesMax,
  manifestImageId,
  openManifest,
  publisherKid,
  signManifest,
  verifyImage,
  verifyManifest,
  type ManifestFields,
} from "../../shared/firmware-manifest.ts";
import { encode, Tagged, type CborValue } from "../../shared/cbor.ts";
import { firmwareClassId, firmwareVendorId } from "../../shared/constants.ts";
import { privateKeyObject, publicKeyFromSeed, sha256, signEd25519, toHex } from "../../shared/ed25519.ts";
import { FirmwareError } from "../../shared/errors.ts";

const seed = randomBytes(32);
const publicKey = publicKeyFromSeed(seed);
const otherKey = publicKeyFromSeed(randomBytes(32));
const image = randomBytes(5000);
const fields: ManifestFields = { version: 2, imageBytes: image.length, imageDigest: sha256(image), abiVersion: 2, versionText: "1.2.0" };
const cborx = new Decoder({ mapsAsObjects: false, useRecords: false });

/** CBOR head written by hand (RFC 8949 §3), for a Sig_structure independent of shared/cbor.ts. */
function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 256) return [(major << 5) | 24, n];
  return [(major << 5) | 25, n >> 8, n & 0xff];
}
function handSigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  const label = new TextEncoder().encode("Signature1");
  return Uint8Array.from([
    ...head(4, 4),
    ...head(3, label.length),
    ...label,
    ...head(2, protectedBytes.length),
    ...protectedBytes,
    ...head(2, 0),
    ...head(2, payload.length),
    ...payload,
  ]);
}

/** Signs any payload/protected bytes as a publisher would (to build manifests the encoder refuses to make). */
function signRaw(payload: CborValue, protectedMap?: Map<CborValue, CborValue>, unprotected: Map<CborValue, CborValue> = new Map()): Uint8Array {
  const prot = encode(protectedMap ?? new Map<CborValue, CborValue>([[1, -8], [4, publisherKid(publicKey)]]));
  const payloadBytes = encode(payload);
  const sig = signEd25519(privateKeyObject(seed), handSigStructure(prot, payloadBytes));
  return encode(new Tagged(18, [prot, unprotected, payloadBytes, sig]));
}

function goodPayload(): Map<CborValue, CborValue> {
  return new Map<CborValue, CborValue>([
    [1, 1],
    [2, 2],
    [3, firmwareVendorId],
    [4, firmwareClassId],
    [5, image.length],
    [6, [-16, sha256(image)]],
    [7, 2],
  ]);
}

function uuid5(namespace: Uint8Array, name: string): string {
  const h = createHash("sha1").update(namespace).update(name).digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  return h.toString("hex");
}

function refusedWith(code: string, f: () => unknown): void {
  expect(f).toThrowError(expect.objectContaining({ code }));
}

describe("firmware manifest", () => {
  it("has the RFC 9052 COSE_Sign1 layout, read by cbor-x and verified by noble", () => {
    const bytes = signManifest(seed, fields);
    // Hand walk: tag 18, array of 4, protected bstr of {1: -8, 4: bstr(8)}, empty unprotected map.
    const kid = createHash("sha256").update(publicKey).digest().subarray(0, 8);
    const prot = Uint8Array.from([0xa2, 0x01, 0x27, 0x04, 0x48, ...kid]);
    expect([...bytes.subarray(0, 3)]).toEqual([0xd2, 0x84, 0x40 | prot.length]);
    expect([...bytes.subarray(3, 3 + prot.length)]).toEqual([...prot]);
    expect(bytes[3 + prot.length]).toBe(0xa0);
    // cbor-x: tag 18 around [bstr, {}, bstr, bstr(64)]; the payload map with the doc's keys.
    const tagged = cborx.decode(bytes);
    expect(tagged.tag).toBe(18);
    const [p, u, payload, sig] = tagged.value;
    expect(u.size).toBe(0);
    expect(sig.length).toBe(64);
    const m: Map<number, unknown> = cborx.decode(payload);
    expect([...m.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(m.get(1)).toBe(1);
    expect(m.get(2)).toBe(2);
    expect(toHex(m.get(3) as Uint8Array)).toBe(toHex(firmwareVendorId));
    expect(toHex(m.get(4) as Uint8Array)).toBe(toHex(firmwareClassId));
    expect(m.get(5)).toBe(image.length);
    const [alg, digest] = m.get(6) as [number, Uint8Array];
    expect(alg).toBe(-16);
    expect(toHex(digest)).toBe(createHash("sha256").update(image).digest("hex"));
    expect(m.get(7)).toBe(2);
    expect(m.get(8)).toBe("1.2.0");
    expect(noble.verify(sig, handSigStructure(p, payload), publicKey)).toBe(true);
    // Image id: first 8 bytes of SHA-256 over the whole COSE_Sign1.
    expect(manifestImageId(bytes)).toBe(createHash("sha256").update(bytes).digest("hex").slice(0, 16));
  });

  it("uses the documented UUID v5 vendor and class ids (RFC 9124 §4.2.1)", () => {
    const dns = Buffer.from("6ba7b8109dad11d180b400c04fd430c8", "hex");
    const vendor = uuid5(dns, "moteledger.dev");
    expect(toHex(firmwareVendorId)).toBe(vendor);
    expect(toHex(firmwareClassId)).toBe(uuid5(Buffer.from(vendor, "hex"), "Moteledger WASM firmware"));
  });

  it("round-trips, with and without version text, and checks the image", () => {
    for (const f of [fields, { ...fields, versionText: undefined }, { ...fields, version: 2 ** 32 - 1, versionText: "x".repeat(32) }]) {
      const bytes = signManifest(seed, f);
      expect(bytes.length).toBeLessThanOrEqual(manifestBytesMax);
      const signed = openManifest(bytes, [otherKey, publicKey]);
      expect(signed.manifest.version).toBe(f.version);
      expect(signed.manifest.versionText).toBe(f.versionText);
      expect(signed.manifest.abiVersion).toBe(2);
      expect(signed.imageId).toBe(manifestImageId(bytes));
      verifyImage(signed.manifest, image);
      refusedWith("DIGEST", () => verifyImage(signed.manifest, image.subarray(1)));
      const flipped = Buffer.from(image);
      flipped[100] ^= 1;
      refusedWith("DIGEST", () => verifyImage(signed.manifest, flipped));
    }
  });

  it("refuses manifests that deviate from the format, each with MANIFEST, and other keys with SIGNATURE", () => {
    const good = signManifest(seed, fields);
    refusedWith("SIGNATURE", () => verifyManifest(decodeManifest(good), otherKey));
    refusedWith("SIGNATURE", () => verifyManifest(decodeManifest(good), []));
    refusedWith("MANIFEST", () => decodeManifest(good.subarray(0, good.length - 1)));
    refusedWith("MANIFEST", () => decodeManifest(Uint8Array.from([...good, 0])));
    refusedWith("MANIFEST", () => decodeManifest(good.subarray(1)));
    const with9 = goodPayload().set(9, 0);
    refusedWith("MANIFEST", () => decodeManifest(signRaw(with9)));
    const otherVendor = goodPayload().set(3, new Uint8Array(16));
    refusedWith("MANIFEST", () => decodeManifest(signRaw(otherVendor)));
    refusedWith("MANIFEST", () => decodeManifest(signRaw(goodPayload().set(2, 0))));
    refusedWith("MANIFEST", () => decodeManifest(signRaw(goodPayload().set(2, 2 ** 32))));
    refusedWith("MANIFEST", () => decodeManifest(signRaw(goodPayload().set(5, 65_537))));
    refusedWith("MANIFEST", () => decodeManifest(signRaw(goodPayload().set(6, [-44, new Uint8Array(32)]))));
    refusedWith("MANIFEST", () => decodeManifest(signRaw(goodPayload().set(8, "y".repeat(33)))));
    const noAbi = goodPayload();
    noAbi.delete(7);
    refusedWith("MANIFEST", () => decodeManifest(signRaw(noAbi)));
    refusedWith("MANIFEST", () => decodeManifest(signRaw(goodPayload(), undefined, new Map([[4, new Uint8Array(8)]]))));
    refusedWith("MANIFEST", () => decodeManifest(signRaw(goodPayload(), new Map<CborValue, CborValue>([[1, -7], [4, publisherKid(publicKey)]]))));
    // A well-formed manifest signed by hand is accepted: the refusals above are the format's, not the signer's.
    expect(openManifest(signRaw(goodPayload()), publicKey).manifest.version).toBe(2);
    // The same values in a non-deterministic encoding: the outer array of indefinite length.
    const det = signRaw(goodPayload());
    refusedWith("MANIFEST", () => decodeManifest(Uint8Array.from([det[0], 0x9f, ...det.subarray(2), 0xff])));
  });

  it("random bytes only ever throw FirmwareError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          decodeManifest(b);
        } catch (e) {
          expect(e).toBeInstanceOf(FirmwareError);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it("random manifests round-trip", () => {
    const arb = fc.record({
      version: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      imageBytes: fc.integer({ min: 1, max: 65_536 }),
      imageDigest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      abiVersion: fc.integer({ min: 1, max: 0xffff }),
      versionText: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(arb, (f) => {
        const signed = openManifest(signManifest(seed, f), publicKey);
        expect(signed.manifest).toEqual({ ...f, vendorId: firmwareVendorId, classId: firmwareClassId });
      }),
      { numRuns: 300 },
    );
  });

  it("refuses every mutation of a signed manifest (decode or verify), throwing only FirmwareError", () => {
    const original = signManifest(seed, fields);
    const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }));
    const mutation = fc.oneof(
      fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => (b: Uint8Array) => {
        const out = b.slice();
        for (const [at, v] of edits) out[at % out.length] = v;
        return out;
      }),
      fc.nat().map((n) => (b: Uint8Array) => b.subarray(0, n % b.length)),
      fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, ins]) => (b: Uint8Array) => {
        const i = at % (b.length + 1);
        return Uint8Array.from([...b.subarray(0, i), ...ins, ...b.subarray(i)]);
      }),
    );
    fc.assert(
      fc.property(mutation, (mutate) => {
        const mutated = mutate(original);
        if (Buffer.compare(mutated, original) === 0) return;
        try {
          openManifest(mutated, publicKey);
        } catch (e) {
          expect(e).toBeInstanceOf(FirmwareError);
          expect(["MANIFEST", "SIGNATURE"]).toContain((e as FirmwareError).code);
          return;
        }
        expect.unreachable(`mutated manifest accepted: ${toHex(mutated)}`);
      }),
      { numRuns: 5_000 },
    );
  });
});
