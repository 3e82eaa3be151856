// The gateway's pure parts: replay window, token bucket, SLIP, strict CoAP parsing, config.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parse as coapPacketParse } from "coap-packet";
import { SlipDecoder as LibSlipDecoder, SlipEncoder as LibSlipEncoder } from "@serialport/parser-slip-encoder";
import { ReplayWindow } from "../../gateway/ingest/replay-window.ts";
import { TokenBucket } from "../../gateway/token-bucket.ts";
import { SlipDecoder, slipEncode, SLIP_END, SLIP_ESC } from "../../gateway/coap/slip.ts";
import { encodeMessage, parseMessage, CoapFormatError } from "../../gateway/coap/message.ts";
import { defaultConfig, mergeConfig, ConfigError } from "../../gateway/config.ts";
import { buildRequest } from "../support/gateway-coap-client.ts";

describe("ReplayWindow (RFC 8613 §7.4.1 shape)", () => {
  it("agrees with a model that remembers every accepted number", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (seqs, size) => {
        const w = new ReplayWindow(size);
        const accepted = new Set<number>();
        let top = -1;
        for (const s of seqs) {
          const expected = accepted.has(s) ? (s <= top - size ? "stale" : "seen") : s <= top - size ? "stale" : "new";
          expect(w.check(s)).toBe(expected);
          if (expected === "new") {
            w.mark(s);
            accepted.add(s);
            top = Math.max(top, s);
          }
        }
      }),
    );
  });

  it("ignores marking a number that fell below the window while it was committed", () => {
    const w = new ReplayWindow(4);
    w.mark(100);
    w.mark(1);
    expect(w.highest).toBe(100);
    expect(w.check(1)).toBe("stale");
  });
});

describe("TokenBucket", () => {
  it("grants the burst, then refills at the rate, and says when to retry", () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true]);
    expect([b.take(0), b.retryAfterS()]).toEqual([false, 1]);
    expect(b.take(499)).toBe(false);
    expect(b.take(500)).toBe(true); // 2 per second: one token after 500 ms
    expect(b.take(500, 2)).toBe(false); // a refused take takes nothing
    expect(b.retryAfterS(3)).toBe(2);
    expect(b.take(2000, 3)).toBe(true);
  });
});

describe("SLIP (RFC 1055)", () => {
  const frames = fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 10 });

  it("round-trips frames split at any chunk boundaries", () => {
    fc.assert(
      fc.property(frames, fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (fs, cuts) => {
        const stream = Buffer.concat(fs.map((f) => slipEncode(f)));
        const out: Buffer[] = [];
        const d = new SlipDecoder(1280, (f) => out.push(f));
        for (let i = 0, c = 0; i < stream.length; c++) {
          const n = cuts[c % cuts.length];
          d.push(stream.subarray(i, i + n));
          i += n;
        }
        expect(out.map((b) => [...b])).toEqual(fs.map((f) => [...f]));
      }),
    );
  });

  it("agrees with @serialport/parser-slip-encoder both ways", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (frame) => {
        const enc = new LibSlipEncoder({ bluetoothQuirk: true });
        const encoded: Buffer[] = [];
        enc.on("data", (b: Buffer) => encoded.push(b));
        enc.write(Buffer.from(frame));
        await new Promise((r) => setImmediate(r));
        expect([...Buffer.concat(encoded)]).toEqual([...slipEncode(frame)]);
        const dec = new LibSlipDecoder();
        const decoded: Buffer[] = [];
        dec.on("data", (b: Buffer) => decoded.push(b));
        dec.write(slipEncode(frame));
        await new Promise((r) => setImmediate(r));
        expect([...decoded[0]]).toEqual([...frame]);
      }),
      { numRuns: 200 },
    );
  });

  it("drops oversize frames and bad escapes, then resynchronizes at the next END", () => {
    const out: Buffer[] = [];
    const d = new SlipDecoder(8, (f) => out.push(f));
    d.push(Buffer.concat([slipEncode(new Uint8Array(9)), Buffer.from([SLIP_END, 1, SLIP_ESC, 7, 2, SLIP_END]), slipEncode(Uint8Array.of(5))]));
    expect(out.map((b) => [...b])).toEqual([[5]]);
    expect(d.stats).toEqual({ frames: 1, oversize: 1, badEscapes: 1 });
  });
});

