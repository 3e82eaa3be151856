// The process's cache of decoded readings (shared/decoded-readings.ts): for any bytes, random or a
// mutated real reading, and any kid resolver, the cache answers exactly what decodeReading and
// readingDigest answer, the first time and every time after, whichever resolver filled it.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { DecodedReadings } from "../../shared/decoded-readings.ts";
import { deviceIdFromPublicKey, privateKeyObject, publicKeyFromSeed } from "../../shared/ed25519.ts";
import { decodeReading, encodeCompactReading, encodeReading, readingDigest, type KidResolver, type SignedReading } from "../../shared/reading.ts";
import { sensorCatalog } from "../../shared/sensor-catalog.ts";
import { shortKidBytes } from "../../shared/short-kid.ts";

const seed = randomBytes(32);
const deviceId = deviceIdFromPublicKey(publicKeyFromSeed(seed));
const otherId = deviceIdFromPublicKey(publicKeyFromSeed(randomBytes(32)));
const key = privateKeyObject(seed);
const shortKid = shortKidBytes(258);

// A short kid can name one device, another (an uncommitted proposal's state) or none.
const resolvers: (KidResolver | undefined)[] = [undefined, () => undefined, (k) => (Buffer.compare(k, shortKid) === 0 ? deviceId : undefined), () => otherId];

type Outcome = { ok: true; reading: Omit<SignedReading, "bytes">; bytes: Uint8Array; digest: Uint8Array } | { ok: false; error: string };

function plain(bytes: Uint8Array, resolve?: KidResolver): Outcome {
  try {
    const { bytes: b, ...reading } = decodeReading(bytes, resolve);
    return { ok: true, reading, bytes: Uint8Array.from(b), digest: readingDigest(bytes) };
  } catch (e) {
    return { ok: false, error: `${(e as Error).constructor.name} ${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
}

function cached(cache: DecodedReadings, bytes: Uint8Array, resolve?: KidResolver): Outcome {
  try {
    const { reading: r, digest } = cache.decode(bytes, resolve);
    const { bytes: b, ...reading } = r;
    return { ok: true, reading, bytes: Uint8Array.from(b), digest };
  } catch (e) {
    return { ok: false, error: `${(e as Error).constructor.name} ${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
}

const record = fc.record({ index: fc.integer({ min: 0, max: sensorCatalog.length - 1 }), value: fc.double({ noNaN: true }) }).map(({ index, value }) => ({ name: sensorCatalog[index].name, unit: sensorCatalog[index].unit, value }));
const realReading = fc.tuple(fc.nat({ max: 2 ** 40 - 1 }), record, fc.constantFrom(0, 1, 2)).map(([seq, rec, form]) => (form === 0 ? encodeReading(key, deviceId, seq, [rec]) : encodeCompactReading(key, form === 1 ? shortKid : deviceId, seq, [rec])));
const mutated = fc.tuple(realReading, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 })).map(([b, edits]) => {
  const m = b.slice();
  for (const [at, v] of edits) m[at % m.length] = v;
  return m;
});
const anyBytes = fc.oneof(realReading, mutated, fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 1020, maxLength: 1100 }));

describe("decoded readings cache", () => {
  it("answers as decodeReading and readingDigest do, for every resolver, in any order of use", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyBytes, fc.nat(resolvers.length - 1), fc.nat(resolvers.length - 1)), { minLength: 1, maxLength: 8 }), (uses) => {
        const cache = new DecodedReadings(16);
        for (const [bytes, first, second] of uses) {
          // Filled through one resolver, read through another: the resolution is never cached.
          for (const r of [resolvers[first], resolvers[second], resolvers[first]]) {
            expect(cached(cache, bytes, r)).toEqual(plain(bytes, r));
            expect(cache.digest(bytes)).toEqual(readingDigest(bytes));
          }
        }
      }),
    );
  });

  // A Buffer too (a datagram, a SQLite row): Buffer's own slice() is a view, not a copy, and a
  // decoded reading's fields are views of the bytes it was decoded from (reading.ts).
  it("hits on equal bytes wherever they sit in memory, and keeps its own copy", () => {
    fc.assert(
      fc.property(realReading, fc.nat(16), fc.boolean(), (bytes, offset, buffer) => {
        const cache = new DecodedReadings(16);
        const frame = buffer ? Buffer.alloc(offset + bytes.length + 4) : new Uint8Array(offset + bytes.length + 4);
        frame.set(bytes, offset);
        const first = cache.decode(frame.subarray(offset, offset + bytes.length), resolvers[2]);
        frame.fill(0); // the frame is reused for other bytes: the cached reading must not change
        const again = cache.decode(bytes, resolvers[2]);
        expect(cache.stats).toEqual({ hits: 1, misses: 1 });
        expect(again.reading.bytes).toEqual(bytes);
        expect(first.reading.signature).toEqual(again.reading.signature);
        expect(first.reading.bytes.buffer).not.toBe(frame.buffer);
      }),
    );
  });

  it("does not cache bytes that do not decode, nor an unresolved short kid's device", () => {
    const cache = new DecodedReadings(16);
    const compact = encodeCompactReading(key, shortKid, 7, [{ name: "temp", unit: "Cel", value: 1 }]);
    expect(() => cache.decode(compact, () => undefined)).toThrow(/names no enrolled device/);
    expect(cache.decode(compact, resolvers[2]).reading.deviceId).toEqual(deviceId);
    expect(cache.decode(compact, resolvers[3]).reading.deviceId).toEqual(otherId);
    expect(() => cache.decode(new Uint8Array([1, 2, 3]))).toThrow();
    expect(cache.size).toBe(1);
  });

  it("holds at most entriesMax, the newest always among them; shared records cannot be changed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 32 }), fc.array(realReading, { maxLength: 80 }), (max, readings) => {
        const cache = new DecodedReadings(max);
        for (const bytes of readings) {
          const { reading } = cache.decode(bytes, resolvers[2]);
          expect(cache.size).toBeLessThanOrEqual(max);
          const { misses } = cache.stats;
          cache.digest(bytes);
          expect(cache.stats.misses).toBe(misses);
          expect(Object.isFrozen(reading.records) && reading.records.every((r) => Object.isFrozen(r))).toBe(true);
        }
      }),
    );
  });
});
