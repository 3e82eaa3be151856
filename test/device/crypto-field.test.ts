// The firmware's GF(2^255 - 19) arithmetic (device/crypto/field25519.ts) against BigInt arithmetic
// mod p, including limbs at the bounds the file documents (where a carry bug would show), the
// fixed-base table (device/crypto/base25519.ts) recomputed word by word, and [s]B for edge
// scalars against @noble/curves.
//
// The field functions are not part of any shipped entry point, so this file compiles its own
// test-only entry (an in-memory source beside device/crypto/, with the firmware's asconfig.json
// options) through AssemblyScript's API; nothing is written to disk.
import { describe, expect, it, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import asc from "assemblyscript/asc";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { leBytes, leNumber } from "../support/le-bigint.ts";

const root = join(import.meta.dirname, "..", "..");
const ENTRY = "device/crypto/__field_test_entry.ts"; // virtual: served by readFile below
const ENTRY_SOURCE = `
const SCRATCH: usize = memory.data(1024, 16);
export function scratch(): usize { return SCRATCH; }
export {
  feAdd, feSub, feNeg, feMul, feSq, feSq2, feCarry, feInvert, fePow2523, feCmov, feCswap, feNegateIf,
  feFromBytes, feToBytes, feIsNegative, feIsZero,
} from "./field25519";
export { ed25519ScalarMulBase } from "./ed25519";
export { BASE_POINT, BASE_TABLE } from "./base25519";
`;

const p = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const mod = (a: bigint) => ((a % p) + p) % p;
const FC_SEED = 0x25519;
const RUNS = 2000;

/** Limb i of the radix-2^25.5 representation has weight 2^⌈25.5·i⌉ and nominal width 26 (even) or 25 (odd). */
const LIMB_SHIFT = [0, 26, 51, 77, 102, 128, 153, 179, 204, 230].map(BigInt);
const width = (i: number) => (i % 2 === 0 ? 26 : 25);
/** The bounds in field25519.ts's header. */
const TIGHT = (i: number) => Math.floor(1.01 * 2 ** (width(i) - 1));
const MUL_INPUT = (i: number) => 2 ** (width(i) + 1);
const TO_BYTES_INPUT = 2 ** 30;

const limbsValue = (limbs: number[]) => limbs.reduce((acc, l, i) => acc + (BigInt(l) << LIMB_SHIFT[i]), 0n);

function powMod(b: bigint, e: bigint): bigint {
  let r = 1n;
  b = mod(b);
  for (; e > 0n; e >>= 1n, b = (b * b) % p) if (e & 1n) r = (r * b) % p;
  return r;
}

async function compileEntry(): Promise<Uint8Array> {
  let wasm: Uint8Array | undefined;
  const stderr: string[] = [];
  const { error } = await asc.main([join(root, ENTRY), "--config", join(root, "asconfig.json"), "-o", join(root, "out.wasm")], {
    readFile: (filename: string, baseDir: string) => {
      const path = resolve(baseDir, filename); // asc passes paths relative to the working directory
      if (path === resolve(root, ENTRY)) return ENTRY_SOURCE;
      try { return readFileSync(path, "utf8"); } catch { return null; }
    },
    writeFile: (filename: string, contents: Uint8Array | string) => {
      if (filename.endsWith(".wasm")) wasm = contents as Uint8Array;
    },
    listFiles: () => [],
    stdout: { write: () => true } as any,
    stderr: { write: (s: string) => { stderr.push(String(s)); return true; } } as any,
  } as any);
  if (error || !wasm) throw new Error(`asc failed: ${error?.message}\n${stderr.join("")}`);
  return wasm;
}

/** Field elements live in scratch slots of 40 bytes (ten i32 limbs). */
const FE = 40;
class Field {
  readonly x: any;
  private readonly mem: WebAssembly.Memory;
  readonly slot: (i: number) => number;
  constructor(instance: WebAssembly.Instance) {
    this.x = instance.exports;
    this.mem = instance.exports.memory as WebAssembly.Memory;
    const base = this.x.scratch() as number;
    this.slot = (i: number) => base + i * FE;
  }
  setLimbs(slot: number, limbs: number[]) { new Int32Array(this.mem.buffer, this.slot(slot), 10).set(limbs); }
  limbs(slot: number): number[] { return Array.from(new Int32Array(this.mem.buffer, this.slot(slot), 10)); }
  /** Loads n (< 2^256) through feFromBytes. */
  set(slot: number, n: bigint) {
    new Uint8Array(this.mem.buffer, this.slot(15), 32).set(leBytes(n));
    this.x.feFromBytes(this.slot(slot), this.slot(15));
  }
  /** The canonical value through feToBytes. */
  get(slot: number): bigint {
    this.x.feToBytes(this.slot(15), this.slot(slot));
    return leNumber(new Uint8Array(this.mem.buffer, this.slot(15), 32).slice());
  }
  bytes(ptr: number, len: number) { return new Uint8Array(this.mem.buffer, ptr, len).slice(); }
  write(ptr: number, data: Uint8Array) { new Uint8Array(this.mem.buffer, ptr, data.length).set(data); }
}

function expectTight(f: Field, slot: number, what: string) {
  f.limbs(slot).forEach((l, i) => expect(Math.abs(l), `${what}: limb ${i} = ${l}`).toBeLessThanOrEqual(TIGHT(i)));
}

const EDGE_VALUES = [
  0n, 1n, 2n, 19n, p - 1n, p, p + 1n, p + 18n, 2n ** 255n - 1n, // 2^255 - 1 ≡ 18
  2n ** 255n - 20n, 2n ** 254n, 2n ** 26n - 1n, 2n ** 26n, 2n ** 51n - 1n,
  (p - 1n) / 2n, (p + 1n) / 2n, 2n ** 128n - 1n,
];
const bigField = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n });
const limbVector = (bound: (i: number) => number) =>
  fc.tuple(...Array.from({ length: 10 }, (_, i) => fc.integer({ min: -bound(i), max: bound(i) })));

