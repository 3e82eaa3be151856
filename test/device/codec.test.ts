// The firmware's wire codecs (device/codec/*), through the test-only harness device/harness/codec.ts:
// RFC vectors (test/vectors/), independent implementations (cbor-x, coap-packet,
// @serialport/parser-slip-encoder) and fuzzed input that must never trap.
// Build first: `node device/build.mjs harness-codec` (npm test does it in pretest).
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { Readable, type Transform } from "node:stream";
import { Decoder, Encoder, Tag } from "cbor-x";
import { parse as coapPacketParse, generate as coapPacketGenerate } from "coap-packet";
import { SlipEncoder, SlipDecoder } from "@serialport/parser-slip-encoder";
import { loadDeviceModule, type Harness } from "../support/wasm.ts";

interface CborExample { diagnostic: string; hex: string; encode: [string, ...unknown[]][] | null; deterministic: boolean }
interface CborVectors { examples: CborExample[]; notWellFormed: { category: string; hex: string }[] }
interface CoapMessage { type: number; code: string; mid: number; token: string; options: { number: number; value: string }[]; payload: string }
interface CoapVectors { valid: { name: string; hex: string; message: CoapMessage }[]; invalid: { name: string; hex: string }[] }

const vectorsDir = new URL("../vectors/", import.meta.url);
const cborVectors: CborVectors = JSON.parse(readFileSync(new URL("cbor-rfc8949.json", vectorsDir), "utf8"));
const coapVectors: CoapVectors = JSON.parse(readFileSync(new URL("coap-rfc7252.json", vectorsDir), "utf8"));

const cbor = new Decoder({ mapsAsObjects: false, useRecords: false });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

// Error codes of device/codec/*.ts (kept in step by the vector tests below).
const CBOR_E_TRUNCATED = -1, CBOR_E_RESERVED = -2, CBOR_E_INDEFINITE = -3, CBOR_E_NOT_SHORTEST = -4;
const COAP_E_TOO_MANY_OPTIONS = -7, COAP_E_OPTION_FORMAT = -5, COAP_E_BAD_ARGUMENT = -8;

let h: Harness;
let x: Record<string, any>;
let IN = 0; // scratch + 0: inputs (4 KiB)
let OUT = 0; // scratch + 4096: outputs (4 KiB)
const HALF = 4096;

beforeAll(() => {
  h = loadDeviceModule("harness-codec");
  x = h.exports;
  IN = x.scratch();
  OUT = IN + HALF;
  expect(x.scratchBytes()).toBe(8192);
});

/** Runs a vector's encoder calls on the device; the bytes written, or null on overflow. */
function deviceEncode(ops: [string, ...unknown[]][], cap = HALF): Uint8Array | null {
  x.cborWriterInit(OUT, cap);
  let at = IN;
  const put = (data: Uint8Array) => { h.write(at, data); const p = at; at += data.length; return p; };
  for (const [op, arg] of ops) {
    switch (op) {
      case "uint": x.cborUint(BigInt(arg as string)); break;
      case "nint": x.cborHead(1, BigInt(arg as string)); break;
      case "int": x.cborInt(BigInt(arg as string)); break;
      case "float": x.cborFloat(arg === "-0" ? -0 : Number(arg)); break;
      case "bytes": { const d = unhex(arg as string); x.cborBytes(put(d), d.length); break; }
      case "text": { const d = new Uint8Array(Buffer.from(arg as string, "utf8")); x.cborText(put(d), d.length); break; }
      case "array": x.cborArray(arg); break;
      case "map": x.cborMap(arg); break;
      case "tag": x.cborTag(BigInt(arg as string)); break;
      case "simple": x.cborHead(7, BigInt(arg as number)); break;
      case "bool": x.cborBool(arg ? 1 : 0); break;
      case "null": x.cborNull(); break;
      default: throw new Error(`unknown op ${op}`);
    }
  }
  const n = x.cborWriterLength();
  return n < 0 ? null : h.bytes(OUT, n);
}

/** Skips one item of `data` on the device; the offset reached, or -1 if cborSkip refused it. */
function deviceSkip(data: Uint8Array, strict: boolean): number {
  h.write(IN, data);
  x.cborStrict.value = strict ? 1 : 0;
  x.cborReaderInit(IN, data.length);
  const ok = x.cborSkip();
  x.cborStrict.value = 0;
  return ok ? x.cborReaderOffset() : -1;
}

/** Every value exactly representable in IEEE 754 binary16 (for the preferred-float width check). */
const halfValues = (() => {
  const set = new Set<number>();
  for (let bits = 0; bits < 0x10000; bits++) {
    const e = (bits >> 10) & 0x1f, m = bits & 0x3ff, s = bits & 0x8000 ? -1 : 1;
    if (e === 31) continue;
    set.add(s * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15)));
  }
  return set;
})();

/** Width in bytes of the preferred serialization of v (RFC 8949 §4.2.2), head included. */
function preferredWidth(v: number): number {
  if (Number.isNaN(v) || !Number.isFinite(v) || halfValues.has(v)) return 3;
  return Math.fround(v) === v ? 5 : 9;
}

