// The firmware's Ed25519 on the emulated microcontroller: device/build/harness-crypto.wasm (the
// same device/crypto/* the firmware links) compiled by wasm2c into the mps2-an385 image with
// hardware/mps2-an385/crypto-main.c in place of the firmware's main.c, booted once under
// qemu-system-arm (-icount shift=0, so the board also reports instructions per call), and driven
// over UART0 through a pty pair with crypto-main.c's length-prefixed requests: RFC 8032 §7.1
// vectors exactly, then 1,000 seeded random seeds and messages (0 bytes to the harness's
// 8,064-byte limit) byte-identical to node:crypto, and verification agreeing with node:crypto on
// the valid signature and on mutated ones. Skipped, saying why, only when the Debian toolchain is
// absent (scripts/test-deps.sh installs it).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createCipheriv, createHash } from "node:crypto";
import { privateKeyObject, publicKeyFromSeed, publicKeyObject, signEd25519, verifyEd25519 } from "../../shared/ed25519.ts";
import { SerialPort } from "serialport";
import { openPtyPair, socatAvailable, type PtyPair } from "../../hardware/emulator/pty-pair.ts";
import { defaultFirmwarePath } from "../../hardware/emulator/firmware.ts";
import { QemuBoard, qemuBoardUnavailable } from "../../hardware/mps2-an385/qemu-board.ts";
import { buildBoard } from "../../hardware/mps2-an385/build.ts";
import { tempDir } from "../support/gateway-fixtures.ts";

const rfc8032 = JSON.parse(readFileSync(join(import.meta.dirname, "..", "vectors", "ed25519-rfc8032.json"), "utf8")) as {
  vectors: { name: string; seed: string; publicKey: string; message: string; signature: string }[];
};
const harnessWasm = join(dirname(defaultFirmwarePath), "harness-crypto.wasm");

const RANDOM_RUNS = 1000;
/** crypto-main.c: the harness's 8 KiB scratch region less 128 bytes of seed, key and signature. */
const MESSAGE_BYTES_MAX = 8064;
/** Group order (RFC 8032 §5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const OP_PUBLIC_KEY = 1, OP_SIGN = 2, OP_VERIFY = 3, OP_VERIFY_AGAIN = 4, OP_VERIFY_MUTATED = 5;
const FLIP_SIGNATURE = 1, FLIP_KEY = 2, FLIP_MESSAGE = 3, S_PLUS_L = 4;
const STATUS = ["ok", "bad length", "trap", "bad op"];

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
/** node:crypto's verdict, through the gateway's own rule (shared/ed25519.ts); key bytes OpenSSL refuses are false. */
function nodeVerify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return verifyEd25519(publicKeyObject(pub), msg, sig);
  } catch {
    return false;
  }
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[(bit >> 3) % out.length] ^= 1 << (bit & 7);
  return out;
}
/** S + L in place of S (still < 2^256): the same group element, but RFC 8032 §5.1.7 requires S < L. */
function malleate(sig: Uint8Array): Uint8Array {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]);
  s += L;
  const out = sig.slice();
  for (let i = 32; i < 64; i++, s >>= 8n) out[i] = Number(s & 0xffn);
  return out;
}

/** Seeded bytes (ChaCha20 keystream): a failure replays identically. */
function seededBytes(seed: string): (n: number) => Uint8Array {
  const cipher = createCipheriv("chacha20", createHash("sha256").update(seed).digest(), Buffer.alloc(16));
  return (n) => new Uint8Array(cipher.update(Buffer.alloc(n)));
}

interface Reply {
  op: number;
  payload: Buffer;
}

/** crypto-main.c's protocol over the host end of the pty: requests may be pipelined, replies come in order. */
class BoardCrypto {
  private buffer = Buffer.alloc(0);
  private readonly waiting: { op: number; resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private failure?: Error;

  constructor(private readonly port: SerialPort) {
    port.on("data", (chunk: Buffer) => this.onData(chunk));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const len = this.buffer.readUInt16LE(2);
      if (this.buffer.length < 4 + len) break;
      const [op, status] = this.buffer;
      const payload = this.buffer.subarray(4, 4 + len);
      this.buffer = this.buffer.subarray(4 + len);
      const w = this.waiting.shift();
      if (!w) return this.fail(new Error(`unsolicited reply op ${op}`));
      if (op !== w.op) this.fail(new Error(`reply to op ${op} where op ${w.op} was due: the stream is out of step`));
      else if (status !== 0) w.reject(new Error(`board answered op ${op} with status ${STATUS[status] ?? status}`));
      else w.resolve({ op, payload });
    }
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  request(op: number, ...parts: Uint8Array[]): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const payload = Buffer.concat(parts);
    const head = Buffer.from([op, payload.length & 0xff, payload.length >> 8]);
    this.port.write(Buffer.concat([head, payload]));
    return new Promise((resolve, reject) => this.waiting.push({ op, resolve, reject }));
  }

