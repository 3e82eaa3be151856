// shared/payload-anchor.ts with SenML's vd/ct (shared/senml.ts): anchors round-trip through a signed
// reading's exact bytes; random and mutated input either decodes to anchors that re-encode to the same
// records, or throws a ReadingError (never anything else).
import { generateKeyPairSync, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, encode } from "../../shared/cbor.ts";
import { ReadingError } from "../../shared/errors.ts";
import { anchorRecords, anchorsMax, payloadAnchors, type PayloadAnchor } from "../../shared/payload-anchor.ts";
import { decodeReading, encodeReading } from "../../shared/reading.ts";
import { senmlFromCbor, senmlToCbor, type SenmlRecord } from "../../shared/senml.ts";

const { privateKey } = generateKeyPairSync("ed25519");
const deviceId = new Uint8Array(16).fill(7);

const anchorArb: fc.Arbitrary<PayloadAnchor> = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/),
  digest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  bytes: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
  contentFormat: fc.integer({ min: 0, max: 65_535 }),
});

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof ReadingError)) throw e;
    return e.code;
  }
};

describe("payload anchors", () => {
  it("a 1 MiB JPEG anchor and a temperature ride in one signed reading and decode back exactly", () => {
    const digest = randomBytes(32);
    const records: SenmlRecord[] = [{ name: "temp", unit: "Cel", value: 21.5 }, ...anchorRecords({ name: "img", digest, bytes: 1 << 20, contentFormat: 22 })];
    const bytes = encodeReading(privateKey, deviceId, 9, records);
    const reading = decodeReading(bytes);
    expect(payloadAnchors(reading.records)).toEqual([{ name: "img", digest: new Uint8Array(digest), bytes: 1 << 20, contentFormat: 22 }]);
    // The CBOR of the anchor: {0: "img", 8: h'…', "ct": "22"} — integer labels first (RFC 8949 §4.2.1), ct as text (RFC 8428 §6).
    const pack = decode(reading.payloadBytes) as Map<unknown, unknown>[];
    expect([...pack[1].keys()]).toEqual([0, 8, "ct"]);
    expect(bytes.length).toBeLessThan(200);
  });

  it("round-trips any set of distinct anchors through a signed reading", () => {
    fc.assert(
      fc.property(fc.uniqueArray(anchorArb, { minLength: 1, maxLength: anchorsMax, selector: (a) => a.name }), (anchors) => {
        const bytes = encodeReading(privateKey, deviceId, 1, anchors.flatMap(anchorRecords));
        const got = payloadAnchors(decodeReading(bytes).records);
        expect(got).toEqual(anchors.map((a) => ({ ...a, digest: new Uint8Array(a.digest) })));
      }),
      { numRuns: 200 },
    );
  });

  it("refuses each way an anchor can be malformed", () => {
    const a: PayloadAnchor = { name: "img", digest: new Uint8Array(32), bytes: 100, contentFormat: 42 };
    const [vd, size] = anchorRecords(a);
    const cases: [string, SenmlRecord[]][] = [
      ["short digest", [{ ...vd, dataValue: new Uint8Array(31) }, size]],
      ["no ct", [{ name: "img", dataValue: new Uint8Array(32) }, size]],
      ["media type ct", [{ ...vd, contentFormat: "image/jpeg" }, size]],
      ["leading zero ct", [{ ...vd, contentFormat: "042" }, size]],
      ["ct too large", [{ ...vd, contentFormat: "65536" }, size]],
      ["no size", [vd]],
      ["two sizes", [vd, size, size]],
      ["size in kB", [vd, { ...size, unit: "kB" }]],
      ["fractional size", [vd, { ...size, value: 1.5 }]],
      ["zero size", [vd, { ...size, value: 0 }]],
      ["size past 2^32-1", [vd, { ...size, value: 2 ** 32 }]],
      ["twice the same name", [vd, size, vd]],
      ["timed", [{ ...vd, time: 5 }, size]],
    ];
    for (const [what, records] of cases) expect(codeOf(() => payloadAnchors(records)), what).toBe("PAYLOAD_ANCHOR");
  });

  it("SenML itself refuses ct without vd, a non-bytes vd, and vd beside another value", () => {
    expect(codeOf(() => senmlFromCbor([new Map<unknown, unknown>([[0, "x"], [2, 1], ["ct", "42"]])] as never))).toBe("SENML_SHAPE");
    expect(codeOf(() => senmlFromCbor([new Map<unknown, unknown>([[0, "x"], [8, "text"]])] as never))).toBe("SENML_TYPE");
    expect(codeOf(() => senmlFromCbor([new Map<unknown, unknown>([[0, "x"], [8, new Uint8Array(32)], [2, 1]])] as never))).toBe("SENML_SHAPE");
  });

  it("mutated anchor packs decode to anchors that re-encode to their records, or throw ReadingError", () => {
    const base = encode(senmlToCbor([...anchorRecords({ name: "wave", digest: randomBytes(32), bytes: 4096, contentFormat: 60 }), { name: "temp", value: 1 }]));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const bytes = Uint8Array.from(base);
        for (const [i, v] of flips) bytes[i] = v;
        let records: SenmlRecord[];
        try {
          records = senmlFromCbor(decode(bytes, { depthMax: 3, itemsMax: 16, bytesMax: 64 }));
        } catch (e) {
          expect((e as Error).name).toMatch(/ReadingError|CborError/);
          return;
        }
        let anchors: PayloadAnchor[];
        try {
          anchors = payloadAnchors(records);
        } catch (e) {
          expect(e).toBeInstanceOf(ReadingError);
          return;
        }
        for (const a of anchors) {
          const [vd] = anchorRecords(a);
          expect(records.find((r) => r.name === a.name && r.dataValue)?.dataValue).toEqual(vd.dataValue);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("random records never throw anything but ReadingError", () => {
    const recordArb: fc.Arbitrary<SenmlRecord> = fc.record(
      {
        name: fc.constantFrom("img", "wave", "temp"),
        unit: fc.constantFrom("B", "Cel", "kB"),
        value: fc.oneof(fc.integer({ min: -5, max: 2 ** 33 }), fc.double()),
        dataValue: fc.uint8Array({ minLength: 30, maxLength: 33 }),
        contentFormat: fc.constantFrom("0", "42", "22", "x", "-1", "99999"),
      },
      { requiredKeys: ["name"] },
    );
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 16 }), (records) => {
        try {
          const anchors = payloadAnchors(records);
          for (const a of anchors) expect(a.digest.length).toBe(32);
        } catch (e) {
          expect(e).toBeInstanceOf(ReadingError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
