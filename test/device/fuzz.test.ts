// 100,000 random and mutated frames (CoAP, SLIP, CBOR) fed to the real firmware on both links,
// interleaved with readings so frames arrive in every client state. The firmware must never trap,
// never change its memory size, keep its identity and counter, and still sign a valid reading.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { generate as generateCoap, parse as parseCoap } from "coap-packet";
import { encode as cborxEncode } from "cbor-x";
import { TestHost } from "../support/firmware-host.ts";
import { LINK_RADIO, LINK_SERIAL, type Firmware } from "../../hardware/emulator/firmware.ts";
import { decodeReading, verifyReading } from "../../shared/reading.ts";
import { publicKeyObject } from "../../shared/ed25519.ts";

const runsPerKind = 25_000; // four kinds below: 100,000 frames in all
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

const coapMessage = fc.record({
  type: fc.constantFrom("confirmable", "reset", "ack", "none"),
  code: fc.constantFrom("0.00", "0.01", "0.02", "2.01", "2.04", "4.00", "4.01", "4.29", "5.03", "7.31"),
  messageId: fc.integer({ min: 0, max: 0xffff }),
  token: fc.uint8Array({ maxLength: 8 }),
  payload: fc.uint8Array({ maxLength: 64 }),
  withOption: fc.boolean(),
});

type CoapFields = { type: string; code: string; messageId: number; token: Uint8Array; payload: Uint8Array; withOption: boolean };

function encodeCoap(m: CoapFields): Uint8Array {
  const flags = { confirmable: m.type === "confirmable", reset: m.type === "reset", ack: m.type === "ack" };
  const empty = m.code === "0.00";
  return new Uint8Array(
    generateCoap({
      ...flags,
      code: m.code,
      messageId: m.messageId,
      token: empty ? Buffer.alloc(0) : Buffer.from(m.token),
      payload: empty ? Buffer.alloc(0) : Buffer.from(m.payload),
      options: !empty && m.withOption ? [{ name: "Uri-Path", value: Buffer.from("r") }] : [],
    } as any),
  );
}

/** Bit flips, truncation, byte insertion/deletion: the damage a radio or a fuzzer does. */
const mutation = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });

function mutate(bytes: Uint8Array, ops: [number, number, number][]): Uint8Array {
  let b = Array.from(bytes);
  for (const [op, at, v] of ops) {
    const i = b.length ? at % b.length : 0;
    if (op === 0 && b.length) b[i] ^= 1 << (v & 7);
    else if (op === 1) b = b.slice(0, i);
    else if (op === 2) b.splice(i, 0, v);
    else if (op === 3 && b.length) b.splice(i, 1);
  }
  return Uint8Array.from(b);
}

function slipFrame(payload: Uint8Array): Uint8Array {
  const out = [0xc0];
  for (const x of payload) out.push(...(x === 0xc0 ? [0xdb, 0xdc] : x === 0xdb ? [0xdb, 0xdd] : [x]));
  out.push(0xc0);
  return Uint8Array.from(out);
}

class Harness {
  readonly host = new TestHost();
  readonly radio: Firmware;
  readonly serial: Firmware;
  private readonly identityHex: string;
  private lastSequence = -1;
  private frames = 0;

  constructor() {
    this.radio = this.host.boot(LINK_RADIO);
    // A second board on the serial link, its own flash.
    const serialHost = new TestHost();
    this.serial = serialHost.boot(LINK_SERIAL);
    this.identityHex = Buffer.from(this.radio.identity().publicKey).toString("hex");
  }

  feed(link: number, bytes: Uint8Array): void {
    const fw = link === LINK_RADIO ? this.radio : this.serial;
    fw.receive(link, bytes); // throws FirmwareFault on a trap: fails the property
    fw.tick();
    if (++this.frames % 2_500 === 0) this.signOne(fw);
    this.host.takeSent();
  }

  /** Keeps exchanges in flight so frames meet the client in every state. */
  private signOne(fw: Firmware): void {
    try {
      fw.reading(0, this.frames);
    } catch (e) {
      if ((e as { code?: string }).code !== "E_BUSY") throw e;
    }
    this.host.clock.advance(3_000);
  }

  check(): void {
    for (const fw of [this.radio, this.serial]) expect(fw.memoryBytes()).toBe(65536);
    expect(Buffer.from(this.radio.identity().publicKey).toString("hex")).toBe(this.identityHex);
    const next = this.radio.stat("sequenceNext");
    expect(next).toBeGreaterThanOrEqual(this.lastSequence);
    this.lastSequence = next;
  }
}

describe(`firmware under ${4 * runsPerKind} random and mutated frames (seed ${seed})`, () => {
  const h = new Harness();
  const params = { numRuns: runsPerKind, seed, endOnFailure: true };

  it("survives random bytes on the radio", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => h.feed(LINK_RADIO, b)), params);
    h.check();
  });

  it("survives mutated CoAP messages on the radio", () => {
    fc.assert(fc.property(coapMessage, mutation, (m, ops) => h.feed(LINK_RADIO, mutate(encodeCoap(m), ops))), params);
    h.check();
  });

  it("survives mutated SLIP streams carrying CoAP on the serial line", () => {
    const chunk = fc.oneof(
      fc.tuple(coapMessage, mutation).map(([m, ops]) => mutate(slipFrame(encodeCoap(m)), ops)),
      fc.uint8Array({ maxLength: 64 }).map((b) => b.map((x) => (x % 7 === 0 ? 0xc0 : x % 7 === 1 ? 0xdb : x))),
    );
    fc.assert(fc.property(chunk, (b) => h.feed(LINK_SERIAL, b)), params);
    h.check();
  });

  it("survives CBOR payloads, valid and mutated, inside well-formed CoAP", () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), coapMessage, mutation, (value, m, ops) => {
        let payload: Uint8Array;
        try {
          payload = mutate(new Uint8Array(cborxEncode(value)), ops);
        } catch {
          payload = new Uint8Array(0);
        }
        h.feed(LINK_RADIO, encodeCoap({ ...m, payload: payload.subarray(0, 256), code: m.code === "0.00" ? "2.05" : m.code }));
      }),
      params,
    );
    h.check();
  });

  it("still signs a valid reading afterwards, with a fresh sequence number", () => {
    const before = h.radio.stat("sequenceNext");
    // Answer whatever is queued with 2.01 until the outbox has room again, as a gateway would.
    const drain = () => {
      for (let i = 0; i < 50; i++) {
        h.host.clock.advance(100_000);
        h.radio.tick();
        for (const f of h.host.takeSent()) {
          const m = parseCoap(Buffer.from(f.bytes));
          if (m.confirmable && m.code === "0.02") {
            h.radio.receive(LINK_RADIO, new Uint8Array(generateCoap({ ack: true, code: "2.01", messageId: m.messageId, token: m.token } as any)));
          }
        }
      }
    };
    drain();
    const seq = h.radio.reading(0, 42.5);
    expect(seq).toBeGreaterThanOrEqual(before);
    const [frame] = h.host.takeSent();
    const reading = decodeReading(new Uint8Array(parseCoap(Buffer.from(frame.bytes)).payload));
    expect(reading.sequence).toBe(seq);
    expect(reading.records).toEqual([{ name: "temp", unit: "Cel", value: 42.5 }]);
    expect(verifyReading(reading, publicKeyObject(h.radio.identity().publicKey))).toBe(true);
  });
});
