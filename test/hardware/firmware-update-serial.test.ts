// Firmware updates on the Node board emulator over a real serial cable (a socat pty pair): the
// flashing tool (gateway/flash/serial-flasher.ts) pushes a signed image with Block1 into the
// running firmware, the boot loader verifies it and starts it on trial; confirmation, rollback on
// a trap / a missing confirmation / a reset, refusals, and resuming after a cut cable. Identity and
// sequence numbers survive all of it.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Board } from "../../hardware/emulator/board.ts";
import { openPtyPair, socatAvailable, type PtyPair } from "../../hardware/emulator/pty-pair.ts";
import { flashOverSerial, readStatus, SerialCoapClient } from "../../gateway/flash/serial-flasher.ts";
import { parseMessage, encodeMessage, TYPE_ACK, codeByte } from "../../gateway/coap/message.ts";
import { SlipDecoder, slipEncode } from "../../gateway/coap/slip.ts";
import { decodeReading } from "../../shared/reading.ts";
import { SerialPort } from "serialport";
import { firmwareImage, makePublisher, manifestFor, neverConfirms, trapInInit, type Publisher } from "../support/firmware-images.ts";

const hasSocat = socatAvailable();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let publisher: Publisher;
let v1: Uint8Array;
beforeAll(() => {
  publisher = makePublisher();
  v1 = firmwareImage();
});