/** Doubles of every kind: random bit patterns, f32- and f16-exact values, specials, subnormals. */
const anyDouble = fc.oneof(
  fc.double(),
  fc.double({ noNaN: true, min: -1e-300, max: 1e-300 }),
  fc.float().map((f) => f),
  fc.integer({ min: 0, max: 0xffff }).map((bits) => {
    const e = (bits >> 10) & 0x1f, m = bits & 0x3ff, s = bits & 0x8000 ? -1 : 1;
    return e === 31 ? (m ? NaN : s * Infinity) : s * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
  }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((bits) => {
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, bits);
    return view.getFloat64(0);
  }),
  fc.integer().map((i) => i),
  fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 5e-324, -5e-324, 2.2250738585072014e-308,
    Number.MAX_VALUE, Number.MIN_VALUE, 65504, 65505, 2 ** -24, 2 ** -25, 2 ** -149, 2 ** -150, 1.1, 21.5, 101325),
);

const sameNumber = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

// ---------------------------------------------------------------------------------------------------
describe("CBOR (RFC 8949)", () => {
  it("reproduces every Appendix A example a deterministic encoder can produce", () => {
    const encodable = cborVectors.examples.filter((e) => e.encode);
    expect(encodable.length).toBeGreaterThan(60);
    for (const e of encodable) {
      expect(hex(deviceEncode(e.encode!)!), e.diagnostic).toBe(e.hex);
    }
  });

  it("skips every Appendix A example; the strict reader takes exactly the deterministic ones", () => {
    for (const e of cborVectors.examples) {
      const bytes = unhex(e.hex);
      expect(deviceSkip(bytes, false), e.diagnostic).toBe(bytes.length);
      expect(deviceSkip(bytes, true), `${e.diagnostic} strict`).toBe(e.deterministic ? bytes.length : -1);
    }
  });

  it("rejects every Appendix F.1 example that is not well-formed", () => {
    for (const e of cborVectors.notWellFormed) {
      expect(deviceSkip(unhex(e.hex), false), `${e.hex} (${e.category})`).toBe(-1);
    }
  });

  it("reads heads: major type, argument, additional information, and names the error", () => {
    const head = (s: string, strict = false) => {
      const d = unhex(s);
      h.write(IN, d);
      x.cborStrict.value = strict ? 1 : 0;
      x.cborReaderInit(IN, d.length);
      const m = x.cborReadHead();
      x.cborStrict.value = 0;
      return [m, m >= 0 ? BigInt.asUintN(64, x.cborValue.value) : null, m >= 0 ? x.cborAdditional.value : null, x.cborReaderOffset()];
    };
    expect(head("1bffffffffffffffff")).toEqual([0, 0xffffffffffffffffn, 27, 9]);
    expect(head("3903e7")).toEqual([1, 999n, 25, 3]);
    expect(head("d818")).toEqual([6, 24n, 24, 2]);
    expect(head("fb3ff199999999999a")).toEqual([7, 0x3ff199999999999an, 27, 9]);
    expect(head("9f")).toEqual([4, 0n, 31, 1]);
    expect(head("9f", true)[0]).toBe(CBOR_E_INDEFINITE);
    expect(head("1f")[0]).toBe(CBOR_E_INDEFINITE);
    expect(head("1c")[0]).toBe(CBOR_E_RESERVED);
    expect(head("f818")[0]).toBe(CBOR_E_RESERVED);
    expect(head("1a0001")).toEqual([CBOR_E_TRUNCATED, null, null, 0]);
    expect(head("")[0]).toBe(CBOR_E_TRUNCATED);
    // Non-shortest heads: well-formed, but not deterministic (§4.2.1).
    for (const s of ["1817", "190018", "1a0000ffff", "1b00000000ffffffff", "5800", "fa3c000000"]) {
      expect(head(s)[0], s).toBeGreaterThanOrEqual(0);
    }
    for (const s of ["1817", "190018", "1900ff", "1a0000ffff", "1b00000000ffffffff", "5800", "9800", "fa3f800000", "fb3ff0000000000000", "f97e01"]) {
      expect(head(s, true)[0], `${s} strict`).toBe(CBOR_E_NOT_SHORTEST);
    }
  });

  it("reads strings in place and refuses the wrong type or a short content", () => {
    const d = unhex("82" + "43010203" + "6449455446");
    h.write(IN, d);
    x.cborReaderInit(IN, d.length);
    expect(x.cborReadHead()).toBe(4);
    expect(x.cborReadText()).toBe(-5); // a byte string is next
    expect(x.cborReaderOffset()).toBe(1);
    expect(x.cborReadBytes()).toBe(3);
    expect(hex(h.bytes(x.cborContentPtr.value, 3))).toBe("010203");
    expect(x.cborReadText()).toBe(4);
    expect(Buffer.from(h.bytes(x.cborContentPtr.value, 4)).toString()).toBe("IETF");
    expect(x.cborReaderRemaining()).toBe(0);
    const short = unhex("45010203");
    h.write(IN, short);
    x.cborReaderInit(IN, short.length);
    expect(x.cborReadBytes()).toBe(CBOR_E_TRUNCATED);
    expect(x.cborReaderOffset()).toBe(0);
  });

  it("never writes past cap: every shorter buffer overflows to -1 and leaves the rest untouched", () => {
    for (const e of cborVectors.examples.filter((v) => v.encode)) {
      const len = e.hex.length / 2;
      for (let cap = 0; cap < len; cap++) {
        h.write(OUT, new Uint8Array(len + 8).fill(0xa5));
        expect(deviceEncode(e.encode!, cap), `${e.diagnostic} cap ${cap}`).toBeNull();
        expect(h.bytes(OUT + cap, len + 8 - cap).every((b) => b === 0xa5), `${e.diagnostic} cap ${cap}`).toBe(true);
      }
      expect(hex(deviceEncode(e.encode!, len)!)).toBe(e.hex);
    }
    x.cborWriterInit(65000, 1000); // a region past the end of memory: refused, not trapped
    x.cborUint(1n);
    expect(x.cborWriterLength()).toBe(-1);
  });

  it("writes every float in its shortest exact form, decoded by cbor-x to the same value", () => {
    fc.assert(fc.property(anyDouble, (v) => {
      x.cborWriterInit(OUT, 16);
      x.cborFloat(v);
      const n = x.cborWriterLength();
      const bytes = h.bytes(OUT, n);
      expect(n).toBe(preferredWidth(v));
      if (Number.isNaN(v)) expect(hex(bytes)).toBe("f97e00");
      expect(sameNumber(cbor.decode(Buffer.from(bytes)), v)).toBe(true);
      expect(deviceSkip(bytes, true)).toBe(n); // and the strict reader agrees it is preferred
    }), { numRuns: 5000 });
  });

  it("writes integers that cbor-x decodes to the same value, in the shortest head", () => {
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (v) => {
      x.cborWriterInit(OUT, 16);
      x.cborInt(v);
      const bytes = h.bytes(OUT, x.cborWriterLength());
      expect(BigInt(cbor.decode(Buffer.from(bytes)))).toBe(v);
      expect(deviceSkip(bytes, true)).toBe(bytes.length);
    }), { numRuns: 2000 });
  });

  it("skips nesting up to 8 levels and refuses a 9th", () => {
    expect(deviceSkip(unhex("81".repeat(7) + "00"), true)).toBe(8);
    expect(deviceSkip(unhex("81".repeat(8) + "00"), true)).toBe(-1);
    expect(deviceSkip(unhex("c1".repeat(1000) + "00"), true)).toBe(1001); // tags do not nest the stack
  });
});

