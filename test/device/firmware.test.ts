// The real firmware.wasm in a Node host: identity, signed readings checked by independent
// implementations, the persisted sequence counter across reboots, and the CoAP client's handling
// of every kind of answer. Virtual time; no sockets here (see udp.test.ts, serial.test.ts).
import { describe, expect, it } from "vitest";
import { writeFileSync, readFileSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parse as parseCoap, generate as generateCoap } from "coap-packet";
import { decode as cborxDecode, Tag } from "cbor-x";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { TestHost } from "../support/firmware-host.ts";
import { FirmwareError } from "../../hardware/emulator/errors.ts";
import { decodeReading, verifyReading, sigStructure } from "../../shared/reading.ts";
import { deviceIdFromPublicKey, publicKeyObject } from "../../shared/ed25519.ts";

function coapOf(bytes: Uint8Array) {
  return parseCoap(Buffer.from(bytes));
}

describe("identity", () => {
  it("is born from entropy, persisted, and its id is SHA-256(public key)[0..16]", () => {
    const host = new TestHost();
    const id1 = host.boot().identity();
    expect(Buffer.from(id1.deviceId)).toEqual(Buffer.from(deviceIdFromPublicKey(id1.publicKey)));
    const id2 = host.boot().identity();
    expect(Buffer.from(id2.publicKey)).toEqual(Buffer.from(id1.publicKey));
    expect(Buffer.from(new TestHost().boot().identity().publicKey)).not.toEqual(Buffer.from(id1.publicKey));
  });

  it("refuses to boot on a corrupt identity record and never overwrites it", () => {
    const host = new TestHost();
    host.boot();
    const path = join(host.dir, "slot-0.bin");
    const corrupt = readFileSync(path);
    corrupt[10] ^= 1;
    writeFileSync(path, corrupt);
    expect(() => host.boot()).toThrowError(expect.objectContaining({ code: "E_IDENTITY_CORRUPT" }));
    expect(readFileSync(path)).toEqual(corrupt);
  });

  it("refuses to guess a lost sequence counter for an existing identity", () => {
    const host = new TestHost();
    host.boot();
    rmSync(join(host.dir, "slot-1.bin"));
    expect(() => host.boot()).toThrowError(expect.objectContaining({ code: "E_SEQUENCE_CORRUPT" }));
  });

  it("creates nothing when entropy fails on first boot", () => {
    const host = new TestHost();
    host.entropyWorks = false;
    expect(() => host.boot()).toThrowError(FirmwareError);
    expect(() => host.boot()).toThrowError(expect.objectContaining({ code: "E_ENTROPY" }));
    expect(existsSync(join(host.dir, "slot-0.bin"))).toBe(false);
  });
});

