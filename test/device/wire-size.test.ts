// Issue 14 item 2 as the firmware itself sends it: a signed single-value reading in at most 96 bytes of
// UDP payload, once the device knows its short kid and a gateway has acknowledged its boot report.
// The codec's own bound is test/device/codec.test.ts's; this one failed while bench:device measured a
// reading signed before the report's acknowledgement (101 bytes) and nothing held the steady figure.
import { describe, expect, it } from "vitest";
import { parse as parseCoap } from "coap-packet";
import { LINK_RADIO, LINK_SERIAL } from "../../hardware/emulator/firmware.ts";
import { decodeReading } from "../../shared/reading.ts";
import { readingFrames, slipPayload } from "../support/firmware-wire.ts";

const shortKid = Uint8Array.of(1, 2);
// The records alone are read here, so any device stands for the one the short kid would name on chain.
const anyDevice = () => new Uint8Array(16);
const names = (message: Uint8Array) => decodeReading(new Uint8Array(parseCoap(Buffer.from(message)).payload), anyDevice).records.map((r) => r.name);

describe("one signed reading on the wire", () => {
  it("is at most 96 bytes of UDP payload under a short kid at a 2-byte sequence, float16 and float32, once the boot report is acknowledged", () => {
    const sizes = [[0, 21.5], [2, 100000.5]].map(([sensor, value]) => {
      const { firstAfterBoot, steady } = readingFrames(LINK_RADIO, sensor, value, 1_000, shortKid);
      expect(names(firstAfterBoot)).toContain("fw");
      expect(names(steady)).not.toContain("fw");
      expect(steady.length, `sensor ${sensor} value ${value}`).toBeLessThanOrEqual(96);
      return steady.length;
    });
    // The README's figure: 94 for float16 (4 + 1 around a 89-byte COSE_Sign1).
    expect(sizes[0]).toBe(94);
  });

  it("is the same CoAP message over serial, in a SLIP frame, and 14 bytes more under the device id", () => {
    const udp = readingFrames(LINK_RADIO, 0, 21.5, 1_000, shortKid).steady;
    const serial = slipPayload(readingFrames(LINK_SERIAL, 0, 21.5, 1_000, shortKid).steady);
    expect(serial.length).toBe(udp.length);
    expect(names(serial)).toEqual(["temp"]);
    expect(readingFrames(LINK_RADIO, 0, 21.5, 1_000).steady.length).toBe(udp.length + 14);
  });
});
