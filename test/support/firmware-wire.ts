// What the firmware puts on the wire for one signed single-value reading, as bench:device's table and
// test/device/wire-size.test.ts read it: the first reading after a boot, which carries the firmware
// report (docs/firmware-update.md "Version reports") until a gateway acknowledges a reading that
// carries it, and the reading after that acknowledgement, the steady state a fleet sends. Each
// reading is signed when taken, so the second is taken only once the first is answered: taken
// earlier it would still carry the report (109c20a), and the table once measured that case as the
// steady one (101 bytes where the steady reading is 94).
import { randomBytes } from "node:crypto";
import { LINK_SERIAL } from "../../hardware/emulator/firmware.ts";
import { codeByte, encodeMessage, parseMessage, TYPE_ACK } from "../../gateway/coap/message.ts";
import { SlipDecoder, slipEncode } from "../../gateway/coap/slip.ts";
import { TestHost } from "./firmware-host.ts";
import { writeDeviceSlots } from "./firmware-slots.ts";

export interface ReadingFrames {
  /** The first reading after boot, with the firmware report: a UDP payload, or a SLIP frame on serial. */
  firstAfterBoot: Uint8Array;
  /** The next reading, signed after the first was acknowledged (2.04): no report. */
  steady: Uint8Array;
}

/** The CoAP message inside one SLIP frame. */
export function slipPayload(frame: Uint8Array): Uint8Array {
  let out = new Uint8Array(0);
  new SlipDecoder(1280, (f) => (out = new Uint8Array(f))).push(frame);
  return out;
}

/**
 * Boots a fresh device whose sequence counter stands at `sequence` (and which knows `shortKid`, when
 * given), has it sign a reading of `sensor` (the catalog index) with `value`, acknowledges it, and has
 * it sign the next.
 */
export function readingFrames(link: number, sensor: number, value: number, sequence: number, shortKid?: Uint8Array): ReadingFrames {
  const host = new TestHost();
  writeDeviceSlots(host.slots, randomBytes(32), sequence - 1, shortKid);
  const fw = host.boot(link);
  fw.reading(sensor, value);
  const [first] = host.takeSent();
  const message = link === LINK_SERIAL ? slipPayload(first.bytes) : first.bytes;
  const ack = encodeMessage({ ...parseMessage(Buffer.from(message)), type: TYPE_ACK, code: codeByte("2.04"), options: [], payload: Buffer.alloc(0) });
  if (fw.receive(link, link === LINK_SERIAL ? slipEncode(ack) : ack) !== 1) throw new Error("the firmware did not take the acknowledgement of its first reading");
  fw.reading(sensor, value);
  const [steady] = host.takeSent();
  if (!steady) throw new Error("the firmware sent no second reading after its first was acknowledged");
  return { firstAfterBoot: first.bytes, steady: steady.bytes };
}
