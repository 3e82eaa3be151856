// The firmware on an emulated microcontroller: device/build/firmware.wasm compiled ahead of time by
// wasm2c for the mps2-an385 board (Cortex-M3) under qemu-system-arm, its UART0 wired through a pty
// pair to a real gateway's serial transport. Skipped, saying why, only when the Debian toolchain
// is absent (scripts/test-deps.sh installs it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { encodeEnrollment } from "../../shared/enrollment.ts";
import { createCipheriv, sign as cryptoSign } from "node:crypto";
import { privateKeyObject, publicKeyFromSeed, publicKeyObject, toHex } from "../../shared/ed25519.ts";
import { decodeReading, sigStructure, verifyReading } from "../../shared/reading.ts";
import { SlipDecoder, slipEncode } from "../../gateway/coap/slip.ts";
import { parseMessage, responseFor, TYPE_CON, type CoapMessage } from "../../gateway/coap/message.ts";
import { openPtyPair, socatAvailable, type PtyPair } from "../../hardware/emulator/pty-pair.ts";
import { QemuBoard, qemuBoardUnavailable } from "../../hardware/mps2-an385/qemu-board.ts";
import { buildBoard } from "../../hardware/mps2-an385/build.ts";
import { FLASH_RECORD_BYTES, slotRecords } from "./flash-file.ts";
import { startSoloChain, type SoloChain } from "./solo-chain.ts";
import { startTestGateway, tempDir, type TestGateway } from "../support/gateway-fixtures.ts";
import { rng } from "../support/prng.ts";

const randomInts = (seed: number) => {
  const next = rng(seed);
  return (n: number) => Math.floor(next() * n);
};

const unavailable = qemuBoardUnavailable() ?? (socatAvailable() ? undefined : "socat is missing (apt-get install socat)");
if (unavailable) console.warn(`test/hardware/qemu-board.test.ts skipped: ${unavailable}`);