// ---------------------------------------------------------------------------------------------------
describe("SenML (RFC 8428 CBOR), compact: catalog digit as name, no unit", () => {
  function senml(sensor: number, v: number, cap = 256): Uint8Array | null {
    const len = x.senmlEncodeReading(OUT, cap, sensor, v, 0);
    return len < 0 ? null : h.bytes(OUT, len);
  }

  it("encodes [{0: \"0\", 2: v}] byte for byte", () => {
    expect(hex(senml(0, 21.5)!)).toBe("81a200613002f94d60");
  });

  it("decodes with cbor-x to one record with keys 0, 2 in order, for every sensor and every kind of value", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), anyDouble, (sensor, v) => {
      const bytes = senml(sensor, v)!;
      const pack = cbor.decode(Buffer.from(bytes));
      expect(Array.isArray(pack) && pack.length === 1).toBe(true);
      const record = pack[0] as Map<number, unknown>;
      expect([...record.keys()]).toEqual([0, 2]);
      expect(record.get(0)).toBe(String(sensor));
      expect(sameNumber(record.get(2) as number, v)).toBe(true);
      expect(bytes.length).toBe(1 + 1 + 1 + 2 + 1 + preferredWidth(v));
    }), { numRuns: 3000 });
  });

  it("returns -1 for every buffer too short", () => {
    const full = senml(2, 101325.25)!;
    for (let cap = 0; cap < full.length; cap++) expect(senml(2, 101325.25, cap)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------
describe("COSE_Sign1 (RFC 9052)", () => {
  /** Kids: a 2-byte short kid unless given (written at IN + 512, out of the way of the callers' regions). */
  function protectedHeader(seq: bigint, cap = 64, kid: Uint8Array = Uint8Array.of(1, 2)): Uint8Array | null {
    h.write(IN + 512, kid);
    const n = x.coseProtectedHeader(OUT, cap, IN + 512, kid.length, seq);
    return n < 0 ? null : h.bytes(OUT, n);
  }

  /** RFC 8613 §5.4: big-endian, no leading zeros, 0 as one zero byte. */
  function partialIv(seq: bigint): string {
    let s = seq.toString(16);
    if (s.length % 2) s = "0" + s;
    return s;
  }

  it("protected header {4: h'<kid>', 6: h'<seq>'} for boundary and random sequence numbers", () => {
    expect(hex(protectedHeader(0n)!)).toBe("a20442010206410" + "0");
    expect(hex(protectedHeader(300n)!)).toBe("a2044201020642012c");
    expect(hex(protectedHeader(1n, 64, new Uint8Array(16).fill(0xab))!)).toBe("a20450" + "ab".repeat(16) + "064101");
    const seqs = [0n, 1n, 23n, 24n, 255n, 256n, 65535n, 65536n, (1n << 32n) - 1n, 1n << 32n, (1n << 40n) - 1n];
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), (s) => { seqs.push(s); }), { numRuns: 300 });
    for (const seq of seqs) {
      const bytes = protectedHeader(seq)!;
      const map = cbor.decode(Buffer.from(bytes)) as Map<number, unknown>;
      expect([...map.keys()]).toEqual([4, 6]);
      expect(hex(map.get(4) as Uint8Array)).toBe("0102");
      expect(hex(map.get(6) as Uint8Array)).toBe(partialIv(seq));
      expect(deviceSkip(bytes, true)).toBe(bytes.length);
    }
    expect(protectedHeader(1n << 40n)).toBeNull(); // more than 5 bytes of Partial IV
    expect(protectedHeader(0xffffffffffffffffn)).toBeNull();
    expect(protectedHeader(1n, 7)).toBeNull(); // the whole header is 8 bytes
  });

  it("Sig_structure equals RFC 9052 §4.4's array encoded by an independent encoder (cbor-x)", () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), fc.uint8Array({ maxLength: 400 }),
      (seq, payload) => {
        const prot = protectedHeader(seq)!;
        h.write(IN, prot);
        h.write(IN + 64, payload);
        const n = x.coseSigStructure(OUT, 1024, IN, prot.length, IN + 64, payload.length);
        const expected = new Encoder({ useRecords: false }).encode(["Signature1", Buffer.from(prot), Buffer.alloc(0), Buffer.from(payload)]);
        expect(hex(h.bytes(OUT, n))).toBe(hex(expected));
        expect(x.coseSigStructure(OUT, n - 1, IN, prot.length, IN + 64, payload.length)).toBe(-1);
      }), { numRuns: 500 });
  });

  it("COSE_Sign1 18([prot {4: kid, 6: seq}, {}, payload, sig]) decodes with cbor-x; a short-kid reading fits in 96 bytes", () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 1, maxLength: 4 })),
      fc.uint8Array({ minLength: 64, maxLength: 64 }), anyDouble,
      (seq, kid, sig, v) => {
        const prot = protectedHeader(seq, 64, kid)!;
        h.write(IN, prot);
        h.write(IN + 64, sig);
        const payloadLen = x.senmlEncodeReading(IN + 256, 64, 0, v, 0);
        const n = x.coseSign1(OUT, 256, IN, prot.length, IN + 256, payloadLen, IN + 64);
        expect(n).toBeGreaterThan(0);
        // 4 bytes of CoAP header and the payload marker go around it: ≤ 96 for a short kid and seq < 2^16 as float16.
        if (kid.length <= 2 && seq < 1n << 16n && preferredWidth(v) === 3) expect(n + 5).toBeLessThanOrEqual(96);
        const msg = h.bytes(OUT, n);
        const tag = cbor.decode(Buffer.from(msg)) as Tag;
        expect(tag).toBeInstanceOf(Tag);
        expect(tag.tag).toBe(18);
        const [p, unprotected, payload, signature] = tag.value as [Uint8Array, Map<number, Uint8Array>, Uint8Array, Uint8Array];
        expect(hex(p)).toBe(hex(prot));
        const header = cbor.decode(Buffer.from(p)) as Map<number, unknown>;
        expect([...header.keys()]).toEqual([4, 6]);
        expect(hex(header.get(4) as Uint8Array)).toBe(hex(kid));
        expect(hex(header.get(6) as Uint8Array)).toBe(partialIv(seq));
        expect(unprotected.size).toBe(0);
        expect(hex(signature)).toBe(hex(sig));
        const record = (cbor.decode(Buffer.from(payload)) as Map<number, unknown>[])[0];
        expect(sameNumber(record.get(2) as number, v)).toBe(true);
        expect(deviceSkip(msg, true)).toBe(n);
        expect(x.coseSign1(OUT, n - 1, IN, prot.length, IN + 256, payloadLen, IN + 64)).toBe(-1);
      }), { numRuns: 500 });
  });
});

