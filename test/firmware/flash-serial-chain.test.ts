// Flashing over serial, end to end: `mote device flash` pushes v2 into a board on a pty cable, then
// the same cable goes to a gateway's serial port (SLIP), the board's first acknowledged reading
// confirms v2, and the chain's fleet map shows the device on v2 with its sequence numbers going on.
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Board } from "../../hardware/emulator/board.ts";
import { openPtyPair, socatAvailable, type PtyPair } from "../../hardware/emulator/pty-pair.ts";
import { defaultFirmwarePath } from "../../hardware/emulator/firmware.ts";
import { nodeArgsFor } from "../../shared/package-paths.ts";
import { tempDir } from "../support/gateway-fixtures.ts";
import { firmwareImage, manifestFor } from "../support/firmware-images.ts";
import { startFirmwareChain, type FirmwareChain } from "../support/firmware-chain.ts";

const hasSocat = socatAvailable();
const v1 = firmwareImage();
let dir: { path: string; remove: () => void };
let pty: PtyPair;
let board: Board;
let net: FirmwareChain | undefined;

beforeAll(async () => {
  if (!hasSocat) return;
  dir = tempDir("mote-flash-chain-");
  pty = await openPtyPair();
  // The chain first (it enrolls the board's key), its gateway not yet on the cable.
  const boardDir = join(dir.path, "board");
  net = await startFirmwareChain(dir.path, boardDir, { gatewayLater: true });
  board = await Board.boot({ dataDir: boardDir, link: { kind: "serial", path: pty.a }, updates: { publisherKey: net.publisher.publicKey, manifest: manifestFor(net.publisher, v1, 1) } });
}, 60_000);

afterAll(async () => {
  await board?.close();
  await net?.close();
  await pty?.close();
  dir?.remove();
});

describe.skipIf(!hasSocat)("flash over serial with the CLI, then the chain sees v2", () => {
  it("mote device flash installs v2 (progress, readback); on a gateway's serial port it confirms and the chain records v2", async () => {
    const before = board.stat("sequenceNext");
    const manifestPath = join(dir.path, "v2.cose");
    writeFileSync(manifestPath, manifestFor(net!.publisher, v1, 2));
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...nodeArgsFor("gateway/cli/main.ts"), "device", "flash", defaultFirmwarePath, "--port", pty.b, "--manifest", manifestPath], { timeout: 120_000 });
    expect(stderr).toMatch(/flash: 100% \d+\/\d+ bytes/);
    expect(stdout).toMatch(/running version\s+2/);
    expect(stdout).toMatch(/on trial/);
    expect(board.firmwareVersion).toBe(2);
    expect(board.onTrial).toBe(true);

    // Move the cable: the gateway takes the end the flashing tool let go of.
    await net!.startGateway(pty.b);
    for (let i = 0; i < 40 && (board.onTrial || net!.firmware()?.version !== 2); i++) {
      if (board.pending() < 2) board.reading(0, 21 + i);
      await new Promise((r) => setTimeout(r, 250));
      net!.produce();
    }
    expect(board.onTrial).toBe(false);
    expect(net!.firmware()).toMatchObject({ version: 2 });
    expect(net!.firmware()!.sequence).toBeGreaterThanOrEqual(before);
  }, 180_000);
});
