// shared/reading.ts: the TypeScript side of the signed-reading format. Round trip, independent
// verification with noble, and random/mutated input: decoding never throws anything but a
// ReadingError, and a mutated reading never verifies under the key its kid names.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { decodeReading, encodeCompactReading, encodeReading, partialIv, sigStructure, verifyReading } from "../../shared/reading.ts";
import { sensorCatalog } from "../../shared/sensor-catalog.ts";
import { shortKidBytes } from "../../shared/short-kid.ts";
import { deviceIdFromPublicKey, privateKeyObject, publicKeyFromSeed, publicKeyObject, toHex } from "../../shared/ed25519.ts";
import { ReadingError } from "../../shared/errors.ts";
import type { KeyObject } from "node:crypto";
import { Encoder } from "cbor-x";
import { encode } from "../../shared/cbor.ts";

const seed = randomBytes(32);
const publicKey = publicKeyFromSeed(seed);
const deviceId = deviceIdFromPublicKey(publicKey);
const key = privateKeyObject(seed);
const keysByKid = new Map<string, KeyObject>([[toHex(deviceId), publicKeyObject(publicKey)]]);

describe("signed reading", () => {
  it("round-trips and verifies under node:crypto and noble", () => {
    const bytes = encodeReading(key, deviceId, 300, [{ name: "temp", unit: "Cel", value: 21.5 }]);
    const r = decodeReading(bytes);
    expect(r.sequence).toBe(300);
    expect(r.records).toEqual([{ name: "temp", unit: "Cel", value: 21.5 }]);
    expect(verifyReading(r, keysByKid.get(toHex(r.deviceId))!)).toBe(true);
    expect(noble.verify(r.signature, sigStructure(r.protectedBytes, r.payloadBytes), publicKey)).toBe(true);
  });

  it("encodes sequence numbers as OSCORE-style Partial IVs", () => {
    expect([...partialIv(0)]).toEqual([0]);
    expect([...partialIv(255)]).toEqual([255]);
    expect([...partialIv(256)]).toEqual([1, 0]);
    expect([...partialIv(2 ** 40 - 1)]).toEqual([255, 255, 255, 255, 255]);
    expect(() => partialIv(2 ** 40)).toThrow(RangeError);
  });

  it("refuses readings that are structurally wrong, each with its code", () => {
    const good = encodeReading(key, deviceId, 1, [{ name: "t", value: 1 }]);
    expect(() => decodeReading(good.subarray(0, good.length - 1))).toThrowError(expect.objectContaining({ code: "READING_CBOR" }));
    expect(() => decodeReading(good.subarray(1))).toThrowError(expect.objectContaining({ code: "COSE_TAG" }));
    expect(() => decodeReading(new Uint8Array(2000))).toThrowError(expect.objectContaining({ code: "READING_TOO_LARGE" }));
    expect(() => decodeReading(Uint8Array.of(0x80))).toThrowError(expect.objectContaining({ code: "COSE_TAG" }));
  });

  it("never verifies a mutated reading, and decoding only ever throws ReadingError", () => {
    const record = fc.record({ name: fc.string({ minLength: 1, maxLength: 8 }), value: fc.double({ noNaN: true }) });
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 - 1 }), record, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (seq, rec, edits) => {
        const original = encodeReading(key, deviceId, seq, [rec]);
        const mutated = original.slice();
        for (const [at, v] of edits) mutated[at % mutated.length] = v;
        if (Buffer.compare(mutated, original) === 0) return;
        let r;
        try {
          r = decodeReading(mutated);
        } catch (e) {
          expect(e).toBeInstanceOf(ReadingError);
          return;
        }
        const k = keysByKid.get(toHex(r.deviceId));
        expect(k !== undefined && verifyReading(r, k)).toBe(false);
      }),
      { numRuns: 3_000 },
    );
  });

  it("only ever throws ReadingError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeReading(b);
        } catch (e) {
          expect(e).toBeInstanceOf(ReadingError);
        }
      }),
      { numRuns: 20_000 },
    );
  });
});

