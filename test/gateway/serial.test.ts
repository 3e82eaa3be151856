// CoAP over a real serial line: a socat pty pair, SLIP framing (RFC 1055), the gateway's
// serialport on one end. First a hand-driven peer (exact frames, line noise, retransmission), then
// the board emulator running the real firmware.wasm on the other end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SerialPort } from "serialport";
import { randomBytes } from "node:crypto";
import { contentFormat } from "../../shared/constants.ts";
import { encodeEnrollment } from "../../shared/enrollment.ts";
import { publicKeyObject } from "../../shared/ed25519.ts";
import { decodeReading, verifyReading } from "../../shared/reading.ts";
import { SlipDecoder, slipEncode } from "../../gateway/coap/slip.ts";
import { parseMessage } from "../../gateway/coap/message.ts";
import { Board } from "../../hardware/emulator/board.ts";
import { buildRequest, codeOf } from "../support/gateway-coap-client.ts";
import { startTestGateway, tempDir, TestDevice, type TestGateway } from "../support/gateway-fixtures.ts";
import { openPtyPair, type PtyPair } from "../../hardware/emulator/pty-pair.ts";

describe("serial line, hand-driven peer", () => {
  let pty: PtyPair;
  let t: TestGateway;
  let peer: SerialPort;
  const frames: Buffer[] = [];

  beforeAll(async () => {
    pty = await openPtyPair();
    t = await startTestGateway({ udp: null, serial: [{ path: pty.a }] });
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

  async function exchange(bytes: Uint8Array, prefix: Uint8Array = new Uint8Array(0)): Promise<Buffer> {
    const before = frames.length;
    peer.write(Buffer.concat([prefix, slipEncode(bytes)]));
    for (let i = 0; i < 500 && frames.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(frames.length, "no SLIP frame back within 5 s").toBeGreaterThan(before);
    return frames[frames.length - 1];
  }

  it("answers a reading with 2.01 and a retransmission (same message id) with the same 2.01, one record", async () => {
    const d = new TestDevice();
    t.enroll(d);
    const req = buildRequest({ method: "POST", path: "r", payload: d.reading(18), contentFormat: contentFormat.coseSign1 }, 0x1234);
    const first = parseMessage(await exchange(req));
    expect(codeOf(first.code)).toBe("2.01");
    expect(first.messageId).toBe(0x1234);
    const again = parseMessage(await exchange(req));
    expect(codeOf(again.code)).toBe("2.01");
    expect(t.gw.store.allReadings()).toHaveLength(1);
  });

  it("survives line noise, broken frames and garbage, then still answers", async () => {
    for (let i = 0; i < 300; i++) peer.write(randomBytes(1 + (i % 97)));
    peer.write(Buffer.from([0xc0, 0xdb, 0x01, 0xc0])); // bad escape
    peer.write(Buffer.concat([Buffer.from([0xc0]), Buffer.alloc(3000, 0x41), Buffer.from([0xc0])])); // oversize frame
    await new Promise((r) => setTimeout(r, 300));
    const d = new TestDevice();
    t.enroll(d);
    // A few END bytes first: whatever partial frame the noise left open is closed.
    const reply = parseMessage(await exchange(buildRequest({ method: "POST", path: "r", payload: d.reading(19), contentFormat: contentFormat.coseSign1 }), Buffer.from([0xc0, 0xc0])));
    expect(codeOf(reply.code)).toBe("2.01");
    const garbage = parseMessage(await exchange(buildRequest({ method: "POST", path: "r", payload: Buffer.from("junk"), contentFormat: contentFormat.coseSign1 })));
    expect(codeOf(garbage.code)).toBe("4.00");
    const stats = t.gw.serialSockets[0].stats;
    expect(stats.oversize).toBeGreaterThan(0);
    expect(stats.badEscapes).toBeGreaterThan(0);
  });
});

describe("serial line, board emulator with the real firmware", () => {
  it("delivers every reading signed by the board, verified and stored once", async () => {
    const pty = await openPtyPair();
    const t = await startTestGateway({ udp: null, serial: [{ path: pty.a }] });
    const dir = tempDir("mote-board-");
    const board = await Board.boot({ dataDir: dir.path, link: { kind: "serial", path: pty.b } });
    try {
      t.gw.enrollment.enroll(encodeEnrollment(t.owner.privateKey, t.owner.publicKey, board.publicKey));
      const seqs: number[] = [];
      for (let i = 0; i < 12; i++) {
        seqs.push(board.reading(i % 6, 20 + i));
        if (board.pending() >= 6) await board.idle(30_000);
      }
      await board.idle(30_000);
      expect(board.stat("readingsAcked")).toBe(12);
      expect(board.stat("readingsRejected")).toBe(0);
      const stored = t.gw.store.allReadings();
      expect(stored.map((r) => r.sequence).sort((a, b) => a - b)).toEqual(seqs);
      const key = publicKeyObject(board.publicKey);
      for (const r of stored) expect(verifyReading(decodeReading(r.cose), key)).toBe(true);
      expect(t.gw.serialSockets[0].stats.framesIn).toBeGreaterThanOrEqual(12);
    } finally {
      await board.close();
      await t.stop();
      await pty.close();
      dir.remove();
    }
  });
});

describe("serial line that goes away", () => {
  it("reopens the port when the line comes back and serves it again", async () => {
    const dir = tempDir("mote-pty-");
    const links: [string, string] = [`${dir.path}/gateway-tty`, `${dir.path}/device-tty`];
    let pty = await openPtyPair(10_000, links);
    const t = await startTestGateway({ udp: null, serial: [{ path: links[0] }] });
    try {
      await pty.close(); // the adapter is unplugged
      for (let i = 0; i < 200 && t.gw.serialSockets[0].stats.reopens === 0; i++) {
        if (i === 20) pty = await openPtyPair(10_000, links); // …and plugged in again
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(t.gw.serialSockets[0].stats.reopens).toBe(1);
      const d = new TestDevice();
      t.enroll(d);
      const peer = new SerialPort({ path: links[1], baudRate: 115_200, autoOpen: false });
      await new Promise<void>((r, j) => peer.open((e) => (e ? j(e) : r())));
      const frames: Buffer[] = [];
      const dec = new SlipDecoder(1280, (f) => frames.push(f));
      peer.on("data", (c: Buffer) => dec.push(c));
      peer.write(slipEncode(buildRequest({ method: "POST", path: "r", payload: d.reading(), contentFormat: contentFormat.coseSign1 })));
      for (let i = 0; i < 200 && frames.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(codeOf(parseMessage(frames[0]).code)).toBe("2.01");
      await new Promise<void>((r) => peer.close(() => r()));
    } finally {
      await t.stop();
      await pty.close();
      dir.remove();
    }
  });
});
