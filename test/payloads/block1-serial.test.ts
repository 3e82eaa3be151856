// A payload uploaded with Block1 over a real serial line: a socat pty pair, SLIP framing (RFC 1055),
// the gateway's serial endpoint on one end, a hand-driven peer on the other sending PUT /p/<sha256> in
// 512-byte blocks, lock-step, one retransmitted block on the way.
import { randomBytes } from "node:crypto";
import { SerialPort } from "serialport";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { encodeBlockOption } from "../../gateway/coap/block-option.ts";
import { option, parseMessage, uintValue } from "../../gateway/coap/message.ts";
import { SlipDecoder, slipEncode } from "../../gateway/coap/slip.ts";
import { Block1Uploads, uploadDefaults } from "../../gateway/payloads/block1-upload.ts";
import { PayloadStore } from "../../gateway/payloads/payload-store.ts";
import { uploadHandler } from "../../gateway/payloads/upload-resource.ts";
import { openPtyPair, type PtyPair } from "../../hardware/emulator/pty-pair.ts";
import { buildRequest, codeOf } from "../support/gateway-coap-client.ts";
import { startTestGateway, type TestGateway } from "../support/gateway-fixtures.ts";

let pty: PtyPair;
let t: TestGateway;
let peer: SerialPort;
let store: PayloadStore;
const frames: Buffer[] = [];

beforeAll(async () => {
  pty = await openPtyPair();
  t = await startTestGateway({ udp: null, serial: [{ path: pty.a }] });
  store = new PayloadStore(t.dataDir);
  t.gw.endpoint.uploadHandler = uploadHandler(new Block1Uploads(store, uploadDefaults));
  peer = new SerialPort({ path: pty.b, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((r, j) => peer.open((e) => (e ? j(e) : r())));
  const dec = new SlipDecoder(1280, (f) => frames.push(f));
  peer.on("data", (c: Buffer) => dec.push(c));
});

afterAll(async () => {
  await new Promise<void>((r) => peer.close(() => r()));
  await t.stop();
  await pty.close();
});

async function exchange(bytes: Uint8Array): Promise<Buffer> {
  const before = frames.length;
  peer.write(slipEncode(bytes));
  for (let i = 0; i < 500 && frames.length === before; i++) await new Promise((r) => setTimeout(r, 10));
  expect(frames.length, "no SLIP frame back within 5 s").toBeGreaterThan(before);
  return frames[frames.length - 1];
}

it("PUT /p/<sha256> with Block1 over SLIP: 2.31 per block (again for a retransmission), 2.01 at the end, the payload kept under its digest", { timeout: 60_000 }, async () => {
  const bytes = randomBytes(512 * 20 + 77);
  const hex = toHex(sha256(bytes));
  const blocks = Math.ceil(bytes.length / 512);
  for (let num = 0; num < blocks; num++) {
    const more = num < blocks - 1;
    const extraOptions = [{ number: option.block1, value: encodeBlockOption({ num, more, szx: 5 }) }, ...(num === 0 ? [{ number: option.size1, value: uintValue(bytes.length) }] : [])];
    const request = buildRequest({ method: 3, path: `p/${hex}`, payload: bytes.subarray(num * 512, (num + 1) * 512), extraOptions }, 0x2000 + num);
    const reply = parseMessage(await exchange(request));
    expect(reply.messageId).toBe(0x2000 + num);
    expect(codeOf(reply.code)).toBe(more ? "2.31" : "2.01");
    if (num === 7) expect(codeOf(parseMessage(await exchange(request)).code)).toBe("2.31");
  }
  expect(Buffer.from(store.get(hex)!)).toEqual(bytes);
});