// Format 2 (compact): the short kid names a device only through the resolver (the chain's entries).
describe("compact reading (format 2)", () => {
  const shortKid = shortKidBytes(258); // h'0102'
  const resolve = (kid: Uint8Array) => (Buffer.compare(kid, shortKid) === 0 ? deviceId : undefined);
  const catalogRecord = fc.record({ index: fc.integer({ min: 0, max: sensorCatalog.length - 1 }), value: fc.double({ noNaN: true }) })
    .map(({ index, value }) => ({ name: sensorCatalog[index].name, unit: sensorCatalog[index].unit, value }));
  const kidArb = fc.constantFrom<Uint8Array>(shortKid, deviceId);

  it("round-trips under the short and the long kid, catalog records back to name and unit", () => {
    for (const kid of [shortKid, deviceId]) {
      const bytes = encodeCompactReading(key, kid, 300, [{ name: "temp", unit: "Cel", value: 21.5 }, { name: "fw", value: 3 }]);
      const r = decodeReading(bytes, resolve);
      expect(r.format).toBe(2);
      expect(toHex(r.deviceId)).toBe(toHex(deviceId));
      expect(r.records).toEqual([{ name: "temp", unit: "Cel", value: 21.5 }, { name: "fw", value: 3 }]);
      expect(verifyReading(r, keysByKid.get(toHex(deviceId))!)).toBe(true);
    }
    expect(encodeCompactReading(key, shortKid, 300, [{ name: "temp", unit: "Cel", value: 21.5 }]).length).toBe(89);
  });

  it("refuses a kid of the wrong shape, a digit outside the catalog and a catalog digit with a unit", () => {
    expect(() => encodeCompactReading(key, Uint8Array.of(0, 1), 1, [])).toThrow(RangeError);
    expect(() => decodeReading(encodeCompactReading(key, shortKid, 1, [{ name: "9", value: 1 }]), resolve)).toThrowError(expect.objectContaining({ code: "SENML_CATALOG" }));
    expect(() => decodeReading(encodeCompactReading(key, shortKid, 1, [{ name: "0", unit: "K", value: 1 }]), resolve)).toThrowError(expect.objectContaining({ code: "SENML_CATALOG" }));
  });

  it("never verifies a mutated compact reading under the key its kid resolves to; decoding only throws ReadingError", () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 - 1 }), kidArb, catalogRecord, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (seq, kid, rec, edits) => {
        const original = encodeCompactReading(key, kid, seq, [rec]);
        const ok = decodeReading(original, resolve);
        expect(ok.sequence).toBe(seq);
        expect(ok.records[0].name).toBe(rec.name);
        const mutated = original.slice();
        for (const [at, v] of edits) mutated[at % mutated.length] = v;
        if (Buffer.compare(mutated, original) === 0) return;
        let r;
        try {
          r = decodeReading(mutated, resolve);
        } catch (e) {
          expect(e).toBeInstanceOf(ReadingError);
          return;
        }
        const k = keysByKid.get(toHex(r.deviceId));
        expect(k !== undefined && verifyReading(r, k)).toBe(false);
      }),
      { numRuns: 3_000 },
    );
  });

  it("only ever throws ReadingError on random bytes behind a compact header", () => {
    const prefix = encodeCompactReading(key, shortKid, 1, [{ name: "temp", unit: "Cel", value: 1 }]).subarray(0, 13);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (tail, withPrefix) => {
        try {
          decodeReading(withPrefix ? Buffer.concat([prefix, tail]) : tail, resolve);
        } catch (e) {
          expect(e).toBeInstanceOf(ReadingError);
        }
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("sigStructure", () => {
  // Lengths around every head width boundary (RFC 8949 §4.2.1: 23/24, 255/256, 65,535/65,536).
  const lengths = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(23, 24, 255, 256, 65_535, 65_536, 70_000));
  const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

  it("writes exactly the deterministic CBOR of [\"Signature1\", protected, h'', payload], as our encoder and cbor-x do", () => {
    fc.assert(
      fc.property(lengths, lengths, fc.integer({ min: 0, max: 255 }), (p, q, seed) => {
        const prot = bytesOf(p, seed);
        const payload = bytesOf(q, seed + 1);
        const fast = sigStructure(prot, payload);
        expect(Buffer.from(fast).equals(Buffer.from(encode(["Signature1", prot, new Uint8Array(0), payload])))).toBe(true);
        const independent = new Encoder({ useRecords: false }).encode(["Signature1", Buffer.from(prot), Buffer.alloc(0), Buffer.from(payload)]);
        expect(Buffer.from(fast).equals(independent)).toBe(true);
        expect(fast.byteLength).toBe(fast.buffer.byteLength); // its own buffer, nothing past the end
      }),
      { numRuns: 300 },
    );
  });
});
