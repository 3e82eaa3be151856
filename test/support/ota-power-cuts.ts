// Power cuts during firmware updates: a board process (board-child.ts) on one end of a serial cable,
// the flashing tool on the other; the board is killed with SIGKILL at a random point of the transfer
// or of the install and switch, then started again. After every cut the board must start a verified
// image (v1, or the new one on trial), keep its identity, and sign with a sequence number above every
// one it used before. Used by test/hardware/firmware-power-cut.test.ts and bench/ota-power-cuts.ts.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Board } from "../../hardware/emulator/board.ts";
import { openPtyPair } from "../../hardware/emulator/pty-pair.ts";
import { ImageSlots } from "../../hardware/emulator/image-slots.ts";
import { decodeManifest, verifyImage, verifyManifest } from "../../shared/firmware-manifest.ts";
import { toHex } from "../../shared/ed25519.ts";
import { nodeArgsFor } from "../../shared/package-paths.ts";
import { flashOverSerial } from "../../gateway/flash/serial-flasher.ts";
import { firmwareImage, makePublisher, manifestFor } from "./firmware-images.ts";
import { rng as seeded } from "./prng.ts";

export interface PowerCutResult {
  cuts: number;
  /** Cuts that landed while blocks were moving, and after the last block (install, switch, restart). */
  duringTransfer: number;
  duringSwitch: number;
  /** What the board started after each cut. */
  startedOld: number;
  startedNew: number;
  failures: string[];
}

function startChild(dir: string, path: string, publisher: Uint8Array, manifest: Uint8Array): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgsFor("test/support/board-child.ts"), dir, path, toHex(publisher), toHex(manifest)], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("ready ")) resolve(child);
    });
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.on("exit", (code) => reject(new Error(`board process exited (${code}) before it was ready: ${err}`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

export async function runPowerCuts(cuts: number, seed: number, onProgress?: (done: number, r: PowerCutResult) => void): Promise<PowerCutResult> {
  const random = seeded(seed);
  const publisher = makePublisher();
  const v1 = firmwareImage();
  const m1 = manifestFor(publisher, v1, 1);
  const pty = await openPtyPair();
  const dir = mkdtempSync(join(tmpdir(), "mote-cuts-"));
  const result: PowerCutResult = { cuts: 0, duringTransfer: 0, duringSwitch: 0, startedOld: 0, startedNew: 0, failures: [] };
  let identity: string | undefined;
  let lastSequence = -1;
  try {
    for (let i = 0; i < cuts; i++) {
      const child = await startChild(dir, pty.a, publisher.publicKey, m1);
      // Each attempt is a new version above whatever the board could be running.
      const manifest = manifestFor(publisher, v1, 2 + i);
      const inTransfer = random() < 0.6;
      const cutAtByte = Math.floor(random() * v1.length);
      const afterLastBlockMs = random() * 40;
      // The cut: SIGKILL at a random byte of the transfer, or a random moment after the last block
      // (the boot loader verifying, writing its state, restarting into the new image).
      const stop = new AbortController();
      const cut = () => kill(child).then(() => stop.abort());
      let cutting: Promise<void> | undefined;
      const flash = flashOverSerial({
        port: pty.b, image: v1, manifest, ackTimeoutMs: 300, signal: stop.signal,
        onProgress: (p) => {
          if (inTransfer && !cutting && p.sent >= cutAtByte && p.sent < p.total) cutting = cut();
          if (!inTransfer && !cutting && p.sent === p.total - (p.total % 1024 || 1024)) {
            cutting = new Promise((r) => setTimeout(r, afterLastBlockMs)).then(cut);
          }
        },
      }).catch(() => {});
      await flash;
      await (cutting ?? cut());
      await kill(child);
      result.cuts++;
      if (inTransfer) result.duringTransfer++;
      else result.duringSwitch++;

      // Power back on, in this process: what starts must verify, as the same device, with fresh numbers.
      const board = await Board.boot({ dataDir: dir, link: { kind: "udp", host: "127.0.0.1", port: 9 }, updates: { publisherKey: publisher.publicKey } });
      try {
        identity ??= board.deviceIdHex;
        if (board.deviceIdHex !== identity) result.failures.push(`cut ${i}: device ${board.deviceIdHex}, was ${identity}`);
        const state = new ImageSlots(dir).readState()!;
        const running = board.onTrial ? state.trial!.slot : state.confirmed;
        const image = new ImageSlots(dir).readImage(running)!;
        const signed = decodeManifest(state.manifests[running]!);
        verifyManifest(signed, publisher.publicKey);
        verifyImage(signed.manifest, image);
        if (board.firmwareVersion === 1) result.startedOld++;
        else result.startedNew++;
        const sequence = board.reading(0, i);
        if (sequence <= lastSequence) result.failures.push(`cut ${i}: signed sequence ${sequence} after ${lastSequence}`);
        lastSequence = sequence;
      } catch (e) {
        result.failures.push(`cut ${i}: ${(e as Error).message}`);
      } finally {
        await board.close();
      }
      onProgress?.(i + 1, result);
    }
  } finally {
    await pty.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
