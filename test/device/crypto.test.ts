// The firmware's cryptography (device/crypto/*) as compiled to WebAssembly, through the test-only
// harness device/harness/crypto.ts: standard vectors (FIPS 180-4, RFC 8032 §7.1), byte-for-byte
// agreement with OpenSSL (node:crypto) and @noble/curves on seeded random inputs, RFC 8032 §5.1.7
// rejections, and garbage that must never trap.
// Build first: `node device/build.mjs harness-crypto` (npm test does it through pretest).
import { describe, expect, it, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import crypto from "node:crypto";
import fc from "fast-check";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { loadDeviceModule, deviceBuildDir, type Harness } from "../support/wasm.ts";
import { inspectModule } from "../support/wasm-inspect.ts";
import { leBytes, leNumber } from "../support/le-bigint.ts";

const vectorsDir = join(import.meta.dirname, "..", "vectors");
const rfc8032 = JSON.parse(readFileSync(join(vectorsDir, "ed25519-rfc8032.json"), "utf8")) as {
  vectors: { name: string; seed: string; publicKey: string; message: string; signature: string }[];
};
const sha2 = JSON.parse(readFileSync(join(vectorsDir, "sha2.json"), "utf8")) as {
  vectors: { name: string; messageUtf8: string; sha256: string; sha512: string }[];
  generated: { name: string; repeat: { byte: string; count: number }; sha256: string; sha512: string }[];
};

/** Group order (RFC 8032 §5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const FC_SEED = 0x5eed_2551; // fixed: a failure prints its path and replays identically
const RANDOM_RUNS = 1000;
const MESSAGE_BYTES_MAX = 1000;

// Scratch layout (8 KiB).
const SEED = 0, PUB = 32, SIG = 64, OUT = 128, MSG = 256;
const SCRATCH_BYTES = 8192;
const ASC_MEMORY_BASE = 1024;          // where AssemblyScript starts static data
// The crypto's share of the firmware's 64 KiB: 6,712 bytes today, 2 KiB of them the fixed-base
// table that buys the 10×-cheaper signature (device/crypto/base25519.ts, computed at first use),
// 1.5 KiB verification.
const CRYPTO_STATIC_BYTES_MAX = 7168;
const MSG_BYTES_MAX = SCRATCH_BYTES - MSG;

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

const PKCS8_ED25519_PREFIX = unhex("302e020100300506032b657004220420"); // RFC 8410 §7, 32-byte seed follows
const SPKI_ED25519_PREFIX = unhex("302a300506032b6570032100");           // RFC 8410 §4, 32-byte key follows

function nodePrivateKey(seed: Uint8Array): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
}

function nodeVerify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, pub]), format: "der", type: "spki" });
  } catch {
    return false; // OpenSSL refused the key bytes outright
  }
  return crypto.verify(null, msg, key, sig);
}

/** The WASM functions over JS byte arrays, copying through the scratch region. */
class DeviceCrypto {
  private readonly base: number;
  constructor(private readonly h: Harness) {
    this.base = h.exports.scratch();
  }
  private put(offset: number, data: Uint8Array): number {
    this.h.write(this.base + offset, data);
    return this.base + offset;
  }
  private message(msg: Uint8Array): number {
    if (msg.length > MSG_BYTES_MAX) throw new Error(`message of ${msg.length} bytes exceeds the scratch region`);
    return this.put(MSG, msg);
  }
  sha256(msg: Uint8Array): Uint8Array {
    this.h.exports.sha256(this.message(msg), msg.length, this.base + OUT);
    return this.h.bytes(this.base + OUT, 32);
  }
  sha512(msg: Uint8Array): Uint8Array {
    this.h.exports.sha512(this.message(msg), msg.length, this.base + OUT);
    return this.h.bytes(this.base + OUT, 64);
  }
  /** SHA-512 over the streaming API, fed in the given chunks. */
  sha512Chunks(chunks: Iterable<Uint8Array>): Uint8Array {
    this.h.exports.sha512Init();
    for (const c of chunks) this.h.exports.sha512Update(this.message(c), c.length);
    this.h.exports.sha512Final(this.base + OUT);
    return this.h.bytes(this.base + OUT, 64);
  }
  publicKey(seed: Uint8Array): Uint8Array {
    this.h.exports.ed25519PublicKey(this.put(SEED, seed), this.base + PUB);
    return this.h.bytes(this.base + PUB, 32);
  }
  sign(seed: Uint8Array, pub: Uint8Array, msg: Uint8Array): Uint8Array {
    this.h.exports.ed25519Sign(this.put(SEED, seed), this.put(PUB, pub), this.message(msg), msg.length, this.base + SIG);
    return this.h.bytes(this.base + SIG, 64);
  }
  verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    const result = this.h.exports.ed25519Verify(this.put(PUB, pub), this.message(msg), msg.length, this.put(SIG, sig));
    expect(result === 0 || result === 1).toBe(true);
    return result === 1;
  }
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[(bit >> 3) % out.length] ^= 1 << (bit & 7);
  return out;
}