// ---------------------------------------------------------------------------------------------------
// coap-packet names the options it knows; everything else comes back as the number in a string.
const COAP_OPTION_NAMES: Record<string, number> = {
  "If-Match": 1, "Uri-Host": 3, ETag: 4, "If-None-Match": 5, Observe: 6, "Uri-Port": 7, "Location-Path": 8,
  OSCORE: 9, "Uri-Path": 11, "Content-Format": 12, "Max-Age": 14, "Uri-Query": 15, "Hop-Limit": 16, Accept: 17,
  "Q-Block1": 19, "Location-Query": 20, Block2: 23, Block1: 27, Size2: 28, "Q-Block2": 31, "Proxy-Uri": 35,
  "Proxy-Scheme": 39, Size1: 60, "No-Response": 258, "OCF-Accept-Content-Format-Version": 2049,
  "OCF-Content-Format-Version": 2053,
};
const optionNumber = (name: string | number) => COAP_OPTION_NAMES[name as string] ?? Number(name);
const codeByte = (code: string) => { const [c, d] = code.split("."); return (Number(c) << 5) | Number(d); };
const codeString = (b: number) => `${b >> 5}.${String(b & 31).padStart(2, "0")}`;

/** Encodes a message description on the device; the bytes, or null if coapEnd refused. */
function deviceCoapEncode(m: CoapMessage, cap = HALF): Uint8Array | null {
  const token = unhex(m.token);
  h.write(IN, token);
  x.coapBegin(OUT, cap, m.type, codeByte(m.code), m.mid, IN, token.length);
  let at = IN + 16;
  for (const o of m.options) {
    const v = unhex(o.value);
    h.write(at, v);
    x.coapOption(o.number, at, v.length);
    at += v.length;
  }
  const payload = unhex(m.payload);
  h.write(at, payload);
  x.coapPayload(at, payload.length);
  const n = x.coapEnd();
  return n < 0 ? null : h.bytes(OUT, n);
}