describe("field25519 (radix 2^25.5) against BigInt mod 2^255 - 19", () => {
  let f: Field;
  beforeAll(async () => {
    const wasm = await compileEntry();
    f = new Field(new WebAssembly.Instance(new WebAssembly.Module(wasm as BufferSource), { env: {} }));
  }, 60_000);

  it("encodes and decodes: feToBytes(feFromBytes(x)) = (x mod 2^255) mod p, with bit 255 ignored", () => {
    const check = (x: bigint) => {
      f.set(0, x);
      f.limbs(0).forEach((l, i) => expect(l >= 0 && l < 2 ** width(i), `fromBytes(${x}): limb ${i} = ${l}`).toBe(true));
      expect(f.get(0), `x = ${x}`).toBe(mod(x % 2n ** 255n));
    };
    for (const x of EDGE_VALUES) { check(x); check(x + 2n ** 255n); }
    check(2n ** 256n - 1n);
    fc.assert(fc.property(bigField, (x) => check(x)), { seed: FC_SEED, numRuns: RUNS });
  });

  it("feToBytes is canonical for every limb vector within ±2^30, at and between the extremes", () => {
    const check = (limbs: number[]) => {
      f.setLimbs(0, limbs);
      expect(f.get(0), `limbs ${limbs}`).toBe(mod(limbsValue(limbs)));
    };
    const max = Array.from({ length: 10 }, () => TO_BYTES_INPUT - 1);
    check(max);
    check(max.map((l) => -l));
    check(max.map((l, i) => (i % 2 ? -l : l)));
    // Exactly p and 2^255 - 1 with every limb at its nominal maximum, p - 1, and "p plus one in
    // limb 0" (19 more than p's own limb 0): where the final subtraction of p must or must not fire.
    const nominalMax = Array.from({ length: 10 }, (_, i) => 2 ** width(i) - 1);
    check(nominalMax);                                  // 2^255 - 1
    check([nominalMax[0] - 18, ...nominalMax.slice(1)]); // p
    check([nominalMax[0] - 19, ...nominalMax.slice(1)]); // p - 1
    check([nominalMax[0] - 17, ...nominalMax.slice(1)]); // p + 1
    check(Array.from({ length: 10 }, () => 0));
    fc.assert(fc.property(limbVector(() => TO_BYTES_INPUT - 1), (limbs) => check(limbs)), { seed: FC_SEED, numRuns: RUNS });
  });

  it("feMul, feSq, feSq2, feAdd, feSub, feNeg agree on canonical inputs and edge values", () => {
    const check = (a: bigint, b: bigint) => {
      f.set(0, a);
      f.set(1, b);
      const [x, y] = [mod(a % 2n ** 255n), mod(b % 2n ** 255n)];
      f.x.feMul(f.slot(2), f.slot(0), f.slot(1));
      expect(f.get(2), "mul").toBe(mod(x * y));
      expectTight(f, 2, "mul");
      f.x.feSq(f.slot(2), f.slot(0));
      expect(f.get(2), "sq").toBe(mod(x * x));
      expectTight(f, 2, "sq");
      f.x.feSq2(f.slot(2), f.slot(0));
      expect(f.get(2), "sq2").toBe(mod(2n * x * x));
      expectTight(f, 2, "sq2");
      f.x.feAdd(f.slot(2), f.slot(0), f.slot(1));
      expect(f.get(2), "add").toBe(mod(x + y));
      f.x.feSub(f.slot(2), f.slot(0), f.slot(1));
      expect(f.get(2), "sub").toBe(mod(x - y));
      f.x.feNeg(f.slot(2), f.slot(0));
      expect(f.get(2), "neg").toBe(mod(-x));
      f.x.feCarry(f.slot(2), f.slot(2));
      expect(f.get(2), "carry").toBe(mod(-x));
      expectTight(f, 2, "carry");
      // Outputs may alias inputs.
      f.x.feMul(f.slot(0), f.slot(0), f.slot(0));
      expect(f.get(0), "mul in place").toBe(mod(x * x));
    };
    for (const a of EDGE_VALUES) for (const b of EDGE_VALUES) check(a, b);
    fc.assert(fc.property(bigField, bigField, check), { seed: FC_SEED, numRuns: RUNS });
  });

  it("feMul, feSq, feSq2 are exact for limbs anywhere within their documented input bounds (±2^27 even, ±2^26 odd)", () => {
    const check = (a: number[], b: number[]) => {
      f.setLimbs(0, a);
      f.setLimbs(1, b);
      const [x, y] = [limbsValue(a), limbsValue(b)];
      f.x.feMul(f.slot(2), f.slot(0), f.slot(1));
      expectTight(f, 2, "mul");
      expect(f.get(2), `mul ${a} · ${b}`).toBe(mod(x * y));
      f.x.feSq(f.slot(2), f.slot(0));
      expectTight(f, 2, "sq");
      expect(f.get(2), `sq ${a}`).toBe(mod(x * x));
      f.x.feSq2(f.slot(2), f.slot(0));
      expectTight(f, 2, "sq2");
      expect(f.get(2), `sq2 ${a}`).toBe(mod(2n * x * x));
    };
    const top = Array.from({ length: 10 }, (_, i) => MUL_INPUT(i));
    const patterns = [
      top, top.map((l) => -l), top.map((l, i) => (i % 2 ? -l : l)), top.map((l, i) => (i % 2 ? l : -l)),
      top.map((l, i) => (i < 5 ? l : -l)), Array.from({ length: 10 }, () => 0), top.map((_, i) => (i === 9 ? MUL_INPUT(9) : 0)),
    ];
    for (const a of patterns) for (const b of patterns) check(a, b);
    fc.assert(fc.property(limbVector(MUL_INPUT), limbVector(MUL_INPUT), (a, b) => check(a, b)), { seed: FC_SEED, numRuns: RUNS });
  });

  it("the sums the curve formulas feed to feMul (a tight element minus a sum of two) stay exact", () => {
    fc.assert(
      fc.property(bigField, bigField, bigField, bigField, (a, b, c, d) => {
        [a, b, c, d].forEach((v, i) => f.set(i, v));
        f.x.feAdd(f.slot(4), f.slot(1), f.slot(2)); // b + c
        f.x.feSub(f.slot(4), f.slot(0), f.slot(4)); // a - (b + c)
        f.x.feSub(f.slot(5), f.slot(3), f.slot(0)); // d - a
        f.x.feMul(f.slot(6), f.slot(4), f.slot(5));
        const [x, y, z, w] = [a, b, c, d].map((v) => mod(v % 2n ** 255n));
        expect(f.get(6)).toBe(mod((x - (y + z)) * (w - x)));
        f.x.feSq(f.slot(6), f.slot(4));
        expect(f.get(6)).toBe(mod((x - (y + z)) ** 2n));
      }),
      { seed: FC_SEED, numRuns: RUNS },
    );
  });

  it("feInvert (1/0 = 0), fePow2523, feIsZero, feIsNegative", () => {
    const check = (a: bigint) => {
      f.set(0, a);
      const x = mod(a % 2n ** 255n);
      f.x.feInvert(f.slot(1), f.slot(0));
      expect(f.get(1), `1/${x}`).toBe(powMod(x, p - 2n));
      if (x !== 0n) expect(mod(f.get(1) * x)).toBe(1n);
      f.x.fePow2523(f.slot(1), f.slot(0));
      expect(f.get(1), `${x}^((p-5)/8)`).toBe(powMod(x, (p - 5n) / 8n));
      expect(f.x.feIsZero(f.slot(0))).toBe(x === 0n ? 1 : 0);
      expect(f.x.feIsNegative(f.slot(0))).toBe(Number(x & 1n));
    };
    for (const a of EDGE_VALUES) check(a);
    fc.assert(fc.property(bigField, check), { seed: FC_SEED, numRuns: 200 });
  });

  it("feCmov, feCswap and feNegateIf act on whole elements by bit, and do nothing for bit 0", () => {
    fc.assert(
      fc.property(bigField, bigField, fc.constantFrom(0, 1), (a, b, bit) => {
        const [x, y] = [a, b].map((v) => mod(v % 2n ** 255n));
        f.set(0, a); f.set(1, b);
        f.x.feCmov(f.slot(0), f.slot(1), bit);
        expect(f.get(0)).toBe(bit ? y : x);
        f.set(0, a); f.set(1, b);
        f.x.feCswap(f.slot(0), f.slot(1), bit);
        expect([f.get(0), f.get(1)]).toEqual(bit ? [y, x] : [x, y]);
        f.set(0, a);
        f.x.feNegateIf(f.slot(0), bit);
        expect(f.get(0)).toBe(bit ? mod(-x) : x);
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });

  it("[s]B (signed radix-16 digits over the fixed-base table) for edge and random scalars < 2^255 matches @noble/curves", () => {
    const S = f.slot(20), OUT = f.slot(21);
    const check = (s: bigint) => {
      f.write(S, leBytes(s));
      f.x.ed25519ScalarMulBase(S, OUT);
      const k = s % L; // B has order L
      const expected = k === 0n ? noble.Point.ZERO : noble.Point.BASE.multiply(k);
      expect(Buffer.from(f.bytes(OUT, 32)).toString("hex"), `s = ${s.toString(16)}`).toBe(expected.toHex());
    };
    const nibbles = (n: number) => BigInt("0x" + n.toString(16).repeat(63)); // 63 equal radix-16 digits
    const edges = [
      0n, 1n, 2n, 7n, 8n, 9n, 15n, 16n, L - 1n, L, L + 1n, 2n * L, 2n ** 252n, 2n ** 255n - 1n, 2n ** 254n,
      nibbles(8), nibbles(7), nibbles(9), nibbles(0xf), 2n ** 255n - 1n - nibbles(8), // digits at ±8, ±7, carry chains
      ...[0, 1, 2, 3].map((row) => 1n << BigInt(64 * row)), ...[0, 1, 2, 3].map((row) => 8n << BigInt(64 * row)),
    ].filter((s) => s < 2n ** 255n);
    for (const s of edges) check(s);
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 255n - 1n }), check), { seed: FC_SEED, numRuns: 300 });
  });
});