describe.skipIf(unavailable)("mps2-an385 board under qemu", () => {
  let pty: PtyPair;
  let gateway: TestGateway;
  const dir = tempDir("mote-qemu-");
  const flashDir = join(dir.path, "board");
  let flashDeviceId: Uint8Array = new Uint8Array(0); // the identity kept in flashDir's flash

  beforeAll(async () => {
    buildBoard(); // cached by input hashes; the first build takes a few seconds
    pty = await openPtyPair();
    gateway = await startTestGateway({ udp: null, serial: [{ path: pty.a }] });
  });
  afterAll(async () => {
    await gateway?.stop();
    await pty?.close();
    dir.remove();
  });

  const enroll = (board: QemuBoard) => gateway.gw.enrollment.enroll(encodeEnrollment(gateway.owner.privateKey, gateway.owner.publicKey, board.publicKey));
  const storedSequences = (deviceId: Uint8Array) =>
    gateway.gw.store
      .allReadings()
      .filter((r) => toHex(decodeReading(r.cose).deviceId) === toHex(deviceId))
      .map((r) => r.sequence);

  it("boots on a fresh flash, creates its identity, and its signed readings cross the UART to the gateway (2.01) and are finalized", async () => {
    const board = await QemuBoard.boot({ dataDir: flashDir, serialPath: pty.b, intervalMs: 400 });
    let chain: SoloChain | undefined;
    try {
      expect(board.lines.some((l) => /firmware info: new identity [0-9a-f]{32} seq 0/.test(l))).toBe(true);
      flashDeviceId = board.deviceId;
      enroll(board);
      chain = startSoloChain(dir.path, gateway, [board.publicKey]);
      await board.waitFor(/^acked 3$/, 30_000);
      expect(board.traps).toEqual([]);
      const key = publicKeyObject(board.publicKey);
      const stored = gateway.gw.store.allReadings();
      expect(stored.length).toBeGreaterThanOrEqual(3);
      for (const r of stored) expect(verifyReading(decodeReading(r.cose), key)).toBe(true);
      expect(stored.map((r) => r.sequence).slice(0, 3)).toEqual([0, 1, 2]);
      chain.drain();
      for (const seq of [0, 1, 2]) expect(chain.store.recordedReading(board.deviceId, seq), `reading ${seq} finalized`).toBeDefined();
      expect(board.lines.find((l) => l.startsWith("linear-memory-bytes "))).toBe(`linear-memory-bytes ${board.figures.linearMemoryBytes}`);
    } finally {
      await board.stop();
      chain?.close();
    }
  });

  it("signs byte for byte what node:crypto signs with the same key (Ed25519 is deterministic, RFC 8032)", async () => {
    // The board's entropy stand-in is ChaCha20 (RFC 8439, zero nonce) keyed by the seed it is given,
    // and a new identity's Ed25519 seed is its first 32 bytes: so the test knows the private key.
    const entropySeed = new Uint8Array(32).map((_, i) => i * 13 + 1);
    const keystream = createCipheriv("chacha20", entropySeed, Buffer.alloc(16)).update(Buffer.alloc(64));
    const ed25519Seed = new Uint8Array(keystream.subarray(0, 32));
    const board = await QemuBoard.boot({ dataDir: join(dir.path, "known-seed"), serialPath: pty.b, intervalMs: 200, entropySeed });
    try {
      expect(toHex(board.publicKey)).toBe(toHex(publicKeyFromSeed(ed25519Seed)));
      enroll(board);
      await board.waitFor(/^acked 2$/, 30_000);
      const mine = gateway.gw.store.allReadings().map((r) => decodeReading(r.cose)).filter((r) => toHex(r.deviceId) === board.deviceIdHex);
      expect(mine.length).toBeGreaterThanOrEqual(2);
      for (const r of mine) {
        const expected = cryptoSign(null, sigStructure(r.protectedBytes, r.payloadBytes), privateKeyObject(ed25519Seed));
        expect(toHex(r.signature)).toBe(toHex(expected));
      }
    } finally {
      await board.stop();
    }
  });

  it("keeps its identity across reboots and never reuses a sequence number, even killed (SIGKILL) at random moments", async () => {
    const randomInt = randomInts(0x5eed);
    let deviceIdHex = "";
    let maxSeen = -1;
    // Power cuts during boot, where init writes the sequence reservation (slot 1).
    for (let cut = 0; cut < 5; cut++) {
      const board = QemuBoard.start({ dataDir: flashDir, serialPath: pty.b, intervalMs: 30 });
      await new Promise((r) => setTimeout(r, 20 + randomInt(60)));
      await board.kill("SIGKILL");
      maxSeen = Math.max(maxSeen, ...board.signed, ...storedSequences(flashDeviceId));
    }
    for (let boot = 0; boot < 5; boot++) {
      const board = await QemuBoard.boot({ dataDir: flashDir, serialPath: pty.b, intervalMs: 30 });
      if (boot === 0) deviceIdHex = toHex(flashDeviceId);
      expect(board.deviceIdHex).toBe(deviceIdHex);
      expect(board.lines.some((l) => l.startsWith("firmware info: new identity"))).toBe(false);
      await new Promise((r) => setTimeout(r, 50 + randomInt(400)));
      await board.kill("SIGKILL");
      const signed = board.signed;
      if (signed.length) expect(signed[0], `boot ${boot} starts above every number used before`).toBeGreaterThan(maxSeen);
      for (let i = 1; i < signed.length; i++) expect(signed[i]).toBeGreaterThan(signed[i - 1]);
      // The gateway saw what the board sent, including a reading signed just before the kill.
      const all = [...signed, ...storedSequences(board.deviceId)];
      maxSeen = Math.max(maxSeen, ...all);
    }
    const seqs = storedSequences(flashDeviceId);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("reads a slot whose write was cut short as its previous value (two copies, sequence and CRC)", async () => {
    // Tear the copy the next write of slot 1 would use: half a record of garbage, as a power cut would leave.
    const flashPath = join(flashDir, "flash.bin");
    const before = readFileSync(flashPath);
    const { current, spare } = slotRecords(before, 1);
    expect(current).toBeDefined();
    const torn = Buffer.from(before);
    torn.fill(0x00, spare * FLASH_RECORD_BYTES + 4, spare * FLASH_RECORD_BYTES + FLASH_RECORD_BYTES / 2);
    torn.writeUInt32LE((current!.generation + 1) >>> 0, spare * FLASH_RECORD_BYTES + 4); // newer generation, bad CRC
    writeFileSync(flashPath, torn);
    copyFileSync(flashPath, join(dir.path, "torn-flash.bin"));
    const maxBefore = Math.max(...storedSequences(flashDeviceId));
    const board = await QemuBoard.boot({ dataDir: flashDir, serialPath: pty.b, intervalMs: 50 });
    try {
      const [first] = await board.signedMore(1, 20_000);
      expect(board.deviceIdHex).toBe(toHex(flashDeviceId));
      expect(first).toBeGreaterThan(maxBefore);
      expect(board.traps).toEqual([]);
    } finally {
      await board.stop();
    }
  });
});

describe.skipIf(unavailable)("mps2-an385 board under qemu, hostile serial line", () => {
  it("takes 5,000 random and mutated frames on its UART without a trap, then still signs a valid reading", async () => {
    const pty = await openPtyPair();
    const dir = tempDir("mote-qemu-fuzz-");
    const port = new SerialPort({ path: pty.a, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((r, j) => port.open((e) => (e ? j(e) : r())));
    // A gateway stand-in: keeps every reading the board sends and acknowledges it (2.01), so the
    // board's outbox keeps moving while the noise goes in.
    const readings: { message: CoapMessage; frame: Buffer }[] = [];
    const decoder = new SlipDecoder(1280, (f) => {
      let message: CoapMessage;
      try {
        message = parseMessage(f);
      } catch {
        return;
      }
      if (message.type !== TYPE_CON || message.payload.length === 0) return;
      readings.push({ message, frame: Buffer.from(f) });
      port.write(slipEncode(responseFor(message, "2.01", Buffer.alloc(0))));
    });
    port.on("data", (c: Buffer) => decoder.push(c));
    const board = await QemuBoard.boot({ dataDir: dir.path, serialPath: pty.b, intervalMs: 200 });
    try {
      const readingAtLeast = async (sequence: number) => {
        for (let i = 0; i < 1000; i++) {
          const hit = readings.find((r) => decodeReading(new Uint8Array(r.message.payload)).sequence >= sequence);
          if (hit) return hit;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`the board sent no reading with sequence ≥ ${sequence} within 10 s`);
      };
      const sample = await readingAtLeast(0);
      const ack = responseFor(sample.message, "2.01", Buffer.alloc(0));
      const randomInt = randomInts(0xf422);
      const randomBuffer = (n: number) => Buffer.from(Array.from({ length: n }, () => randomInt(256)));
      const mutate = (b: Buffer): Buffer => {
        const m = Buffer.from(b.subarray(0, 1 + randomInt(b.length)));
        for (let k = 0, n = 1 + randomInt(4); k < n; k++) m[randomInt(m.length)] = randomInt(256);
        return m;
      };
      const fuzz: Buffer[] = [];
      for (let i = 0; i < 5000; i++) {
        const kind = i % 4;
        if (kind === 0) fuzz.push(randomBuffer(randomInt(120)));
        else if (kind === 1) fuzz.push(mutate(ack));
        else if (kind === 2) fuzz.push(mutate(sample.frame));
        else fuzz.push(mutate(responseFor({ ...sample.message, messageId: randomInt(0x10000) }, randomInt(2) ? "2.01" : "4.00", randomBuffer(randomInt(40)))));
      }
      // One in ten goes in without SLIP framing, so the de-framer meets broken frames too.
      const bytes = Buffer.concat(fuzz.map((f) => (randomInt(10) === 0 ? f : slipEncode(f))));
      for (let off = 0; off < bytes.length; off += 4096) {
        await new Promise<void>((r) => port.write(bytes.subarray(off, off + 4096), () => port.drain(() => r())));
      }
      port.write(Buffer.from([0xc0, 0xc0])); // close whatever frame the noise left open
      const [seq] = await board.signedMore(1, 30_000);
      const after = await readingAtLeast(seq);
      const reading = decodeReading(new Uint8Array(after.message.payload));
      expect(verifyReading(reading, publicKeyObject(board.publicKey))).toBe(true);
      expect(board.traps).toEqual([]);
      expect(board.lines.filter((l) => /^(board fault|trap|init failed)/.test(l))).toEqual([]);
      // One boot only: the firmware was never rebooted by a trap.
      expect(board.lines.filter((l) => l.startsWith("public-key "))).toHaveLength(1);
    } finally {
      await board.stop();
      await new Promise<void>((r) => port.close(() => r()));
      await pty.close();
      dir.remove();
    }
  });
});