  async publicKey(seed: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array((await this.request(OP_PUBLIC_KEY, seed)).payload);
  }
  async sign(seed: Uint8Array, msg: Uint8Array): Promise<{ pub: Uint8Array; sig: Uint8Array; instructions: number }> {
    const { payload } = await this.request(OP_SIGN, seed, msg);
    return { pub: new Uint8Array(payload.subarray(0, 32)), sig: new Uint8Array(payload.subarray(32, 96)), instructions: payload.readUInt32LE(96) };
  }
  /** Without msg: over the message of the last sign or verify request. */
  async verify(pub: Uint8Array, sig: Uint8Array, msg?: Uint8Array): Promise<{ valid: boolean; instructions: number }> {
    const { payload } = msg ? await this.request(OP_VERIFY, pub, sig, msg) : await this.request(OP_VERIFY_AGAIN, pub, sig);
    expect(payload[0] === 0 || payload[0] === 1).toBe(true);
    return { valid: payload[0] === 1, instructions: payload.readUInt32LE(1) };
  }
  /** The last request's key, signature and message with one mutation made on the board (crypto-main.c op 5). */
  async verifyMutated(kind: number, bit: number): Promise<{ valid: boolean; instructions: number }> {
    const { payload } = await this.request(OP_VERIFY_MUTATED, new Uint8Array([kind, bit & 0xff, bit >> 8]));
    expect(payload[0] === 0 || payload[0] === 1).toBe(true);
    return { valid: payload[0] === 1, instructions: payload.readUInt32LE(1) };
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const unavailable = qemuBoardUnavailable() ?? (socatAvailable() ? undefined : "socat is missing (apt-get install socat)");
if (unavailable) console.warn(`test/hardware/board-crypto.test.ts skipped: ${unavailable}`);

describe.skipIf(unavailable)("the firmware's Ed25519 on the mps2-an385 board (harness-crypto.wasm via wasm2c, under qemu)", () => {
  const dir = tempDir("mote-board-crypto-");
  let pty: PtyPair;
  let board: QemuBoard;
  let port: SerialPort;
  let dc: BoardCrypto;

  beforeAll(async () => {
    if (!existsSync(harnessWasm)) throw new Error(`${harnessWasm} is missing: run npm run build:device`);
    buildBoard(harnessWasm, "crypto"); // cached by input hashes
    pty = await openPtyPair();
    port = new SerialPort({ path: pty.a, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    board = QemuBoard.start({ dataDir: dir.path, serialPath: pty.b, entry: "crypto", icount: true });
    await board.waitFor(/^crypto harness ready$/, 20_000);
    expect(board.lines).toContain(`message-bytes-max ${MESSAGE_BYTES_MAX}`);
    dc = new BoardCrypto(port);
  });
  afterAll(async () => {
    await board?.kill();
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    await pty?.close();
    dir.remove();
  });

  it("RFC 8032 §7.1 vectors: exact public keys and signatures, and the signatures verify", async () => {
    for (const v of rfc8032.vectors) {
      const seed = unhex(v.seed), msg = unhex(v.message);
      expect(hex(await dc.publicKey(seed)), v.name).toBe(v.publicKey);
      const { pub, sig } = await dc.sign(seed, msg);
      expect(hex(pub), v.name).toBe(v.publicKey);
      expect(hex(sig), v.name).toBe(v.signature);
      expect((await dc.verify(pub, sig)).valid, v.name).toBe(true);
      expect((await dc.verify(pub, sig, msg)).valid, v.name).toBe(true);
    }
    expect(board.traps).toEqual([]);
  });

  it(`refuses a message past ${MESSAGE_BYTES_MAX} bytes, and answers the next request in step`, async () => {
    const seed = unhex(rfc8032.vectors[0].seed);
    await expect(dc.sign(seed, new Uint8Array(MESSAGE_BYTES_MAX + 1))).rejects.toThrow(/bad length/);
    expect(hex((await dc.sign(seed, new Uint8Array(0))).sig)).toBe(rfc8032.vectors[0].signature); // vector 1 signs the empty message
  });

  it(`${RANDOM_RUNS} seeded random seeds and messages (0..${MESSAGE_BYTES_MAX} bytes): keys and signatures byte-identical to node:crypto; verify agrees on valid and mutated signatures`, async () => {
    const bytes = seededBytes("board-crypto 1");
    const u32 = () => Buffer.from(bytes(4)).readUInt32LE(0);
    const boundaries = [0, 1, 31, 32, 111, 112, 127, 128, 129, 255, 256, 1023, 1024, 1025, 2048, 4096, MESSAGE_BYTES_MAX - 1, MESSAGE_BYTES_MAX];
    const lengthOf = (k: number) => {
      if (k < boundaries.length) return boundaries[k];
      const r = u32() % 100;
      // Mostly short (readings are ~100 bytes), a quarter past 256 bytes, a few up to the limit:
      // qemu moves UART bytes one at a time, so the total is what bounds the test's time.
      return r < 72 ? u32() % 257 : r < 97 ? 257 + (u32() % 1280) : 1537 + (u32() % (MESSAGE_BYTES_MAX - 1536));
    };
    const signInstructions: number[] = [], verifyInstructions: number[] = [];
    let messageBytes = 0;

    /** One case, all its requests pipelined: sign, then verify the valid and four mutated signatures. */
    const runCase = async (k: number) => {
      const seed = bytes(32), msg = bytes(lengthOf(k));
      messageBytes += msg.length;
      const pubNode = publicKeyFromSeed(seed);
      const sigNode = signEd25519(privateKeyObject(seed), msg);
      const bit = u32() & 0xffff;
      const badSig = flipBit(sigNode, bit % 512);
      const badMsg = msg.length ? flipBit(msg, bit % (8 * msg.length)) : new Uint8Array([1 << (bit & 7)]);
      const badKey = flipBit(pubNode, bit % 256);
      const malleable = malleate(sigNode);
      // The board verifies node:crypto's signature (the sign check proves it is the board's own)
      // over the message it holds from the sign request, then the same mutations the host made.
      const [signed, valid, vBadSig, vBadKey, vMalleable, vBadMsg] = await Promise.all([
        dc.sign(seed, msg),
        dc.verify(pubNode, sigNode),
        dc.verifyMutated(FLIP_SIGNATURE, bit),
        dc.verifyMutated(FLIP_KEY, bit),
        dc.verifyMutated(S_PLUS_L, bit),
        dc.verifyMutated(FLIP_MESSAGE, bit),
      ]);
      const what = `case ${k}: seed ${hex(seed)}, ${msg.length}-byte message`;
      expect(hex(signed.pub), what).toBe(hex(pubNode));
      expect(hex(signed.sig), what).toBe(hex(sigNode));
      expect(valid.valid, `${what}: valid signature`).toBe(true);
      for (const [name, device, node] of [
        ["flipped signature bit", vBadSig, nodeVerify(pubNode, msg, badSig)],
        ["flipped key bit", vBadKey, nodeVerify(badKey, msg, sigNode)],
        ["S + L", vMalleable, nodeVerify(pubNode, msg, malleable)],
        ["flipped message bit", vBadMsg, nodeVerify(pubNode, badMsg, sigNode)],
      ] as const) {
        expect(device.valid, `${what}: ${name}`).toBe(node);
        expect(device.valid, `${what}: ${name}`).toBe(false);
      }
      signInstructions.push(signed.instructions);
      verifyInstructions.push(valid.instructions);
    };

    const started = Date.now();
    const inFlight = 4; // cases pipelined at once: the board never waits for the host
    let next = 0;
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < RANDOM_RUNS) await runCase(next++);
    }));
    expect(signInstructions.length).toBe(RANDOM_RUNS);
    expect(board.traps).toEqual([]);
    console.log(
      `board-crypto: image ${board.figures.flashBytes} B flash, ${board.figures.ramBytes} B RAM (${board.figures.linearMemoryBytes} B linear memory); ` +
        `${RANDOM_RUNS} cases (${messageBytes} message bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `instructions on the Cortex-M3 (qemu -icount): sign median ${median(signInstructions)} (min ${Math.min(...signInstructions)}, max ${Math.max(...signInstructions)}), ` +
        `verify median ${median(verifyInstructions)}`,
    );
    // About 45 s alone; qemu shares the host's cores with whatever else runs (other test files, a soak),
    // and the UART moves ~500 KB here, so the time limit is the suite's default × 2.5.
  }, 300_000);
});
