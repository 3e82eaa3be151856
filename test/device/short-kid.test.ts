// The firmware's short kid (device/short-kid.ts, device/ABI.md "Readings"): learned from the
// Short-Kid option of a 2.01 to a reading under the device id, persisted in slot 2 and used; a
// malformed one ignored; forgotten on a 4.04/4.01 to a short-kid reading, whose values are then
// signed again under the device id with a new sequence number, never the refused one.
import { describe, expect, it } from "vitest";
import { TestHost } from "../support/firmware-host.ts";
import { codeByte, encodeMessage, option, parseMessage, TYPE_ACK, type CoapOption } from "../../gateway/coap/message.ts";
import { decodeReading, verifyReading } from "../../shared/reading.ts";
import { publicKeyObject, toHex } from "../../shared/ed25519.ts";

function answer(host: TestHost, fw: ReturnType<TestHost["boot"]>, code: string, options: CoapOption[] = []) {
  const sent = host.takeSent();
  const request = parseMessage(Buffer.from(sent[sent.length - 1].bytes));
  fw.receive(0, encodeMessage({ ...request, type: TYPE_ACK, code: codeByte(code), options, payload: Buffer.alloc(0) }));
  fw.tick();
  return request;
}
const kidOption = (bytes: number[]): CoapOption[] => [{ number: option.shortKid, value: Buffer.from(bytes) }];

describe("short kid", () => {
  it("is learned from a 2.01, persisted, used; forgotten on 4.04 and the values re-signed under a new sequence", () => {
    const host = new TestHost();
    const fw = host.boot();
    const { deviceId, publicKey } = fw.identity();
    const byId = (kid: Uint8Array) => (toHex(kid) === "0102" ? deviceId : undefined);
    fw.reading(0, 20);
    answer(host, fw, "2.01", kidOption([1, 2]));
    expect(toHex(host.slots.read(2)!)).toBe("0102");
    fw.reading(1, 55);
    fw.tick();
    const refused = decodeReading(new Uint8Array(answer(host, fw, "4.04").payload), byId);
    expect(toHex(refused.kid)).toBe("0102");
    expect(host.slots.read(2)!.length).toBe(0);
    // The re-signed reading goes out at once: device id as kid, same values, a later sequence.
    const resent = decodeReading(new Uint8Array(parseMessage(Buffer.from(host.takeSent()[0].bytes)).payload));
    expect(toHex(resent.kid)).toBe(toHex(deviceId));
    expect(resent.records).toEqual(refused.records);
    expect(resent.sequence).toBeGreaterThan(refused.sequence);
    expect(verifyReading(resent, publicKeyObject(publicKey))).toBe(true);
    expect(fw.stat("readingsRejected")).toBe(0);
  });

  it("survives a reboot, and a 4.01 to a short-kid reading is the same cue", () => {
    const host = new TestHost();
    let fw = host.boot();
    fw.reading(0, 1);
    answer(host, fw, "2.01", kidOption([7]));
    fw = host.boot(); // power cycle
    fw.reading(0, 2);
    fw.tick();
    const r = answer(host, fw, "4.01");
    expect(toHex(decodeReading(new Uint8Array(r.payload), (k) => k.length === 1 ? new Uint8Array(16) : undefined).kid)).toBe("07");
    expect(host.slots.read(2)!.length).toBe(0);
    expect(host.takeSent()).toHaveLength(1); // the re-signed reading
  });

  it("ignores a malformed or unsolicited kid: non-minimal, too long, empty, or on a short-kid reading", () => {
    for (const bad of [[0, 1], [1, 2, 3, 4, 5], []]) {
      const host = new TestHost();
      const fw = host.boot();
      fw.reading(0, 1);
      answer(host, fw, "2.01", kidOption(bad));
      expect(host.slots.read(2)).toBeNull();
    }
    const host = new TestHost();
    const fw = host.boot();
    fw.reading(0, 1);
    answer(host, fw, "2.01", kidOption([3]));
    fw.reading(0, 2);
    fw.tick();
    answer(host, fw, "2.01", kidOption([4])); // a kid is learned once, from a reading under the device id
    expect(toHex(host.slots.read(2)!)).toBe("03");
  });
});
