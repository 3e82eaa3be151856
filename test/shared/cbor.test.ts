// shared/cbor.ts against RFC 8949's own examples (the same vector file the device tests read),
// against cbor-x as an independent implementation, and under random and mutated input: the strict
// decoder either returns a value that re-encodes to exactly the input, or throws CborError.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { decode as cborxDecode, encode as cborxEncode } from "cbor-x";
import { decode, encode, CborFloat, Tagged, type CborValue } from "../../shared/cbor.ts";
import { CborError } from "../../shared/errors.ts";

const vectors = JSON.parse(readFileSync(new URL("../vectors/cbor-rfc8949.json", import.meta.url), "utf8"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
// The strict profile has no simple values beyond false/true/null/undefined.
const outsideProfile = (h: string) => /^(f0|f8)/.test(h);

describe("RFC 8949 Appendix A", () => {
  it("decodes every deterministic example and re-encodes it to the same bytes", () => {
    const deterministic = vectors.examples.filter((e: any) => e.deterministic && !outsideProfile(e.hex));
    expect(deterministic.length).toBeGreaterThan(50);
    for (const e of deterministic) expect(hex(encode(decode(bytes(e.hex)))), e.diagnostic).toBe(e.hex);
  });

  it("refuses every example that is not in core deterministic encoding", () => {
    for (const e of vectors.examples.filter((x: any) => !x.deterministic)) {
      expect(() => decode(bytes(e.hex)), e.diagnostic).toThrowError(CborError);
    }
  });

  it("refuses every Appendix F.1 item that is not well-formed", () => {
    for (const e of vectors.notWellFormed) expect(() => decode(bytes(e.hex)), e.category).toThrowError(CborError);
  });
});

const cborValue = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.integer(),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.string(),
    fc.uint8Array({ maxLength: 40 }),
    fc.boolean(),
    fc.constant(null),
    fc.double().map((d) => new CborFloat(d)),
    fc.array(tie("value"), { maxLength: 5 }),
    fc.uniqueArray(fc.tuple(fc.oneof(fc.integer(), fc.string()), tie("value")), { maxLength: 5, selector: ([k]) => (typeof k === "string" ? `s${k}` : `i${k}`) }).map((e) => new Map<CborValue, CborValue>(e)),
    fc.tuple(fc.integer({ min: 0, max: 2 ** 32 }), tie("value")).map(([t, v]) => new Tagged(t, v)),
  ),
})).value;

