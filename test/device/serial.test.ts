// The firmware over a real serial line: a socat pseudo-terminal pair, the board emulator on one
// end speaking SLIP (RFC 1055), and on the other end serialport's own SLIP codec with the coap
// package's parser as an independent peer that acknowledges each reading.
import { afterEach, describe, expect, it } from "vitest";
import { SerialPort } from "serialport";
import { SlipDecoder, SlipEncoder } from "@serialport/parser-slip-encoder";
import { parse as parseCoap, generate as generateCoap } from "coap-packet";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPtyPair } from "../../hardware/emulator/pty-pair.ts";
import { Board } from "../../hardware/emulator/board.ts";
import { decodeReading, verifyReading } from "../../shared/reading.ts";
import { publicKeyObject } from "../../shared/ed25519.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("firmware over a SLIP serial line", () => {
  it("frames each CoAP message in SLIP and completes on the peer's ACK", async () => {
    const pty = await openPtyPair();
    cleanups.push(() => pty.close());
    const peer = new SerialPort({ path: pty.b, baudRate: 115_200 });
    await new Promise<void>((r, j) => peer.once("open", () => r()).once("error", j));
    cleanups.push(() => new Promise<void>((r) => peer.close(() => r())));
    const encoder = new SlipEncoder({ bluetoothQuirk: false });
    encoder.pipe(peer);
    const decoder = peer.pipe(new SlipDecoder());
    const received: Uint8Array[] = [];
    decoder.on("data", (frame: Buffer) => {
      const msg = parseCoap(frame);
      received.push(new Uint8Array(msg.payload));
      encoder.write(generateCoap({ ack: true, code: "2.01", messageId: msg.messageId, token: msg.token } as any));
    });

    const board = await Board.boot({ dataDir: mkdtempSync(join(tmpdir(), "mote-serial-")), link: { kind: "serial", path: pty.a } });
    cleanups.push(() => board.close());
    const sequences = [board.reading(0, -5.5), board.reading(2, 101325), board.reading(5, 412)];
    await board.idle(10_000);

    expect(board.stat("readingsAcked")).toBe(3);
    const key = publicKeyObject(board.publicKey);
    const readings = received.map((b) => decodeReading(b));
    expect(readings.map((r) => r.sequence)).toEqual(sequences);
    expect(readings.every((r) => verifyReading(r, key))).toBe(true);
    // All three were signed before the first ACK, so each says which firmware signed it.
    expect(readings[1].records).toEqual([{ name: "pres", unit: "Pa", value: 101325 }, { name: "fw", value: 0 }]);
  });
});
