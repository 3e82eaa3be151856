// The pure half of CoAP hygiene (issue 9, item 7): the strict parser and admission never throw on
// hostile bytes, never answer an Empty ACK/RST, never answer a NON with more bytes than it carried,
// and refuse option numbers past 65,535 (RFC 7252 §3.1) as a message format error.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { admit } from "../../gateway/coap/admission.ts";
import { cutUtf8, diagnosticShortBytesMax, fitResponse } from "../../gateway/coap/amplification.ts";
import { CoapFormatError, encodeMessage, optionNumberMax, parseMessage, TYPE_ACK, TYPE_CON, TYPE_NON, TYPE_RST } from "../../gateway/coap/message.ts";

const limits = { payloadBytesMax: 256 };
const seed = 0x7252;
const numRuns = 20_000;

/** Header for version 1 (§3): Ver | T | TKL, code, message id. */
const header = (type: number, code: number, messageId: number, tkl = 0) => Buffer.from([0x40 | (type << 4) | tkl, code, messageId >> 8, messageId & 0xff]);
/** One option with a 2-byte extended delta (nibble 14, §3.1): delta = 269 + the 16-bit value. */
const wideDelta = (delta: number, value: Buffer = Buffer.alloc(0)) => {
  expect(delta).toBeGreaterThanOrEqual(269);
  expect(value.length).toBeLessThan(13);
  return Buffer.concat([Buffer.from([0xe0 | value.length, (delta - 269) >> 8, (delta - 269) & 0xff]), value]);
};
const uriPathT = Buffer.from([0xb1, 0x74]); // Uri-Path (11) "t"

const validMessage = fc
  .record({
    type: fc.constantFrom(TYPE_CON, TYPE_NON, TYPE_ACK, TYPE_RST),
    code: fc.constantFrom(0, 1, 2, 3, 4, 5, 65, 69, 132, 160),
    messageId: fc.nat(0xffff),
    token: fc.uint8Array({ maxLength: 8 }),
    options: fc.array(fc.record({ number: fc.nat(optionNumberMax), value: fc.uint8Array({ maxLength: 20 }) }), { maxLength: 6 }),
    payload: fc.uint8Array({ maxLength: 40 }),
  })
  .map((m) => encodeMessage({ ...m, token: Buffer.from(m.token), options: m.options.map((o) => ({ number: o.number, value: Buffer.from(o.value) })), payload: Buffer.from(m.payload) }));

/** Valid messages with a few bytes overwritten, cut, or grown: the parser's corner cases. */
const mutated = fc.tuple(validMessage, fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 4 })).map(([m, edits]) => {
  let out = Buffer.from(m);
  for (const [pos, byte, kind] of edits) {
    const i = pos % Math.max(1, out.length);
    if (kind === 0 && out.length > 0) out[i] = byte;
    else if (kind === 1) out = out.subarray(0, i);
    else out = Buffer.concat([out.subarray(0, i), Buffer.of(byte), out.subarray(i)]);
  }
  return new Uint8Array(out);
});

/** Requests whose option deltas, some 2-byte extended, may sum past 65,535. */
const wideOptions = fc
  .tuple(fc.constantFrom(TYPE_CON, TYPE_NON), fc.nat(0xffff), fc.array(fc.integer({ min: 269, max: 65_804 }), { minLength: 1, maxLength: 4 }))
  .map(([type, messageId, deltas]) => ({ type, messageId, deltas, bytes: Buffer.concat([header(type, 1, messageId), uriPathT, ...deltas.map((d) => wideDelta(d))]) }));

const anyDatagram = fc.oneof(fc.uint8Array({ maxLength: 300 }), validMessage.map((b) => new Uint8Array(b)), mutated, wideOptions.map((w) => new Uint8Array(w.bytes)));

describe("parseMessage on hostile bytes", () => {
  it(`${numRuns} random, mutated and wide-option datagrams: a message with 16-bit option numbers, or CoapFormatError`, () => {
    fc.assert(
      fc.property(anyDatagram, (d) => {
        let m;
        try {
          m = parseMessage(d);
        } catch (e) {
          expect(e).toBeInstanceOf(CoapFormatError);
          return;
        }
        let previous = 0;
        for (const o of m.options) {
          expect(o.number).toBeGreaterThanOrEqual(previous);
          expect(o.number).toBeLessThanOrEqual(optionNumberMax);
          previous = o.number;
        }
        // What parses re-encodes to bytes that parse to the same message (the encoder is canonical).
        expect(parseMessage(encodeMessage(m))).toEqual(m);
      }),
      { numRuns, seed },
    );
  });

  it("takes option number 65,535 and refuses 65,536 (§3.1: option numbers are 16-bit)", () => {
    const at = (total: number) => Buffer.concat([header(TYPE_CON, 1, 1), uriPathT, wideDelta(total - 11)]);
    expect(parseMessage(at(65_535)).options.map((o) => o.number)).toEqual([11, 65_535]);
    expect(() => parseMessage(at(65_536))).toThrow(CoapFormatError);
    // One 2-byte extended delta alone reaches 65,804.
    expect(() => parseMessage(Buffer.concat([header(TYPE_NON, 1, 1), wideDelta(65_804)]))).toThrow(/option number 65804 above 65535/);
  });
});