async function rig(trialMs = 60_000): Promise<{ board: Board; pty: PtyPair; dir: string; logs: string[] }> {
  const pty = await openPtyPair();
  const dir = mkdtempSync(join(tmpdir(), "mote-fw-"));
  const logs: string[] = [];
  const board = await Board.boot({
    dataDir: dir,
    link: { kind: "serial", path: pty.a },
    log: (_l, m) => logs.push(m),
    updates: { publisherKey: publisher.publicKey, manifest: manifestFor(publisher, v1, 1), trialMs },
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => pty.close(), () => board.close());
  return { board, pty, dir, logs };
}

/** Plays a gateway for one exchange on the cable: answers the board's next reading with 2.04; returns its SenML names and sequence. */
async function acknowledgeOneReading(board: Board, path: string): Promise<{ sequence: number; names: string[] }> {
  const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  try {
    const got = new Promise<{ sequence: number; names: string[] }>((resolve) => {
      const decoder = new SlipDecoder(1280, (frame) => {
        const m = parseMessage(frame);
        if (m.code !== 2) return; // not a POST
        port.write(slipEncode(encodeMessage({ type: TYPE_ACK, code: codeByte("2.04"), messageId: m.messageId, token: m.token, options: [], payload: Buffer.alloc(0) })));
        const r = decodeReading(new Uint8Array(m.payload));
        resolve({ sequence: r.sequence, names: r.records.map((x) => x.name) });
      });
      port.on("data", (c: Buffer) => decoder.push(c));
    });
    board.reading(0, 21.5);
    const result = await got;
    await board.idle(10_000);
    return result;
  } finally {
    await new Promise<void>((res) => port.close(() => res()));
  }
}

describe.skipIf(!hasSocat)("firmware update over serial (Block1 into the running firmware)", () => {
  it("flashes v2, which boots on trial with the same identity, confirms on a gateway's acknowledgement, and reports its version", async () => {
    const { board, pty } = await rig();
    const id = board.deviceIdHex;
    expect(board.firmwareVersion).toBe(1);
    const first = await acknowledgeOneReading(board, pty.b);
    expect(first.names).toEqual(["temp", "fw"]); // the first reading after boot says which firmware signed it

    const progress: number[] = [];
    const status = await flashOverSerial({ port: pty.b, image: v1, manifest: manifestFor(publisher, v1, 2), onProgress: (p) => progress.push(p.sent), ackTimeoutMs: 500 });
    expect(status).toMatchObject({ version: 2, onTrial: true, failedVersion: 0, failureReason: null });
    expect(progress.at(-1)).toBe(v1.length);
    expect(board.firmwareVersion).toBe(2);
    expect(board.onTrial).toBe(true);
    expect(board.deviceIdHex).toBe(id);

    const second = await acknowledgeOneReading(board, pty.b);
    expect(second.sequence).toBeGreaterThan(first.sequence);
    expect(second.names).toEqual(["temp", "fw"]);
    expect(board.onTrial).toBe(false); // confirmed by the acknowledgement
    expect(board.bootLoader!.fallbackSlot).not.toBe(undefined);
  });

  it("rolls back an image that traps in init, and one that never confirms, reporting each failure", async () => {
    const { board, pty } = await rig(400);
    const trapping = await trapInInit(v1);
    const afterTrap = await flashOverSerial({ port: pty.b, image: trapping, manifest: manifestFor(publisher, trapping, 2), ackTimeoutMs: 500 });
    expect(afterTrap).toMatchObject({ version: 1, onTrial: false, failedVersion: 2, failureReason: "TRAP" });
    const report = await acknowledgeOneReading(board, pty.b);
    expect(report.names).toEqual(["temp", "fw", "fw.fail", "fw.why"]);

    const silent = await neverConfirms(v1);
    const onTrial = await flashOverSerial({ port: pty.b, image: silent, manifest: manifestFor(publisher, silent, 3), ackTimeoutMs: 500 });
    expect(onTrial).toMatchObject({ version: 3, onTrial: true });
    await acknowledgeOneReading(board, pty.b); // acknowledged, but this image does not confirm
    expect(board.onTrial).toBe(true);
    await new Promise((r) => setTimeout(r, 600)); // the 400 ms trial runs out
    expect(board.firmwareVersion).toBe(1);
    const client = await SerialCoapClient.open(pty.b, 115_200, 500);
    try {
      expect(await readStatus(client)).toMatchObject({ version: 1, onTrial: false, failedVersion: 3, failureReason: "UNCONFIRMED" });
    } finally {
      await client.close();
    }
  });

  it("refuses a foreign signature, a wrong digest and an older version, and keeps running v1", async () => {
    const { board, pty } = await rig();
    const stranger = makePublisher();
    await expect(flashOverSerial({ port: pty.b, image: v1, manifest: manifestFor(stranger, v1, 2), ackTimeoutMs: 500 })).rejects.toMatchObject({ code: "FLASH_SIGNATURE" });
    const other = await neverConfirms(v1);
    await expect(flashOverSerial({ port: pty.b, image: v1, manifest: manifestFor(publisher, other, 2), ackTimeoutMs: 500 })).rejects.toMatchObject({ code: "FLASH_DIGEST" });
    await expect(flashOverSerial({ port: pty.b, image: v1, manifest: manifestFor(publisher, v1, 1), ackTimeoutMs: 500 })).rejects.toMatchObject({ code: "FLASH_VERSION" });
    expect(board.firmwareVersion).toBe(1);
    expect(board.onTrial).toBe(false);
  });

  it("resumes after a cut cable where the board stopped, and a reset during the trial goes back to v1", async () => {
    const { board, pty, dir } = await rig();
    const manifest = manifestFor(publisher, v1, 2);
    const cut = new Error("cable cut");
    await expect(
      flashOverSerial({ port: pty.b, image: v1, manifest, ackTimeoutMs: 500, onProgress: (p) => { if (p.sent >= 5 * 1024) throw cut; } }),
    ).rejects.toBe(cut);
    let resumedAt = -1;
    const status = await flashOverSerial({ port: pty.b, image: v1, manifest, ackTimeoutMs: 500, onProgress: (p) => (resumedAt = p.resumedAt) });
    expect(resumedAt).toBe(5 * 1024);
    expect(status).toMatchObject({ version: 2, onTrial: true });
    const id = board.deviceIdHex;
    const seq = board.stat("sequenceNext");

    // Power cut while on trial: the next start goes back to the confirmed image and says why.
    await board.close();
    const again = await Board.boot({ dataDir: dir, link: { kind: "serial", path: pty.a }, updates: { publisherKey: publisher.publicKey } });
    cleanups.push(() => again.close());
    expect(again.firmwareVersion).toBe(1);
    expect(again.deviceIdHex).toBe(id);
    expect(again.stat("sequenceNext")).toBeGreaterThanOrEqual(seq);
    const report = await acknowledgeOneReading(again, pty.b);
    expect(report.names).toEqual(["temp", "fw", "fw.fail", "fw.why"]);
  });
});