/** Parses bytes on the device; the message it read (options via coapOptionFind) or the error code. */
function deviceCoapParse(bytes: Uint8Array): CoapMessage | number {
  h.write(IN, bytes);
  const rc = x.coapParse(IN, bytes.length);
  if (rc < 0) return rc;
  const options: { number: number; value: string }[] = [];
  for (let i = 0; ; i++) {
    const number = x.coapOptionAt(i);
    if (number < 0) break;
    const p = x.coapOptionPtr.value, len = x.coapOptionLen.value;
    expect(p).toBeGreaterThanOrEqual(IN);
    expect(p + len).toBeLessThanOrEqual(IN + bytes.length);
    // The lookup by number finds the same occurrence.
    const nth = options.filter((o) => o.number === number).length;
    expect(x.coapOptionFind(number, nth)).toBe(len);
    expect(x.coapOptionPtr.value).toBe(p);
    options.push({ number, value: hex(h.bytes(p, len)) });
  }
  expect(options.length).toBe(x.coapOptionCount.value);
  const tokenLen = x.coapTokenLen.value, payloadLen = x.coapPayloadLen.value;
  return {
    type: x.coapType.value,
    code: codeString(x.coapCode.value),
    mid: x.coapMid.value,
    token: hex(h.bytes(x.coapTokenPtr.value, tokenLen)),
    options,
    payload: payloadLen ? hex(h.bytes(x.coapPayloadPtr.value, payloadLen)) : "",
  };
}

/** Random well-formed messages within the device's limits (token <= 8, <= 16 options). */
const coapMessage = fc.record({
  type: fc.integer({ min: 0, max: 3 }),
  code: fc.integer({ min: 1, max: 255 }).map(codeString),
  mid: fc.integer({ min: 0, max: 0xffff }),
  token: fc.uint8Array({ maxLength: 8 }).map(hex),
  options: fc.array(fc.record({
    number: fc.oneof(fc.constantFrom(1, 4, 6, 11, 12, 14, 15, 17, 23, 27, 28, 60), fc.integer({ min: 1, max: 3000 })),
    value: fc.oneof(fc.uint8Array({ maxLength: 14 }), fc.uint8Array({ maxLength: 300 })).map(hex),
  }), { maxLength: 16 }).map((os) => os.sort((a, b) => a.number - b.number)),
  payload: fc.uint8Array({ maxLength: 200 }).map(hex),
});