describe("signed readings", () => {
  it("are CoAP CON POST / (no token, no options) with a compact COSE_Sign1 that node:crypto, noble and cbor-x all accept", () => {
    const host = new TestHost();
    const fw = host.boot();
    const { publicKey, deviceId } = fw.identity();
    const values = [21.5, -40, 0.1, 1e-9, 123456.789, 0];
    values.forEach((v, i) => {
      expect(fw.reading(i % 6, v)).toBe(i);
    });
    // NSTART = 1: only the first reading is on the air until it is answered.
    const [frame] = host.takeSent();
    const msg = coapOf(frame.bytes);
    expect(msg.confirmable).toBe(true);
    expect(msg.code).toBe("0.02");
    expect(msg.token.length).toBe(0);
    expect(msg.options).toEqual([]);
    const reading = decodeReading(new Uint8Array(msg.payload));
    expect(reading.sequence).toBe(0);
    expect(Buffer.from(reading.deviceId)).toEqual(Buffer.from(deviceId));
    // The first reading after boot also says which firmware signed it (docs/firmware-update.md); a
    // host without image slots runs version 0.
    expect(reading.records).toEqual([{ name: "temp", unit: "Cel", value: 21.5 }, { name: "fw", value: 0 }]);
    expect(verifyReading(reading, publicKeyObject(publicKey))).toBe(true);
    expect(noble.verify(reading.signature, sigStructure(reading.protectedBytes, reading.payloadBytes), publicKey)).toBe(true);
    const tagged = cborxDecode(msg.payload) as Tag;
    expect(tagged).toBeInstanceOf(Tag);
    expect(tagged.tag).toBe(18);
    // cbor-x decodes maps with integer keys to plain objects by default.
    const [prot, unprot, payload, sig] = tagged.value as [Uint8Array, Record<number, Uint8Array>, Uint8Array, Uint8Array];
    // A device that has not learned its short kid signs under its device id (shared/reading.ts format 2).
    expect(cborxDecode(prot)).toEqual({ 4: Buffer.from(deviceId), 6: Buffer.from([0]) });
    expect(unprot).toEqual({});
    expect(cborxDecode(payload)).toEqual([{ 0: "0", 2: 21.5 }, { 0: "fw", 2: 0 }]);
    expect(sig.length).toBe(64);
  });

  it("refuse bad arguments and a full outbox with the ABI's codes", () => {
    const fw = new TestHost().boot();
    expect(() => fw.reading(6, 1)).toThrowError(expect.objectContaining({ code: "E_BAD_ARGUMENT" }));
    expect(() => fw.reading(-1, 1)).toThrowError(expect.objectContaining({ code: "E_BAD_ARGUMENT" }));
    expect(() => fw.reading(0, NaN)).toThrowError(expect.objectContaining({ code: "E_BAD_ARGUMENT" }));
    expect(() => fw.reading(0, Infinity)).toThrowError(expect.objectContaining({ code: "E_BAD_ARGUMENT" }));
    for (let i = 0; i < 8; i++) fw.reading(0, i);
    expect(() => fw.reading(0, 9)).toThrowError(expect.objectContaining({ code: "E_BUSY" }));
    expect(fw.stat("readingsSigned")).toBe(8);
  });
});

