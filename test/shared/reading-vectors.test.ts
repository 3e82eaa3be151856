// test/vectors/readings.json: the signed-reading formats byte for byte. The TypeScript encoder and
// the firmware (booted as the vectors' device at the vector's sequence) produce the same bytes; an
// independent decoder (cbor-x) and verifier (@noble/curves, over a Sig_structure rebuilt with
// cbor-x's encoder, RFC 9052 §4.4) accept them; shared/reading.ts decodes them to the records.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decode as cborxDecode, Encoder, Tag } from "cbor-x";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { decodeReading, encodeCompactReading, encodeReading } from "../../shared/reading.ts";
import { fromHex, privateKeyObject, toHex } from "../../shared/ed25519.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import { parseMessage, encodeMessage, TYPE_ACK, codeByte } from "../../gateway/coap/message.ts";
import { TestHost } from "../support/firmware-host.ts";
import { writeDeviceSlots } from "../support/firmware-slots.ts";
import { sensorCatalog } from "../../shared/sensor-catalog.ts";

interface Vector { name: string; format: 1 | 2; kid: string; sequence: number; firstAfterBoot: boolean; records: SenmlRecord[]; cose: string }
const file = JSON.parse(readFileSync(new URL("../vectors/readings.json", import.meta.url), "utf8")) as { seed: string; publicKey: string; deviceId: string; vectors: Vector[] };
const seed = fromHex(file.seed);
const key = privateKeyObject(seed);
const deviceId = fromHex(file.deviceId);
const resolve = (v: Vector) => (kid: Uint8Array) => (toHex(kid) === v.kid ? deviceId : undefined);

/** The firmware's COSE_Sign1 for the vector: booted as the device, at the vector's sequence. */
function firmwareReading(v: Vector): Uint8Array {
  const host = new TestHost();
  const kid = v.kid === file.deviceId ? undefined : fromHex(v.kid);
  writeDeviceSlots(host.slots, seed, v.firstAfterBoot ? v.sequence : v.sequence - 1, kid);
  const fw = host.boot();
  const sensor = sensorCatalog.findIndex((e) => e.name === v.records[0].name);
  if (!v.firstAfterBoot) {
    fw.reading(sensor, v.records[0].value!); // the first after boot carries the fw record: answer it
    const first = parseMessage(Buffer.from(host.takeSent()[0].bytes));
    fw.receive(0, encodeMessage({ ...first, type: TYPE_ACK, code: codeByte("2.04"), options: [], payload: Buffer.alloc(0) }));
  }
  expect(fw.reading(sensor, v.records[0].value!)).toBe(v.sequence);
  fw.tick();
  const sent = host.takeSent();
  return new Uint8Array(parseMessage(Buffer.from(sent[sent.length - 1].bytes)).payload);
}

describe("signed-reading vectors (test/vectors/readings.json)", () => {
  for (const v of file.vectors) {
    it(v.name, () => {
      const bytes = fromHex(v.cose);
      const encoded = v.format === 1 ? encodeReading(key, deviceId, v.sequence, v.records) : encodeCompactReading(key, fromHex(v.kid), v.sequence, v.records);
      // The TypeScript encoder writes every value as a float; the firmware's version record is an integer.
      if (!v.firstAfterBoot) expect(toHex(encoded)).toBe(v.cose);
      if (v.format === 2) expect(toHex(firmwareReading(v))).toBe(v.cose);

      const r = decodeReading(bytes, resolve(v));
      expect(r.format).toBe(v.format);
      expect(toHex(r.deviceId)).toBe(file.deviceId);
      expect(toHex(r.kid)).toBe(v.kid);
      expect(r.sequence).toBe(v.sequence);
      expect(r.records).toEqual(v.records);

      // Independently: cbor-x takes the message apart, noble verifies over a Sig_structure cbor-x built.
      const tagged = cborxDecode(bytes) as Tag;
      expect(tagged).toBeInstanceOf(Tag);
      expect(tagged.tag).toBe(18);
      const [prot, unprotected, payload, signature] = tagged.value as [Uint8Array, Record<number, Uint8Array>, Uint8Array, Uint8Array];
      const header = cborxDecode(prot) as Record<number, unknown>;
      if (v.format === 2) {
        expect(Object.keys(header)).toEqual(["4", "6"]);
        expect(toHex(header[4] as Uint8Array)).toBe(v.kid);
        expect(unprotected).toEqual({});
        // Catalog records: one-digit name, no unit (RFC 8428 §4.5.1).
        const first = (cborxDecode(payload) as Record<number, unknown>[])[0];
        expect(Object.keys(first)).toEqual(["0", "2"]);
      } else {
        expect(header[1]).toBe(-8);
        expect(toHex(unprotected[4])).toBe(v.kid);
      }
      const sigStructure = new Encoder({ useRecords: false }).encode(["Signature1", Buffer.from(prot), Buffer.alloc(0), Buffer.from(payload)]);
      expect(noble.verify(signature, sigStructure, fromHex(file.publicKey))).toBe(true);
    });
  }

  it("a short kid the resolver does not know is refused with COSE_KID_UNKNOWN, never guessed", () => {
    const v = file.vectors.find((x) => x.kid === "0102")!;
    expect(() => decodeReading(fromHex(v.cose))).toThrowError(expect.objectContaining({ code: "COSE_KID_UNKNOWN" }));
    expect(() => decodeReading(fromHex(v.cose), () => undefined)).toThrowError(expect.objectContaining({ code: "COSE_KID_UNKNOWN" }));
  });
});