describe("strict CoAP parsing (RFC 7252 §3)", () => {
  it("reads what it writes, and what coap-packet reads", () => {
    fc.assert(
      fc.property(fc.constantFrom("r", "e", "t", "h", "x/y"), fc.uint8Array({ maxLength: 100 }), fc.boolean(), fc.integer({ min: 0, max: 0xffff }), (path, payload, con, mid) => {
        const bytes = buildRequest({ method: "POST", path, payload, contentFormat: 18, confirmable: con }, mid);
        const m = parseMessage(bytes);
        expect(encodeMessage(m).equals(bytes)).toBe(true);
        const p = coapPacketParse(bytes);
        expect(p.messageId).toBe(m.messageId);
        expect(p.confirmable).toBe(con);
        expect(Buffer.from(p.payload).equals(m.payload)).toBe(true);
      }),
    );
  });

  it("refuses what the RFC calls format errors", () => {
    const bad = [
      [0x40, 0x01], // short header
      [0x80, 0x01, 0, 1], // version 2
      [0x49, 0x01, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9], // TKL 9
      [0x40, 0x01, 0, 1, 0xff], // payload marker, no payload
      [0x40, 0x01, 0, 1, 0xb5, 0x72], // option longer than the message
      [0x40, 0x01, 0, 1, 0xf0], // delta nibble 15
      [0x41, 0x00, 0, 1, 7], // empty message with a token
      [0x40, 0x21, 0, 1], // class 1 reserved
    ];
    for (const b of bad) expect(() => parseMessage(Uint8Array.from(b)), JSON.stringify(b)).toThrow(CoapFormatError);
  });
});

describe("config", () => {
  it("refuses unknown keys and bad values, naming the key", () => {
    expect(() => mergeConfig(defaultConfig(), { udpp: 1 })).toThrow(/"udpp": unknown key/);
    expect(() => mergeConfig(defaultConfig(), { udp: { port: 70000 } })).toThrow(/"udp.port": must be an integer/);
    expect(() => mergeConfig(defaultConfig(), { ingest: { replayWindowSize: 100 } })).toThrow(ConfigError);
    expect(() => mergeConfig(defaultConfig(), { enrollment: { trustedOwners: ["zz"] } })).toThrow(/64 hex digits/);
    expect(() => mergeConfig(defaultConfig(), { udp: null })).toThrow(/needs UDP or at least one serial port/);
  });

  it("merges file and flags over the defaults", () => {
    const c = mergeConfig(defaultConfig(), { udp: { port: 0 }, serial: [{ path: "/dev/ttyS1" }], ingest: { rateBurst: 50 } });
    expect(c.udp).toEqual({ host: "0.0.0.0", port: 0 });
    expect(c.serial).toEqual([{ path: "/dev/ttyS1", baudRate: 115200 }]);
    expect(c.ingest.rateBurst).toBe(50);
    expect(c.ingest.rateReadingsPerS).toBe(defaultConfig().ingest.rateReadingsPerS);
  });
});

describe("verifyEd25519Async", () => {
  it("agrees with shared/ed25519.ts verifyEd25519 on valid, mutated and odd-length signatures", async () => {
    const { verifyEd25519, signEd25519, publicKeyObject } = await import("../../shared/ed25519.ts");
    const { verifyEd25519Async } = await import("../../shared/ed25519.ts");
    const { makeKey } = await import("../support/gateway-fixtures.ts");
    const k = makeKey();
    const pub = publicKeyObject(k.publicKey);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.nat(80), fc.nat(255), fc.integer({ min: 62, max: 66 }), async (msg, pos, byte, len) => {
        const sig = Buffer.from(signEd25519(k.privateKey, msg));
        const variants = [sig, Buffer.from(sig).fill(byte, pos % 64, (pos % 64) + 1), Buffer.concat([sig, sig]).subarray(0, len)];
        for (const s of variants) expect(await verifyEd25519Async(pub, msg, s)).toBe(verifyEd25519(pub, msg, s));
      }),
      { numRuns: 300 },
    );
  });
});