describe("CoAP message format (RFC 7252 §3)", () => {
  it("parses every valid layout to the described message and encodes it back byte for byte", () => {
    for (const v of coapVectors.valid) {
      expect(deviceCoapParse(unhex(v.hex)), v.name).toEqual(v.message);
      expect(hex(deviceCoapEncode(v.message)!), v.name).toBe(v.hex);
    }
    const upload = coapVectors.valid.find((v) => v.hex.startsWith("42020001"))!;
    h.write(IN, unhex(upload.hex));
    expect(x.coapParse(IN, upload.hex.length / 2)).toBe(0);
    expect(x.coapContentFormat.value).toBe(112);
  });

  it("refuses every invalid layout with a negative error", () => {
    for (const v of coapVectors.invalid) expect(deviceCoapParse(unhex(v.hex)), v.name).toBeLessThan(0);
  });

  it("device frames parse with coap-packet to the same fields", () => {
    fc.assert(fc.property(coapMessage, (m) => {
      const bytes = deviceCoapEncode(m)!;
      expect(bytes).not.toBeNull();
      const p = coapPacketParse(Buffer.from(bytes));
      expect(p.code).toBe(m.code);
      expect(p.messageId).toBe(m.mid);
      expect(p.confirmable ? 0 : p.ack ? 2 : p.reset ? 3 : 1).toBe(m.type);
      expect(hex(p.token)).toBe(m.token);
      expect(p.options.map((o) => ({ number: optionNumber(o.name), value: hex(o.value) }))).toEqual(m.options);
      expect(hex(p.payload)).toBe(m.payload);
    }), { numRuns: 1000 });
  });

  it("coap-packet's generate output parses on the device to the same fields", () => {
    fc.assert(fc.property(coapMessage, (m) => {
      const bytes = coapPacketGenerate({
        confirmable: m.type === 0, ack: m.type === 2, reset: m.type === 3,
        code: m.code, messageId: m.mid, token: Buffer.from(m.token, "hex"),
        options: m.options.map((o) => ({ name: String(o.number), value: Buffer.from(o.value, "hex") })),
        payload: Buffer.from(m.payload, "hex"),
      }, 8192);
      expect(deviceCoapParse(new Uint8Array(bytes))).toEqual(m);
    }), { numRuns: 1000 });
  });

  it("writes uint options in the fewest bytes, 0 as empty (§3.2)", () => {
    const cases: [number, string][] = [[0, ""], [1, "01"], [255, "ff"], [256, "0100"], [65535, "ffff"], [65536, "010000"], [0xffffffff, "ffffffff"]];
    for (const [v, want] of cases) {
      x.coapBegin(OUT, 64, 0, 2, 1, IN, 0);
      x.coapOptionUint(60, v);
      const n = x.coapEnd();
      const bytes = h.bytes(OUT, n);
      expect(deviceCoapParse(bytes)).toMatchObject({ options: [{ number: 60, value: want }] });
      h.write(IN, bytes);
      x.coapParse(IN, n);
      expect(x.coapOptionFindUint(60, 0)).toBe(BigInt(v));
    }
  });

  it("refuses misuse: decreasing options, options after the payload, long tokens, non-empty 0.00, overflow", () => {
    const begin = (code = 2, tokenLen = 0, cap = 64) => x.coapBegin(OUT, cap, 0, code, 7, IN, tokenLen);
    begin(); x.coapOption(12, IN, 1); x.coapOption(11, IN, 1);
    expect(x.coapEnd()).toBe(-1);
    begin(); x.coapPayload(IN, 3); x.coapOption(12, IN, 1);
    expect(x.coapEnd()).toBe(-1);
    begin(); x.coapPayload(IN, 3); x.coapPayload(IN, 3);
    expect(x.coapEnd()).toBe(-1);
    begin(2, 9);
    expect(x.coapEnd()).toBe(-1);
    begin(0, 1);
    expect(x.coapEnd()).toBe(-1);
    begin(0); x.coapPayload(IN, 1);
    expect(x.coapEnd()).toBe(-1);
    begin(0); x.coapPayload(IN, 0);
    expect(x.coapEnd()).toBe(4);
    x.coapBegin(OUT, 64, 4, 2, 7, IN, 0); // type 4 does not exist
    expect(x.coapEnd()).toBe(-1);
    // Every buffer shorter than the message overflows without writing past cap.
    const m = coapVectors.valid.find((v) => v.hex.startsWith("42020001"))!;
    for (let cap = 0; cap < m.hex.length / 2; cap++) {
      h.write(OUT, new Uint8Array(64).fill(0x5a));
      expect(deviceCoapEncode(m.message, cap)).toBeNull();
      expect(h.bytes(OUT + cap, 64 - cap).every((b) => b === 0x5a)).toBe(true);
    }
  });

  it("records at most 16 options, refuses option numbers past 65535 and regions outside memory", () => {
    const options = (n: number) => "40020001" + "b161" + "0161".repeat(n - 1);
    expect(deviceCoapParse(unhex(options(16)))).toMatchObject({ code: "0.02" });
    expect(deviceCoapParse(unhex(options(17)))).toBe(COAP_E_TOO_MANY_OPTIONS);
    expect(deviceCoapParse(unhex("40020001" + "e0ffff" + "e0ffff"))).toBe(COAP_E_OPTION_FORMAT);
    expect(x.coapParse(65530, 100)).toBe(COAP_E_BAD_ARGUMENT);
    expect(x.coapOptionFind(11, 0)).toBe(-1); // nothing is reported after a failed parse
  });
});

// ---------------------------------------------------------------------------------------------------
async function throughStream(stream: Transform, chunks: Uint8Array[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  stream.on("data", (b: Buffer) => out.push(Buffer.from(b)));
  const done = new Promise((resolve, reject) => { stream.on("end", resolve); stream.on("error", reject); });
  Readable.from(chunks.map((c) => Buffer.from(c))).pipe(stream);
  await done;
  return out;
}

function deviceSlipEncode(frame: Uint8Array, cap = HALF): Uint8Array | null {
  h.write(IN, frame);
  const n = x.slipEncode(IN, frame.length, OUT, cap);
  return n < 0 ? null : h.bytes(OUT, n);
}

/** Feeds a byte stream to the device's decoder; the frames it completed and the drops it reported. */
function deviceSlipDecode(stream: Uint8Array, cap = 2048): { frames: string[]; drops: number } {
  x.slipDecoderInit(OUT, cap);
  const frames: string[] = [];
  let drops = 0;
  for (const b of stream) {
    const r = x.slipDecoderFeed(b);
    if (r > 0) frames.push(hex(h.bytes(OUT, r)));
    else if (r < 0) drops++;
  }
  return { frames, drops };
}

const frames = fc.array(fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }),
  fc.array(fc.constantFrom(0xc0, 0xdb, 0xdc, 0xdd, 0x00), { minLength: 1, maxLength: 40 }).map((a) => new Uint8Array(a)),
), { minLength: 1, maxLength: 8 });