describe("device crypto (harness-crypto.wasm)", () => {
  let dc: DeviceCrypto;
  let harness: Harness;

  beforeAll(() => {
    harness = loadDeviceModule("harness-crypto");
    dc = new DeviceCrypto(harness);
  });

  it("obeys the firmware's module budgets: WAMR-interpreter features only, one page, no growth", async () => {
    const shape = await inspectModule(new Uint8Array(readFileSync(join(deviceBuildDir, "harness-crypto.wasm"))));
    expect(shape.memory).toEqual({ initial: 1, maximum: 1, exported: true });
    expect(shape.text).not.toMatch(/\bmemory\.grow\b|\bv128\b|trunc_sat/);
    expect(shape.imports.every((i) => i.module === "env")).toBe(true);
    expect(harness.exports.scratch() + SCRATCH_BYTES).toBeLessThanOrEqual(65536);
  });

  it(`keeps all crypto state and tables within ${CRYPTO_STATIC_BYTES_MAX} bytes of static memory`, () => {
    const staticBytes = harness.exports.staticEnd() - ASC_MEMORY_BASE - SCRATCH_BYTES;
    expect(staticBytes).toBeGreaterThan(0);
    expect(staticBytes).toBeLessThanOrEqual(CRYPTO_STATIC_BYTES_MAX);
  });

  describe("SHA-2 (FIPS 180-4 examples)", () => {
    for (const v of sha2.vectors) {
      it(`SHA-256 and SHA-512 of ${v.name}`, () => {
        const msg = new TextEncoder().encode(v.messageUtf8);
        expect(hex(dc.sha256(msg))).toBe(v.sha256);
        expect(hex(dc.sha512(msg))).toBe(v.sha512);
      });
    }

    for (const g of sha2.generated) {
      it(`SHA-512 of ${g.name}, streamed in uneven chunks`, () => {
        const chunk = new Uint8Array(7001).fill(parseInt(g.repeat.byte, 16));
        function* chunks() {
          for (let left = g.repeat.count; left > 0; left -= chunk.length) yield chunk.subarray(0, Math.min(left, chunk.length));
        }
        expect(hex(dc.sha512Chunks(chunks()))).toBe(g.sha512);
        // The one-shot SHA-256 needs the whole message in the 64 KiB memory; its generated vector is
        // checked by node:crypto only, and SHA-256 itself against node:crypto at every length below.
        expect(crypto.createHash("sha256").update(Buffer.alloc(g.repeat.count, parseInt(g.repeat.byte, 16))).digest("hex")).toBe(g.sha256);
      });
    }

    it("agrees with node:crypto at every length 0..300 (all padding boundaries of both)", () => {
      const data = crypto.createHash("sha512").update("lengths").digest();
      const bytes = new Uint8Array(300).map((_, i) => data[i % 64] ^ i);
      for (let n = 0; n <= 300; n++) {
        const msg = bytes.subarray(0, n);
        expect(hex(dc.sha256(msg)), `sha256 length ${n}`).toBe(crypto.createHash("sha256").update(msg).digest("hex"));
        expect(hex(dc.sha512(msg)), `sha512 length ${n}`).toBe(crypto.createHash("sha512").update(msg).digest("hex"));
      }
    });

    it("streams SHA-512 identically however the input is split (seeded)", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(300), { maxLength: 12 }), (msg, cuts) => {
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (const c of cuts) {
            chunks.push(msg.subarray(at, Math.min(msg.length, at + c)));
            at = Math.min(msg.length, at + c);
          }
          chunks.push(msg.subarray(at));
          expect(hex(dc.sha512Chunks(chunks))).toBe(crypto.createHash("sha512").update(msg).digest("hex"));
          expect(hex(dc.sha256(msg))).toBe(crypto.createHash("sha256").update(msg).digest("hex"));
        }),
        { seed: FC_SEED, numRuns: 300 },
      );
    });
  });

  describe("Ed25519 (RFC 8032 §7.1 vectors)", () => {
    for (const v of rfc8032.vectors) {
      it(`${v.name}: exact public key and signature, and verification`, () => {
        const seed = unhex(v.seed), msg = unhex(v.message);
        const pub = dc.publicKey(seed);
        expect(hex(pub)).toBe(v.publicKey);
        expect(hex(dc.sign(seed, pub, msg))).toBe(v.signature);
        expect(dc.verify(pub, msg, unhex(v.signature))).toBe(true);
        // The vector file itself agrees with OpenSSL.
        expect(crypto.sign(null, msg, nodePrivateKey(seed)).toString("hex")).toBe(v.signature);
      });
    }
  });

  describe("Ed25519 against node:crypto and @noble/curves (seeded random)", () => {
    it(`${RANDOM_RUNS} random seeds and messages: identical keys and signatures; verify agrees on mutations`, () => {
      const arbitrary = fc.record({
        seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        msg: fc.uint8Array({ maxLength: MESSAGE_BYTES_MAX }),
        sigBit: fc.nat(511),
        msgBit: fc.nat(8 * MESSAGE_BYTES_MAX - 1),
        keyBit: fc.nat(255),
      });
      fc.assert(
        fc.property(arbitrary, ({ seed, msg, sigBit, msgBit, keyBit }) => {
          const nodeKey = nodePrivateKey(seed);
          const pub = dc.publicKey(seed);
          expect(hex(pub)).toBe(hex(crypto.createPublicKey(nodeKey).export({ format: "der", type: "spki" }).subarray(12)));
          const sig = dc.sign(seed, pub, msg);
          expect(hex(sig)).toBe(crypto.sign(null, msg, nodeKey).toString("hex"));
          expect(nodeVerify(pub, msg, sig)).toBe(true);
          expect(noble.verify(sig, msg, pub)).toBe(true);
          expect(dc.verify(pub, msg, sig)).toBe(true);

          // One flipped bit anywhere: the device and OpenSSL reach the same verdict (reject).
          const badSig = flipBit(sig, sigBit);
          const badMsg = msg.length > 0 ? flipBit(msg, msgBit) : new Uint8Array([1 << (msgBit & 7)]);
          const badKey = flipBit(pub, keyBit);
          for (const [p, m, s] of [[pub, msg, badSig], [pub, badMsg, sig], [badKey, msg, sig]] as const) {
            const device = dc.verify(p, m, s);
            expect(device).toBe(nodeVerify(p, m, s));
            expect(device).toBe(false);
          }

          // S + L (still < 2^256): the same group element, but RFC 8032 §5.1.7 requires S < L.
          const malleable = sig.slice();
          malleable.set(leBytes(leNumber(sig.subarray(32)) + L, 32), 32);
          expect(dc.verify(pub, msg, malleable)).toBe(false);
          expect(nodeVerify(pub, msg, malleable)).toBe(false);
        }),
        { seed: FC_SEED, numRuns: RANDOM_RUNS },
      );
    });

    it("messages up to the scratch limit (several SHA-512 blocks) still match node:crypto", () => {
      const seed = unhex("a5".repeat(32));
      const pub = dc.publicKey(seed);
      for (const n of [127, 128, 129, 1023, 4096, MSG_BYTES_MAX]) {
        const msg = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
        const sig = dc.sign(seed, pub, msg);
        expect(hex(sig), `length ${n}`).toBe(crypto.sign(null, msg, nodePrivateKey(seed)).toString("hex"));
        expect(dc.verify(pub, msg, sig)).toBe(true);
      }
    });
  });

  describe("Ed25519 verification rejects what RFC 8032 §5.1.3 / §5.1.7 reject", () => {
    const seed = unhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    const msg = unhex("72");
    let pub: Uint8Array, sig: Uint8Array;
    beforeAll(() => {
      pub = dc.publicKey(seed);
      sig = dc.sign(seed, pub, msg);
    });

    it("S = L and S = 2^256 - 1", () => {
      for (const s of [L, 2n ** 256n - 1n]) {
        const bad = sig.slice();
        bad.set(leBytes(s, 32), 32);
        expect(dc.verify(pub, msg, bad)).toBe(false);
      }
    });

    it("a public key whose y is not reduced (y = p + 1, i.e. the identity encoded non-canonically)", () => {
      const p = 2n ** 255n - 19n;
      expect(dc.verify(leBytes(p + 1n, 32), msg, sig)).toBe(false);
      expect(dc.verify(leBytes(p, 32), msg, sig)).toBe(false);
    });

    it("a public key with x = 0 and the sign bit set (§5.1.3 step 4)", () => {
      const key = leBytes(1n, 32);
      key[31] |= 0x80;
      expect(dc.verify(key, msg, sig)).toBe(false);
    });

    it("a public key that is not on the curve (no square root, §5.1.3 step 3)", () => {
      // y = 2: x^2 = 3 / (4d + 1) is not a square mod p (noble's decoder agrees).
      const key = leBytes(2n, 32);
      expect(() => noble.Point.fromBytes(key)).toThrow();
      expect(dc.verify(key, msg, sig)).toBe(false);
    });

    it("an R that does not decode, or is encoded non-canonically", () => {
      const rNotOnCurve = sig.slice();
      rNotOnCurve.set(leBytes(2n, 32), 0);
      expect(dc.verify(pub, msg, rNotOnCurve)).toBe(false);
      const rSignFlipped = sig.slice();
      rSignFlipped[31] ^= 0x80;
      expect(dc.verify(pub, msg, rSignFlipped)).toBe(false);
    });
  });

  describe("never traps", () => {
    it("on random 96-byte (key, signature) garbage with random messages, and signs correctly afterwards", () => {
      const validPub = dc.publicKey(unhex("11".repeat(32)));
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 96, maxLength: 96 }),
          fc.uint8Array({ maxLength: 200 }),
          fc.constantFrom("raw", "valid key", "valid key and small S"),
          (garbage, msg, shape) => {
            const pub = shape === "raw" ? garbage.subarray(0, 32) : validPub;
            const sig = garbage.slice(32);
            if (shape === "valid key and small S") sig[63] &= 0x0f; // S < 2^252 < L: the full check runs
            const device = dc.verify(pub, msg, sig); // throws (fails) on a trap or abort
            expect(device).toBe(nodeVerify(pub, msg, sig));
          },
        ),
        { seed: FC_SEED, numRuns: 1500 },
      );
      const v = rfc8032.vectors[2];
      expect(hex(dc.sign(unhex(v.seed), unhex(v.publicKey), unhex(v.message)))).toBe(v.signature);
    });
  });
});