describe("admit on hostile bytes", () => {
  it(`${numRuns} datagrams: never throws, never answers ACK/RST or a NON with more bytes than it carried`, () => {
    fc.assert(
      fc.property(anyDatagram, (d) => {
        const a = admit(d, limits);
        if (a.action !== "reply") return;
        const type = (d[0] >> 4) & 3;
        expect(d[0] >> 6).toBe(1);
        expect(type === TYPE_ACK || type === TYPE_RST).toBe(false);
        if (type === TYPE_NON) expect(a.bytes.length).toBeLessThanOrEqual(d.length);
        const answer = parseMessage(a.bytes);
        if (answer.type === TYPE_RST) {
          // §4.2: a Reset echoes the message id and is Empty.
          expect([answer.code, answer.messageId, a.bytes.length]).toEqual([0, (d[2] << 8) | d[3], 4]);
        } else if (a.bytes.length > d.length) {
          expect(answer.payload.length).toBeLessThanOrEqual(diagnosticShortBytesMax);
        }
      }),
      { numRuns, seed },
    );
  });

  it("sums of wide option deltas past 65,535: a CON gets a Reset with its message id, a NON nothing", () => {
    fc.assert(
      fc.property(wideOptions, (w) => {
        const a = admit(w.bytes, limits);
        const highest = 11 + w.deltas.reduce((s, x) => s + x, 0);
        if (highest <= optionNumberMax) {
          if (a.action !== "pass") expect(a.reason).not.toMatch(/format error/);
          return;
        }
        if (w.type === TYPE_NON) {
          expect(a).toMatchObject({ action: "drop" });
          return;
        }
        expect(a).toMatchObject({ action: "reply" });
        expect([...(a as { bytes: Buffer }).bytes]).toEqual([0x70, 0x00, w.messageId >> 8, w.messageId & 0xff]);
      }),
      { numRuns: 2_000, seed },
    );
  });

  it("answers an Empty CON (ping) with a Reset, ignores an Empty NON, and never answers an Empty ACK or RST", () => {
    expect(admit(Buffer.from([0x40, 0x00, 0x12, 0x34]), limits)).toMatchObject({ action: "reply", bytes: Buffer.from([0x70, 0x00, 0x12, 0x34]) });
    expect(admit(Buffer.from([0x50, 0x00, 0x12, 0x34]), limits)).toMatchObject({ action: "drop" });
    // ACK and RST pass only so the `coap` server can settle a separate response; the endpoint never answers them.
    for (const b of [[0x60, 0x00, 0x55, 0x55], [0x70, 0x00, 0x55, 0x55]]) expect(admit(Buffer.from(b), limits).action).toBe("pass");
    // An ACK or RST with content is malformed (§4.1) and, not being a CON, dropped.
    for (const b of [[0x70, 0x00, 0x55, 0x55, 0xff], [0x71, 0x00, 0x55, 0x55, 0x01]]) expect(admit(Buffer.from(b), limits).action).toBe("drop");
  });

  it("a 6-byte NON PUT draws no 4.05 (it would be larger); the same as a CON draws one with a short diagnostic", () => {
    const put = (type: number) => Buffer.concat([header(type, 3, 0x0606), Buffer.from([0xb1, 0x72])]);
    expect(admit(put(TYPE_NON), limits)).toMatchObject({ action: "drop" });
    const a = admit(put(TYPE_CON), limits);
    expect(a.action).toBe("reply");
    const m = parseMessage((a as { bytes: Buffer }).bytes);
    expect([m.type, m.code, m.messageId]).toEqual([TYPE_ACK, 0x85, 0x0606]);
    expect(m.payload.length).toBeGreaterThan(0);
    expect(m.payload.length).toBeLessThanOrEqual(diagnosticShortBytesMax);
  });
});

describe("fitResponse", () => {
  const plan = fc.record({
    type: fc.constantFrom(TYPE_CON, TYPE_NON),
    requestBytes: fc.integer({ min: 4, max: 1200 }),
    code: fc.constantFrom(0x41, 0x44, 0x45, 0x80, 0x81, 0x83, 0x84, 0x8f, 0x9d, 0xa0, 0xa3),
    bytesWithoutPayload: fc.integer({ min: 4, max: 30 }),
    text: fc.string({ unit: "grapheme", maxLength: 80 }),
  });

  it("never lets a NON answer outgrow its request, keeps CON answers, cuts only errors, on character boundaries", () => {
    fc.assert(
      fc.property(plan, (p) => {
        const payload = Buffer.from(p.text, "utf8");
        const out = fitResponse({ type: p.type, bytes: p.requestBytes }, { code: p.code, bytesWithoutPayload: p.bytesWithoutPayload, payload });
        const full = p.bytesWithoutPayload + (payload.length > 0 ? 1 + payload.length : 0);
        if (full <= p.requestBytes) {
          expect(out).toBe(payload);
          return;
        }
        if (p.type === TYPE_CON) expect(out).toBeDefined();
        if (out === undefined) return;
        const sent = p.bytesWithoutPayload + (out.length > 0 ? 1 + out.length : 0);
        if (p.type === TYPE_NON) expect(sent).toBeLessThanOrEqual(p.requestBytes);
        if (p.code >> 5 < 4) {
          expect(out).toBe(payload); // a success payload (CBOR) is never cut
          return;
        }
        expect(out.length).toBeLessThanOrEqual(diagnosticShortBytesMax);
        expect(payload.subarray(0, out.length).equals(Buffer.from(out))).toBe(true);
        expect(Buffer.from(Buffer.from(out).toString("utf8"), "utf8").equals(Buffer.from(out))).toBe(true);
      }),
      { numRuns, seed },
    );
  });

  it("cutUtf8 keeps whole characters", () => {
    expect(Buffer.from(cutUtf8(Buffer.from("ab€"), 4)).toString()).toBe("ab"); // € is 3 bytes
    expect(Buffer.from(cutUtf8(Buffer.from("ab€"), 5)).toString()).toBe("ab€");
    expect(Buffer.from(cutUtf8(Buffer.from("abcdef"), 3)).toString()).toBe("abc");
  });
});