describe("deterministic codec", () => {
  it("round-trips random values byte for byte", () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        const b = encode(v);
        expect(hex(encode(decode(b)))).toBe(hex(b));
      }),
      { numRuns: 5_000 },
    );
  });

  // A JS number that is integral is written as a CBOR integer (-0 included: it is 0); floats that
  // must stay floats are wrapped in CborFloat.
  it("writes bytes that cbor-x reads as the same value", () => {
    const plain: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: "small" }, fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true }).filter((d) => !Object.is(d, -0)), fc.array(tie("v"), { maxLength: 5 })),
    })).v;
    fc.assert(
      fc.property(plain, (v) => {
        const ours = encode(v as CborValue);
        // cbor-x returns 8-byte integers as bigint; compare numbers as numbers.
        const norm = (x: unknown): unknown => (typeof x === "bigint" ? Number(x) : Array.isArray(x) ? x.map(norm) : x);
        expect(norm(cborxDecode(ours))).toEqual(v);
      }),
      { numRuns: 5_000 },
    );
  });

  // Text is read and written ASCII-first (cbor.ts Writer.text, Reader.text): any Unicode must still
  // be written as cbor-x writes it, read back the same, and invalid UTF-8 refused wherever it sits.
  it("writes and reads any Unicode text as cbor-x does, and refuses invalid UTF-8", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.string({ maxLength: 8 }), (text, ascii) => {
        for (const s of [text, ascii + text, text + ascii]) {
          const ours = encode(s);
          expect(hex(ours)).toBe(hex(cborxEncode(s)));
          expect(decode(ours)).toBe(s);
        }
      }),
      { numRuns: 2_000 },
    );
    for (const bad of ["62c328", "6461626380", "6280c3", "61ff"]) {
      expect(() => decode(Buffer.from(bad, "hex")), bad).toThrow(/UTF-8/);
    }
    expect(decode(Buffer.from("6461c3a962", "hex"))).toBe("aéb");
  });

  it("refuses every argument width one narrower form could hold, and accepts the smallest that needs it (§4.2.1)", () => {
    const widths: [string, string][] = [
      ["1817", "1818"],
      ["1900ff", "190100"],
      ["1a0000ffff", "1a00010000"],
      ["1b00000000ffffffff", "1b0000000100000000"],
    ];
    for (const [tooWide, smallest] of widths) {
      expect(() => decode(Buffer.from(tooWide, "hex")), tooWide).toThrow(/shortest form/);
      expect(hex(encode(decode(Buffer.from(smallest, "hex"))))).toBe(smallest);
      // The same head as a byte string's length: refused before any byte is read.
      expect(() => decode(Buffer.from("5" + tooWide.slice(1), "hex")), `bytes ${tooWide}`).toThrow(/shortest form/);
    }
  });

  it("sorts map keys by their encoding (§4.2.1)", () => {
    const m = new Map<CborValue, CborValue>([["b", 1], [10, 2], [-1, 3], ["a", 4], [100, 5]]);
    expect(hex(encode(m))).toBe("a50a02186405200361610461620" + "1");
  });

  it("encodes floats in their shortest exact form", () => {
    expect(hex(encode(new CborFloat(1.5)))).toBe("f93e00");
    expect(hex(encode(new CborFloat(100000)))).toBe("fa47c35000");
    expect(hex(encode(new CborFloat(1.1)))).toBe("fb3ff199999999999a");
    expect(hex(encode(new CborFloat(5.960464477539063e-8)))).toBe("f90001");
    expect(hex(encode(new CborFloat(-0)))).toBe("f98000");
    expect(hex(encode(new CborFloat(NaN)))).toBe("f97e00");
  });

  it("reads floats back from the bits of every width, and refuses one wider than its shortest exact form", () => {
    // f64 arguments below 2^53 come through the number path, the others through bigint (cbor.ts head).
    for (const v of [5e-324, 3 * 5e-324, -5e-324, 1.1, -1e300, 2 ** -1000, 123456.789, Number.MAX_VALUE]) {
      const b = encode(new CborFloat(v));
      expect(b.length).toBe(9);
      expect((decode(b) as CborFloat).value).toBe(v);
    }
    for (const v of [100000, -3.4028234663852886e38, 2 ** -149]) expect((decode(encode(new CborFloat(v))) as CborFloat).value).toBe(v);
    const wider = (v: number, width: 4 | 8) => {
      const b = new Uint8Array(1 + width);
      const view = new DataView(b.buffer);
      b[0] = width === 4 ? 0xfa : 0xfb;
      if (width === 4) view.setFloat32(1, v);
      else view.setFloat64(1, v);
      return b;
    };
    for (const [v, width] of [[1.5, 4], [1.5, 8], [100000, 8], [-0, 4], [Infinity, 8], [NaN, 4], [NaN, 8], [5.960464477539063e-8, 8]] as const) {
      expect(() => decode(wider(v, width)), `${v} in ${width} bytes`).toThrowError(CborError);
    }
  });

  it("on random and mutated bytes either returns the exact re-encodable value or throws CborError", () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.tuple(cborValue, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([v, at, x]) => {
        const b = encode(v);
        if (b.length) b[at % b.length] = x;
        return b;
      }),
    );
    fc.assert(
      fc.property(input, (b) => {
        let v: CborValue;
        try {
          v = decode(b);
        } catch (e) {
          expect(e).toBeInstanceOf(CborError);
          return;
        }
        expect(hex(encode(v))).toBe(hex(b));
      }),
      { numRuns: 30_000 },
    );
  });

  it("enforces its limits", () => {
    expect(() => decode(encode([[[[[1]]]]]), { depthMax: 3, itemsMax: 10, bytesMax: 10 })).toThrowError(/nesting/);
    expect(() => decode(encode(new Uint8Array(11)), { depthMax: 3, itemsMax: 10, bytesMax: 10 })).toThrowError(/limit/);
    expect(() => decode(bytes("9bffffffffffffffff"))).toThrowError(CborError);
  });

  // The encoder and decoder take integers as numbers byte by byte up to 2^53 and as bigints beyond:
  // both paths must write the one shortest head (§4.2.1) and read back the same value, type included.
  it("writes and reads integer heads of every width at and around each boundary", () => {
    const referenceHead = (major: number, v: bigint): string => {
      const m = major << 5;
      if (v < 24n) return hex(Uint8Array.of(m | Number(v)));
      const width = v < 0x100n ? 1 : v < 0x10000n ? 2 : v < 0x100000000n ? 4 : 8;
      return hex(Uint8Array.of(m | (24 + Math.log2(width)))) + v.toString(16).padStart(2 * width, "0");
    };
    const edges = [0n, 23n, 24n, 255n, 256n, 65_535n, 65_536n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 2n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n];
    const safe = (v: bigint): boolean => v <= BigInt(Number.MAX_SAFE_INTEGER);
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...edges), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 53n })), (v) => {
        const expected = referenceHead(0, v);
        expect(hex(encode(v))).toBe(expected);
        if (safe(v)) expect(hex(encode(Number(v)))).toBe(expected);
        expect(decode(bytes(expected))).toStrictEqual(safe(v) ? Number(v) : v);
        const negative = referenceHead(1, v);
        expect(hex(encode(-1n - v))).toBe(negative);
        expect(decode(bytes(negative))).toStrictEqual(v < BigInt(Number.MAX_SAFE_INTEGER) ? Number(-1n - v) : -1n - v);
      }),
      { numRuns: 5_000 },
    );
  });
});
