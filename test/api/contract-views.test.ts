// Decoders of client input for contracts (properties): the events cursor the API hands out and takes
// back, an event topic shown as text, and `mote contract call`'s --input-* options.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventCursor, eventCursorPattern, parseEventCursor, topicText } from "../../gateway/api/contract-views.ts";
import { callInput } from "../../gateway/cli/contract-commands.ts";

describe("contract decoders", () => {
  it("an events cursor round-trips, and any other string is refused, never misread", () => {
    const place = fc.record({ height: fc.nat(10 ** 15 - 1), txIndex: fc.nat(999_999), runIndex: fc.nat(999_999), eventIndex: fc.nat(999) });
    fc.assert(
      fc.property(place, (p) => {
        expect(parseEventCursor(eventCursor(p))).toEqual(p);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const p = parseEventCursor(s);
        if (p === undefined) expect(new RegExp(eventCursorPattern).test(s) && s.split(".").every((x) => Number.isSafeInteger(Number(x)))).toBe(false);
        else expect(eventCursor(p)).toBe(s.replace(/(^|\.)0+(?=\d)/g, "$1"));
      }),
      { numRuns: 2000 },
    );
  });

  it("a topic is text only when it is printable UTF-8", () => {
    expect(topicText(Buffer.from("alarm"))).toBe("alarm");
    expect(topicText(Uint8Array.of(0x61, 0x00))).toBeNull();
    expect(topicText(Uint8Array.of(0xff))).toBeNull();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), (b) => {
        const t = topicText(b);
        if (t !== null) expect(Buffer.from(t, "utf8")).toEqual(Buffer.from(b));
      }),
      { numRuns: 2000 },
    );
  });

  it("--input-i64 encodes signed 64-bit little-endian integers; --input-hex and --input-text their bytes", () => {
    const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    fc.assert(
      fc.property(fc.array(i64, { minLength: 1, maxLength: 8 }), (vs) => {
        const b = Buffer.from(callInput({ inputI64: vs.join(",") }));
        expect(vs.map((_, i) => b.readBigInt64LE(8 * i))).toEqual(vs);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(callInput({ inputHex: Buffer.from(b).toString("hex") })).toEqual(new Uint8Array(b));
      }),
    );
    expect(() => callInput({ inputI64: String(2n ** 63n) })).toThrow(/does not fit/);
    expect(() => callInput({ inputHex: "abc" })).toThrow(/not hex bytes/);
    expect(() => callInput({ inputText: "x".repeat(1025) })).toThrow(/at most 1024 bytes/);
    expect(callInput({})).toEqual(new Uint8Array(0));
  });
});
