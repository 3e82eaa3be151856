// The firmware over a real loopback UDP socket: a reading reaches a `coap` server (node-coap,
// written by others) and is acknowledged; with the server silent, the board retransmits on
// RFC 7252's schedule (§4.2, §4.8) and gives up after MAX_RETRANSMIT.
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server } from "coap";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Board } from "../../hardware/emulator/board.ts";
import { VirtualClock } from "../../hardware/emulator/clock.ts";
import { decodeReading, verifyReading } from "../../shared/reading.ts";
import { publicKeyObject } from "../../shared/ed25519.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const dataDir = () => mkdtempSync(join(tmpdir(), "mote-udp-"));

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server as any)._sock.address().port)));
}

describe("firmware over loopback UDP", () => {
  it("delivers signed readings to a coap server and completes on its 2.01", async () => {
    const received: Uint8Array[] = [];
    const requests: unknown[] = [];
    const server = createServer((req, res) => {
      requests.push([req.method, req.url, req.headers["Content-Format"]]);
      received.push(new Uint8Array(req.payload));
      res.code = "2.01";
      res.end();
    });
    const port = await listen(server);
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const board = await Board.boot({ dataDir: dataDir(), link: { kind: "udp", host: "127.0.0.1", port } });
    cleanups.push(() => board.close());

    const sequences = [board.reading(0, 20.25), board.reading(1, 55), board.reading(3, 3.3)];
    await board.idle(10_000);
    expect(board.stat("readingsAcked")).toBe(3);
    expect(board.stat("retransmissions")).toBe(0);
    // Compact readings go to the root resource without a Content-Format (the COSE tag says it all).
    expect(requests).toEqual(Array(3).fill(["POST", "/", undefined]));
    const key = publicKeyObject(board.publicKey);
    const decoded = received.map((b) => decodeReading(b));
    expect(decoded.map((r) => r.sequence)).toEqual(sequences);
    expect(decoded.every((r) => verifyReading(r, key))).toBe(true);
    expect(decoded.map((r) => r.records[0])).toEqual([
      { name: "temp", unit: "Cel", value: 20.25 },
      { name: "hum", unit: "%RH", value: 55 },
      { name: "batt", unit: "V", value: 3.3 },
    ]);
  });

  it("retransmits at T, 3T, 7T, 15T with T in [2 s, 3 s] and gives up at 31T when nobody answers", async () => {
    const silent: Socket = createSocket("udp4");
    const arrivals: Buffer[] = [];
    silent.on("message", (m) => arrivals.push(m));
    await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => silent.close(() => r())));
    const clock = new VirtualClock();
    const board = await Board.boot({ dataDir: dataDir(), link: { kind: "udp", host: "127.0.0.1", port: silent.address().port }, clock });
    cleanups.push(() => board.close());
    const sentAt: number[] = [];
    board.on("sent", () => sentAt.push(clock.nowMs()));

    const t0 = clock.nowMs();
    board.reading(0, 1);
    for (let ms = 0; ms < 100_000 && board.stat("exchangesGaveUp") === 0; ms += 100) clock.advance(100);

    expect(sentAt.length).toBe(5); // the first transmission and MAX_RETRANSMIT = 4 retransmissions
    const T = sentAt[1] - sentAt[0];
    expect(T).toBeGreaterThanOrEqual(2000);
    expect(T).toBeLessThanOrEqual(3000);
    expect(sentAt.map((t) => t - t0)).toEqual([0, T, 3 * T, 7 * T, 15 * T]);
    expect(clock.nowMs() - t0).toBeGreaterThanOrEqual(31 * T);
    expect(clock.nowMs() - t0).toBeLessThan(31 * T + 100);
    expect(board.stat("retransmissions")).toBe(4);
    // The datagrams really crossed the socket, and were the same message each time.
    for (let i = 0; i < 50 && arrivals.length < 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(arrivals.length).toBe(5);
    expect(new Set(arrivals.map((a) => a.toString("hex"))).size).toBe(1);
    // The reading stays queued and goes out again (new message id) after the back-off.
    clock.advance(30_000);
    expect(sentAt.length).toBe(6);
    expect(board.pending()).toBe(1);
  });
});
