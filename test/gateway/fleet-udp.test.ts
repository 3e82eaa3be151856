// End to end over real loopback UDP: 100 board emulators running the real firmware.wasm send
// readings to one gateway; every reading is stored exactly once, verifies under its device's key,
// and is co-signed by the gateway. Then again with 20% of datagrams lost each way: the firmware's
// CoAP retransmission (RFC 7252 §4.2) still delivers every reading, and none is stored twice.
import { afterEach, describe, expect, it } from "vitest";
import { encodeEnrollment } from "../../shared/enrollment.ts";
import { publicKeyObject, toHex } from "../../shared/ed25519.ts";
import { verifyBatch } from "../../shared/attestation.ts";
import { decodeReading, readingDigest, verifyReading } from "../../shared/reading.ts";
import { Board } from "../../hardware/emulator/board.ts";
import type { Clock } from "../../hardware/emulator/clock.ts";
import { startTestGateway, tempDir, type TestGateway } from "../support/gateway-fixtures.ts";
import { LossyUdpProxy } from "../support/lossy-udp-proxy.ts";
import { ScaledClock } from "../../hardware/emulator/clock.ts";

const boardCount = 100;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fleet(t: TestGateway, port: number, clock?: Clock): Promise<Board[]> {
  const dir = tempDir("mote-fleet-");
  cleanups.push(() => dir.remove());
  const boards = await Promise.all(Array.from({ length: boardCount }, (_, i) => Board.boot({ dataDir: `${dir.path}/${i}`, link: { kind: "udp", host: "127.0.0.1", port }, clock })));
  cleanups.push(() => Promise.all(boards.map((b) => b.close())).then(() => undefined));
  for (const b of boards) t.gw.enrollment.enroll(encodeEnrollment(t.owner.privateKey, t.owner.publicKey, b.publicKey));
  return boards;
}

/** Each board signs `perBoard` readings (never more than its outbox holds); returns (device, seq) keys. */
async function sendAll(boards: Board[], perBoard: number, idleMs: number): Promise<Set<string>> {
  const signed = new Set<string>();
  for (let round = 0; round < perBoard; round++) {
    for (const b of boards) signed.add(`${b.deviceIdHex}/${b.reading(round % 6, 20 + round)}`);
  }
  await Promise.all(boards.map((b) => b.idle(idleMs)));
  return signed;
}

function checkStore(t: TestGateway, boards: Board[], signed: Set<string>): void {
  const stored = t.gw.store.allReadings();
  const keys = stored.map((r) => `${toHex(r.deviceId)}/${r.sequence}`);
  expect(new Set(keys).size, "a reading was stored twice").toBe(keys.length);
  expect(new Set(keys)).toEqual(signed);
  const byId = new Map(boards.map((b) => [b.deviceIdHex, publicKeyObject(b.publicKey)]));
  for (const r of stored) expect(verifyReading(decodeReading(r.cose), byId.get(toHex(r.deviceId))!)).toBe(true);
  // Co-signed: every batch's attestation verifies over exactly its stored readings.
  const gatewayKey = publicKeyObject(t.gw.identity.publicKey);
  for (const batchId of new Set(stored.map((r) => r.batchId))) {
    expect(verifyBatch(t.gw.store.attestation(batchId)!, gatewayKey, t.gw.store.batchReadings(batchId))).toBe(true);
  }
  for (const r of stored) expect(Buffer.from(readingDigest(r.cose)).equals(Buffer.from(r.digest))).toBe(true);
  for (const b of boards) expect(b.stat("readingsRejected")).toBe(0);
}

describe(`${boardCount} boards over loopback UDP`, () => {
  it("store every reading exactly once, verified and co-signed", async () => {
    const t = await startTestGateway();
    cleanups.push(() => t.stop());
    const boards = await fleet(t, t.port);
    const signed = await sendAll(boards, 5, 60_000);
    expect(signed.size).toBe(boardCount * 5);
    checkStore(t, boards, signed);
    expect(boards.reduce((n, b) => n + b.stat("readingsAcked"), 0)).toBe(boardCount * 5);
  });

  it("with 20% random loss each way, retransmission delivers every reading and none is stored twice", async () => {
    const t = await startTestGateway();
    cleanups.push(() => t.stop());
    const proxy = await LossyUdpProxy.open({ host: "127.0.0.1", port: t.port }, 0.2, 20);
    cleanups.push(() => proxy.close());
    // Ten times real speed: the firmware's 2 s ACK timeout is 200 ms here, its 93 s give-up 9.3 s.
    const boards = await fleet(t, proxy.port, new ScaledClock(10));
    const signed = await sendAll(boards, 3, 120_000);
    checkStore(t, boards, signed);
    const retransmissions = boards.reduce((n, b) => n + b.stat("retransmissions"), 0);
    expect(proxy.stats.droppedUp + proxy.stats.droppedDown).toBeGreaterThan(0);
    expect(retransmissions).toBeGreaterThan(0);
    // Lost ACKs make devices resend readings the gateway already stored: those were answered again.
    expect(proxy.stats.droppedDown).toBeGreaterThan(0);
  });
});
