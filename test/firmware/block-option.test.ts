// gateway/coap/block-option.ts: RFC 7959 §2.2 Block option values, round trips, the RFC's layout and
// random bytes (only CoapFormatError, never anything else).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { blockBytes, decodeBlockOption, encodeBlockOption, szxOf } from "../../gateway/coap/block-option.ts";
import { CoapFormatError } from "../../gateway/coap/message.ts";

describe("Block option", () => {
  it("lays out NUM, M and SZX as RFC 7959 §2.2 says", () => {
    expect([...encodeBlockOption({ num: 0, more: false, szx: 0 })]).toEqual([]);
    expect([...encodeBlockOption({ num: 0, more: true, szx: 5 })]).toEqual([0x0d]);
    expect([...encodeBlockOption({ num: 9, more: false, szx: 5 })]).toEqual([0x95]);
    expect([...encodeBlockOption({ num: 16, more: true, szx: 6 })]).toEqual([0x01, 0x0e]);
    expect(decodeBlockOption(Uint8Array.of(0x01, 0x0e))).toEqual({ num: 16, more: true, szx: 6 });
    expect(blockBytes(szxOf(512))).toBe(512);
    expect(() => decodeBlockOption(Uint8Array.of(0x07))).toThrow(CoapFormatError);
    expect(() => szxOf(2048)).toThrow(RangeError);
  });

  it("round-trips, and random values decode or throw CoapFormatError", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 20 - 1 }), fc.boolean(), fc.integer({ min: 0, max: 6 }), (num, more, szx) => {
        expect(decodeBlockOption(encodeBlockOption({ num, more, szx }))).toEqual({ num, more, szx });
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5 }), (b) => {
        try {
          const o = decodeBlockOption(b);
          expect(o.szx).toBeLessThan(7);
        } catch (e) {
          expect(e).toBeInstanceOf(CoapFormatError);
        }
      }),
      { numRuns: 5_000 },
    );
  });
});