describe("base25519.ts: the fixed-base table", () => {
  let field: Field;
  beforeAll(async () => {
    const wasm = await compileEntry();
    field = new Field(new WebAssembly.Instance(new WebAssembly.Module(wasm as BufferSource), { env: {} }));
  }, 60_000);

  it("is filled on first use with (k+1)·2^(64j)·B (affine x, y; canonical little-endian) for rows j = 0..3, k = 0..7", () => {
    const x = field.x;
    const mem = () => new DataView((x.memory as WebAssembly.Memory).buffer);
    const words = (ptr: number, n: number) => Array.from({ length: n }, (_, i) => mem().getBigUint64(ptr + 8 * i, true));
    const le = (n: bigint) => [0n, 1n, 2n, 3n].map((i) => (n >> (64n * i)) & (2n ** 64n - 1n));
    expect(words(x.BASE_TABLE.value, 256).every((w) => w === 0n)).toBe(true); // nothing shipped in the image
    const base = noble.Point.BASE.toAffine();
    expect(words(x.BASE_POINT.value, 8)).toEqual([...le(base.x), ...le(base.y)]);
    x.ed25519ScalarMulBase(field.slot(0), field.slot(1)); // any [s]B fills the table
    const expected: bigint[] = [];
    for (let j = 0; j < 4; j++) {
      for (let k = 1; k <= 8; k++) {
        const { x: ax, y: ay } = noble.Point.BASE.multiply(BigInt(k) << BigInt(64 * j)).toAffine();
        expected.push(...le(ax), ...le(ay));
      }
    }
    expect(words(x.BASE_TABLE.value, 256)).toEqual(expected);
  });
});