describe("sequence numbers", () => {
  it("strictly increase across 30 reboots, none of them clean", () => {
    const host = new TestHost();
    const seen: number[] = [];
    for (let boot = 0; boot < 30; boot++) {
      const fw = host.boot();
      const n = (boot * 7) % 9; // 0..8 readings, then the instance is dropped (power cut)
      for (let i = 0; i < n && i < 8; i++) seen.push(fw.reading(0, i));
    }
    expect(seen.length).toBeGreaterThan(100);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
  });

  it("continue past a reservation block boundary within one boot", () => {
    const host = new TestHost();
    const seen: number[] = [];
    let fw = host.boot();
    for (let i = 0; i < 200; i++) {
      if (i % 8 === 7) fw = host.boot();
      seen.push(fw.reading(1, i));
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
  });
});

describe("CoAP client", () => {
  function answer(request: Uint8Array, fields: Record<string, unknown>): Uint8Array {
    const req = coapOf(request);
    return new Uint8Array(generateCoap({ messageId: req.messageId, token: req.token, ack: true, code: "2.01", ...fields } as any));
  }

  it("completes on a piggybacked 2.01 and sends the next reading", () => {
    const host = new TestHost();
    const fw = host.boot();
    fw.reading(0, 1);
    fw.reading(0, 2);
    const [first] = host.takeSent();
    expect(fw.receive(0, answer(first.bytes, {}))).toBe(1);
    fw.tick();
    const [second] = host.takeSent();
    expect(decodeReading(new Uint8Array(coapOf(second.bytes).payload)).sequence).toBe(1);
    expect(fw.stat("readingsAcked")).toBe(1);
  });

  it("handles an empty ACK then a separate CON response, ACKing it and its duplicate", () => {
    const host = new TestHost();
    const fw = host.boot();
    fw.reading(0, 1);
    const [req] = host.takeSent();
    const parsed = coapOf(req.bytes);
    fw.receive(0, new Uint8Array(generateCoap({ messageId: parsed.messageId, ack: true, code: "0.00" } as any)));
    const separate = new Uint8Array(generateCoap({ messageId: 4242, token: parsed.token, confirmable: true, code: "2.01" } as any));
    fw.receive(0, separate);
    fw.receive(0, separate);
    const acks = host.takeSent().map((f) => coapOf(f.bytes));
    expect(acks.map((a) => [a.ack, a.messageId, a.code])).toEqual([[true, 4242, "0.00"], [true, 4242, "0.00"]]);
    expect(fw.stat("readingsAcked")).toBe(1);
    expect(fw.stat("rxDuplicates")).toBe(1);
  });

  it("drops a reading the gateway refuses (4.01) and retries after 5.03 with the same bytes", () => {
    const host = new TestHost();
    const fw = host.boot();
    fw.reading(0, 1);
    fw.reading(0, 2);
    const [a] = host.takeSent();
    fw.receive(0, answer(a.bytes, { code: "4.01" }));
    expect(fw.stat("readingsRejected")).toBe(1);
    fw.tick();
    const [b] = host.takeSent();
    fw.receive(0, answer(b.bytes, { code: "5.03" }));
    expect(fw.tick()).toBe(30_000);
    host.clock.advance(30_000);
    fw.tick();
    const [c] = host.takeSent();
    expect(Buffer.from(coapOf(c.bytes).payload)).toEqual(Buffer.from(coapOf(b.bytes).payload));
    expect(coapOf(c.bytes).messageId).not.toBe(coapOf(b.bytes).messageId);
  });

  it("carries the firmware report in each reading until a gateway acknowledges one, past a refusal", () => {
    const host = new TestHost();
    const fw = host.boot();
    const names = (bytes: Uint8Array) => decodeReading(new Uint8Array(coapOf(bytes).payload)).records.map((r) => r.name);
    fw.reading(0, 1);
    const [a] = host.takeSent();
    expect(names(a.bytes)).toEqual(["temp", "fw"]);
    // A gateway whose head has not yet seen this device's enrollment refuses the reading for good.
    fw.receive(0, answer(a.bytes, { code: "4.03" }));
    expect(fw.stat("readingsRejected")).toBe(1);
    fw.reading(0, 2);
    fw.reading(0, 3); // signed before any answer: it carries the report too
    const [b] = host.takeSent();
    expect(names(b.bytes)).toEqual(["temp", "fw"]);
    fw.receive(0, answer(b.bytes, {}));
    fw.tick();
    const [c] = host.takeSent();
    expect(names(c.bytes)).toEqual(["temp", "fw"]);
    fw.receive(0, answer(c.bytes, {}));
    fw.reading(0, 4);
    const [d] = host.takeSent();
    expect(names(d.bytes)).toEqual(["temp"]);
  });

  it("answers a request with 4.04, a ping with RST, and ignores stray ACKs", () => {
    const host = new TestHost();
    const fw = host.boot();
    fw.receive(0, new Uint8Array(generateCoap({ messageId: 7, token: Buffer.from([1, 2]), confirmable: true, code: "0.01", options: [{ name: "Uri-Path", value: Buffer.from("x") }] } as any)));
    fw.receive(0, new Uint8Array(generateCoap({ messageId: 8, confirmable: true, code: "0.00" } as any)));
    fw.receive(0, new Uint8Array(generateCoap({ messageId: 9, ack: true, code: "2.01" } as any)));
    const out = host.takeSent().map((f) => coapOf(f.bytes));
    expect(out.map((m) => [m.ack, m.reset, m.messageId, m.code, m.token.length])).toEqual([
      [true, false, 7, "4.04", 2],
      [false, true, 8, "0.00", 0],
    ]);
  });
});
