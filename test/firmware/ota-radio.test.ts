// Over the air, end to end with real parts: a solo chain in SQLite with a release and a rollout, a
// gateway on loopback UDP that fetches the image over HTTP, offers it in its 2.01 to the device's
// reading and serves it with Block2; a board emulator running the real firmware.wasm, provisioned
// with the publisher's key, pulls it, its boot loader verifies and starts it on trial, the next
// acknowledged reading confirms it, and the chain's fleet map shows the device on v2. Then an image
// that traps in init: the board is back on v2 at once and the chain records the failed attempt.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Board } from "../../hardware/emulator/board.ts";
import { ScaledClock } from "../../hardware/emulator/clock.ts";
import { tempDir } from "../support/gateway-fixtures.ts";
import { firmwareImage, manifestFor, trapInInit } from "../support/firmware-images.ts";
import { startFirmwareChain, type FirmwareChain } from "../support/firmware-chain.ts";

const v1 = firmwareImage();
let dir: { path: string; remove: () => void };
let net: FirmwareChain;
let board: Board;

/** Readings until `done` holds, producing blocks between them (the firmware's clock runs 20× fast). */
async function readUntil(done: () => boolean, what: string, readingsMax = 60): Promise<void> {
  for (let i = 0; i < readingsMax; i++) {
    if (board.pending() < 4) board.reading(0, 20 + i / 10);
    await new Promise((r) => setTimeout(r, 150));
    net.produce();
    if (done()) return;
  }
  throw new Error(`${what}: not after ${readingsMax} readings`);
}

beforeAll(async () => {
  dir = tempDir("mote-ota-radio-");
  const boardDir = join(dir.path, "board");
  net = await startFirmwareChain(dir.path, boardDir);
  board = await Board.boot({
    dataDir: boardDir,
    link: { kind: "udp", host: "127.0.0.1", port: net.gateway.udpAddress!.port },
    clock: new ScaledClock(20),
    updates: { publisherKey: net.publisher.publicKey, manifest: manifestFor(net.publisher, v1, 1), trialMs: 60_000 },
  });
}, 60_000);

afterAll(async () => {
  await board?.close();
  await net?.close();
  dir?.remove();
});

describe("over the air, from a rollout on chain to the device's confirmed v2", () => {
  it("rolls v2 out: pulled with Block2, verified, on trial, confirmed by an acknowledged reading; the chain shows v2", async () => {
    const id = board.deviceIdHex;
    await readUntil(() => net.firmware()?.version === 1, "the chain learns the device runs v1");
    net.release(2, v1);
    await readUntil(() => board.firmwareVersion === 2, "the board starts v2");
    const sequenceAtSwitch = board.stat("sequenceNext");
    await readUntil(() => !board.onTrial && net.firmware()?.version === 2, "v2 confirmed and on chain");
    expect(board.deviceIdHex).toBe(id);
    expect(net.firmware()!.sequence).toBeGreaterThanOrEqual(sequenceAtSwitch);
    expect(net.firmware()!.failures).toEqual([]);
  }, 120_000);

  it("an image that traps in init: the board is back on v2 and the chain records the failed v3", async () => {
    net.release(3, await trapInInit(v1));
    await readUntil(() => (net.firmware()?.failures.length ?? 0) > 0, "the failed attempt reaches the chain");
    expect(board.firmwareVersion).toBe(2);
    expect(board.onTrial).toBe(false);
    expect(net.firmware()!.failures).toEqual([expect.objectContaining({ version: 3, reason: 6 /* TRAP */ })]);
    expect(net.firmware()!.version).toBe(2);
  }, 120_000);

  it("lost no reading to the updates: every reading signed by v1, v2 and the failed v3's fallback is on chain", async () => {
    await board.idle(30_000);
    for (let i = 0; i < 20 && net.gateway.store.counts().pending > 0; i++) net.produce();
    const signedTotal = board.total("readingsSigned");
    expect(board.total("readingsAcked")).toBe(signedTotal);
    expect(net.chain.state().device(net.deviceId)!.readings).toBe(signedTotal);
  }, 60_000);
});