describe("SLIP (RFC 1055)", () => {
  it("frames byte for byte like @serialport's SlipEncoder (RFC 1055 bytes, no Bluetooth quirk), plus the leading END", async () => {
    await fc.assert(fc.asyncProperty(frames, async (fs) => {
      const theirs = await throughStream(new SlipEncoder({ bluetoothQuirk: false }), fs);
      fs.forEach((f, i) => expect(hex(deviceSlipEncode(f)!)).toBe("c0" + hex(theirs[i])));
    }), { numRuns: 200 });
  });

  it("decodes SlipEncoder's output, and SlipDecoder decodes the device's, to the same frames", async () => {
    await fc.assert(fc.asyncProperty(frames, fc.integer({ min: 1, max: 64 }), async (fs, chunk) => {
      const want = fs.map(hex);
      const theirs = Buffer.concat(await throughStream(new SlipEncoder({ bluetoothQuirk: false }), fs));
      expect(deviceSlipDecode(theirs)).toEqual({ frames: want, drops: 0 });
      const ours = Buffer.concat(fs.map((f) => Buffer.from(deviceSlipEncode(f)!)));
      expect(deviceSlipDecode(ours)).toEqual({ frames: want, drops: 0 });
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < ours.length; i += chunk) pieces.push(ours.subarray(i, i + chunk));
      expect((await throughStream(new SlipDecoder(), pieces)).map(hex)).toEqual(want);
    }), { numRuns: 200 });
  });

  it("drops a frame with a bad escape or too long, once, and resynchronises at the next END", () => {
    const feed = (bytes: number[], cap = 16) => { x.slipDecoderInit(OUT, cap); return bytes.map((b) => x.slipDecoderFeed(b)); };
    expect(feed([0xc0, 0xc0, 0x01, 0xdb, 0xdc, 0xdb, 0xdd, 0xc0])).toEqual([0, 0, 0, 0, 0, 0, 0, 3]);
    expect(hex(h.bytes(OUT, 3))).toBe("01c0db");
    expect(feed([0xc0, 0x01, 0xdb, 0x05, 0x02, 0xc0, 0x03, 0xc0])).toEqual([0, 0, 0, -1, 0, 0, 0, 1]);
    expect(feed([0x01, 0xdb, 0xc0, 0x03, 0xc0])).toEqual([0, 0, -1, 0, 1]); // ESC END
    expect(feed([1, 2, 3, 4, 5, 6, 0xc0, 7, 0xc0], 4)).toEqual([0, 0, 0, 0, -1, 0, 0, 0, 1]);
    expect(feed([1, 0xc0], 0)).toEqual([-1, 0]);
  });

  it("refuses every buffer too small without writing past it", () => {
    const f = new Uint8Array([1, 0xc0, 2, 0xdb, 3]);
    const full = deviceSlipEncode(f)!;
    expect(hex(full)).toBe("c001dbdc02dbdd03c0");
    for (let cap = 0; cap < full.length; cap++) {
      h.write(OUT, new Uint8Array(32).fill(0x77));
      expect(deviceSlipEncode(f, cap)).toBeNull();
      expect(h.bytes(OUT + cap, 32 - cap).every((b) => b === 0x77)).toBe(true);
    }
    expect(x.slipEncode(IN, 10, 65530, 100)).toBe(-1);
  });
});

// ---------------------------------------------------------------------------------------------------
// Fuzzing: random bytes and mutations of valid inputs. Any WasmAbort or RuntimeError thrown by the
// module fails the property; every length or pointer reported must lie within the input.

/** Mutations of a seed: flipped bytes, truncation, insertion, duplication, splice of random bytes. */
function mutated(seeds: Uint8Array[], maxLength: number) {
  return fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }))
    .map(([seed, edits]) => {
      let b = Array.from(seed);
      for (const [kind, at, value] of edits) {
        const i = b.length ? at % b.length : 0;
        switch (kind % 5) {
          case 0: b[i] = value; break;
          case 1: b = b.slice(0, i); break;
          case 2: b.splice(i, 0, value); break;
          case 3: b = b.concat(b.slice(i, i + 8)); break;
          case 4: b[i] = b[i] ^ (1 << (value & 7)); break;
        }
      }
      return new Uint8Array(b.slice(0, maxLength));
    });
}

const FUZZ_RUNS = 20_000;

describe("fuzzing: never trap, never report outside the input", () => {
  it(`coapParse: ${FUZZ_RUNS} random and mutated messages`, () => {
    const seeds = coapVectors.valid.map((v) => unhex(v.hex)).concat(coapVectors.invalid.map((v) => unhex(v.hex)));
    const input = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 1280 }), mutated(seeds, 1280));
    let accepted = 0;
    fc.assert(fc.property(input, (bytes) => {
      const m = deviceCoapParse(bytes);
      if (typeof m === "number") return;
      accepted++;
      const end = IN + bytes.length;
      expect(x.coapTokenPtr.value + x.coapTokenLen.value).toBeLessThanOrEqual(end);
      expect(x.coapTokenLen.value).toBeLessThanOrEqual(8);
      if (x.coapPayloadLen.value) expect(x.coapPayloadPtr.value + x.coapPayloadLen.value).toBe(end);
      // What the device accepts, an independent parser reads the same way.
      const p = coapPacketParse(Buffer.from(bytes));
      expect({ code: p.code, mid: p.messageId, token: hex(p.token), payload: hex(p.payload) })
        .toEqual({ code: m.code, mid: m.mid, token: m.token, payload: m.payload });
      expect(p.options.map((o) => ({ number: optionNumber(o.name), value: hex(o.value) }))).toEqual(m.options);
    }), { numRuns: FUZZ_RUNS });
    expect(accepted).toBeGreaterThan(FUZZ_RUNS / 20);
  });

  it(`cborReadHead/cborSkip/cborReadBytes: ${FUZZ_RUNS} random and mutated items`, () => {
    const seeds = cborVectors.examples.map((e) => unhex(e.hex)).concat(cborVectors.notWellFormed.map((e) => unhex(e.hex)));
    const input = fc.tuple(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated(seeds, 512)), fc.boolean());
    fc.assert(fc.property(input, ([bytes, strict]) => {
      h.write(IN, bytes);
      x.cborStrict.value = strict ? 1 : 0;
      // Heads one after another: the cursor only moves forward and stays in the input.
      x.cborReaderInit(IN, bytes.length);
      let last = 0;
      for (let guard = 0; guard <= bytes.length; guard++) {
        const m = x.cborReadHead();
        const at = x.cborReaderOffset();
        expect(at).toBeLessThanOrEqual(bytes.length);
        if (m < 0) { expect(at).toBe(last); break; }
        expect(at).toBeGreaterThan(last);
        last = at;
      }
      // Strings in place.
      x.cborReaderInit(IN, bytes.length);
      const n = x.cborReadBytes() >= 0 ? x.cborReaderOffset() : -1;
      if (n >= 0) expect(x.cborContentPtr.value + Number(x.cborValue.value)).toBe(IN + n);
      // Whole items: a strict success is a lax success at the same offset.
      x.cborReaderInit(IN, bytes.length);
      const ok = x.cborSkip();
      const at = x.cborReaderOffset();
      expect(at).toBeLessThanOrEqual(bytes.length);
      x.cborStrict.value = 0;
      if (strict && ok) expect(deviceSkip(bytes, false)).toBe(at);
    }), { numRuns: FUZZ_RUNS });
    x.cborStrict.value = 0;
  });

  it(`slipDecoderFeed: ${FUZZ_RUNS} random and mutated byte streams, against a model of the decoder`, () => {
    const seeds = [new Uint8Array([0xc0, 1, 0xdb, 0xdc, 2, 0xdb, 0xdd, 0xc0]), new Uint8Array([0xc0, 0xc0, 0xdb]), new Uint8Array(40).fill(7)];
    const input = fc.tuple(
      fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.array(fc.constantFrom(0xc0, 0xdb, 0xdc, 0xdd, 1), { maxLength: 64 }).map((a) => new Uint8Array(a)), mutated(seeds, 256)),
      fc.integer({ min: 0, max: 40 }),
    );
    fc.assert(fc.property(input, ([bytes, cap]) => {
      x.slipDecoderInit(OUT, cap);
      // The contract, stated as a reference model: frame on END, -1 once per spoiled frame.
      let frame: number[] = [], escaped = false, dropping = false;
      for (const b of bytes) {
        let want = 0;
        let completed: number[] = [];
        if (b === 0xc0) {
          want = escaped ? -1 : dropping ? 0 : frame.length;
          completed = frame;
          frame = []; escaped = false; dropping = false;
        } else if (dropping) {
          want = 0;
        } else if (escaped && b !== 0xdc && b !== 0xdd) {
          want = -1; dropping = true; escaped = false; frame = [];
        } else if (!escaped && b === 0xdb) {
          escaped = true;
        } else {
          const v = escaped ? (b === 0xdc ? 0xc0 : 0xdb) : b;
          escaped = false;
          if (frame.length >= cap) { want = -1; dropping = true; frame = []; } else frame.push(v);
        }
        const got = x.slipDecoderFeed(b);
        expect(got).toBe(want);
        expect(got).toBeLessThanOrEqual(cap);
        if (got > 0) expect(hex(h.bytes(OUT, got))).toBe(hex(new Uint8Array(completed)));
      }
    }), { numRuns: FUZZ_RUNS });
  });

  it("writers never trap on any pointer or capacity", () => {
    const ptr = fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(0, 65535, 65536, 0x7fffffff));
    const len = fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(0, 1, 65536, 0xffffffff));
    fc.assert(fc.property(ptr, len, ptr, len, ptr, (a, alen, b, blen, c) => {
      x.cborWriterInit(a, alen); x.cborBytes(b, blen); x.cborText(c, 3); x.cborRaw(b, blen); x.cborFloat(1.5);
      expect(x.cborWriterLength()).toBeLessThanOrEqual(alen);
      expect(x.senmlEncodeReading(a, alen, blen % 6, 1.5, 0)).toBeLessThanOrEqual(alen);
      expect(x.coseProtectedHeader(a, alen, b, blen, 5n)).toBeLessThanOrEqual(alen);
      expect(x.coseSigStructure(a, alen, b, blen, c, 3)).toBeLessThanOrEqual(alen);
      expect(x.coseSign1(a, alen, b, blen, b, blen, c)).toBeLessThanOrEqual(alen);
      x.coapBegin(a, alen, 0, 2, 1, b, blen & 15); x.coapOption(11, c, blen); x.coapOptionUint(12, alen); x.coapPayload(b, blen);
      expect(x.coapEnd()).toBeLessThanOrEqual(alen);
      expect(x.slipEncode(b, blen, a, alen)).toBeLessThanOrEqual(alen);
      x.slipDecoderInit(a, alen); x.slipDecoderFeed(1); x.slipDecoderFeed(0xc0);
      x.cborReaderInit(a, alen); x.cborSkip(); x.cborReadBytes();
      x.coapParse(a, alen);
    }), { numRuns: 3000 });
  });
});
