// npx tsx bench/p2p-cipher.ts — what sealing the gateway links costs on this machine, per CPU-second:
// FrameSealer.seal / FrameOpener.open (gateway/p2p/session-cipher.ts) for frame sizes from a PBFT
// vote to a full block, beside the ceiling node:crypto gives for the same work (a fresh
// chacha20-poly1305 cipher per frame with a ready nonce, the least a per-frame AEAD can cost here)
// and the bulk rate of one long ChaCha20-Poly1305 stream (the machine's cipher ceiling); then the
// handshake (both sides, in process), which each link pays once per connection.
//
//   npx tsx bench/p2p-cipher.ts [-- --ms 800]
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { Handshake } from "../gateway/p2p/handshake.ts";
import { FrameOpener, FrameSealer, aeadTagBytes, frameNonce } from "../gateway/p2p/session-cipher.ts";
import { privateKeyObject, publicKeyFromSeed } from "../shared/ed25519.ts";
import { printTable } from "./table.ts";

const { values } = parseArgs({ options: { ms: { type: "string", default: "800" } } });
const ms = Number(values.ms);
const sizes = [64, 256, 1024, 16 << 10, 256 << 10, 4 << 20];
const key = randomBytes(32);
const secret = createSecretKey(key);
const mb = (framesPerS: number, bytes: number) => (framesPerS * bytes) / 1e6;

/**
 * Operations per second of this process's CPU time (user + system), best of three trials: all of
 * this work is synchronous on one thread, so on a shared machine this is what a core would do,
 * where wall-clock rates would also measure whoever else is running.
 */
function opsPerSecond(fn: () => void, ms: number): number {
  fn(); // warm up
  let best = 0;
  for (let trial = 0; trial < 3; trial++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    let n = 0;
    while (performance.now() - start < ms / 3 || n < 2) {
      fn();
      n++;
    }
    const used = process.cpuUsage(cpu);
    best = Math.max(best, n / ((used.user + used.system) / 1e6));
  }
  return best;
}

function raw(payload: Buffer): { seal: () => void; open: () => void } {
  const nonce = frameNonce(7);
  const c = createCipheriv("chacha20-poly1305", secret, nonce, { authTagLength: aeadTagBytes });
  const body = c.update(payload);
  c.final();
  const tag = c.getAuthTag();
  return {
    seal: () => {
      const e = createCipheriv("chacha20-poly1305", secret, nonce, { authTagLength: aeadTagBytes });
      e.update(payload);
      e.final();
      e.getAuthTag();
    },
    open: () => {
      const d = createDecipheriv("chacha20-poly1305", secret, nonce, { authTagLength: aeadTagBytes });
      d.setAuthTag(tag);
      d.update(body);
      d.final();
    },
  };
}

const rows: (string | number)[][] = [];
for (const size of sizes) {
  const payload = randomBytes(size);
  const runMs = size >= 1 << 20 ? ms * 2 : ms;
  const sealer = new FrameSealer(key);
  const sealPerS = opsPerSecond(() => sealer.seal(payload), runMs);
  // Open needs the frames in order: seal a ring of them first, then open with a matching counter.
  const ring = size >= 1 << 20 ? 8 : 256;
  const s2 = new FrameSealer(key);
  const frames = Array.from({ length: ring }, () => s2.seal(payload));
  let opener = new FrameOpener(key);
  let k = 0;
  const openPerS = opsPerSecond(() => {
    if (k === ring) {
      opener = new FrameOpener(key);
      k = 0;
    }
    opener.open(frames[k++]);
  }, runMs);
  const r = raw(payload);
  const rawSealPerS = opsPerSecond(r.seal, runMs);
  const rawOpenPerS = opsPerSecond(r.open, runMs);
  rows.push([size < 1024 ? `${size} B` : size < 1 << 20 ? `${size >> 10} KiB` : `${size >> 20} MiB`, Math.round(sealPerS), mb(sealPerS, size), Math.round(openPerS), mb(openPerS, size), Math.round(rawSealPerS), Math.round(rawOpenPerS), `${((sealPerS / rawSealPerS) * 100).toFixed(0)}% / ${((openPerS / rawOpenPerS) * 100).toFixed(0)}%`]);
}

// The machine's cipher ceiling: one long stream, 4 MiB per update.
const chunk = randomBytes(4 << 20);
const stream = createCipheriv("chacha20-poly1305", secret, frameNonce(1), { authTagLength: aeadTagBytes });
const bulkMBs = mb(opsPerSecond(() => stream.update(chunk), ms * 2), chunk.length);

const ids = [0, 1].map((i) => {
  const seed = new Uint8Array(32).fill(i + 1);
  return { chainId: "bench", privateKey: privateKeyObject(seed), publicKey: publicKeyFromSeed(seed) };
});
const handshakesPerS = opsPerSecond(() => {
  const a = new Handshake("initiator", ids[0]);
  const b = new Handshake("responder", ids[1]);
  const aAuth = a.receive(b.hello).send[0];
  const bAuth = b.receive(a.hello).send[0];
  a.receive(bAuth);
  b.receive(aAuth);
}, ms);

printTable(
  `p2p link cipher — ChaCha20-Poly1305 frames (gateway/p2p/session-cipher.ts), per CPU-second of one thread, best of 3 × ${Math.round(ms / 3)} ms; this machine's bulk ChaCha20-Poly1305 ceiling: ${Math.round(bulkMBs).toLocaleString("en-US")} MB/s`,
  ["frame payload", "seal frames/s", "seal MB/s", "open frames/s", "open MB/s", "raw seal frames/s", "raw open frames/s", "of raw (seal / open)"],
  rows,
);
console.log(`\nhandshake, both sides in one process, per CPU-second (2 X25519 key pairs + 2 DH, 2 Ed25519 signs + 2 verifies, HKDF, 2 sealed auths): ${Math.round(handshakesPerS).toLocaleString("en-US")} /s`);
console.log("raw = node:crypto createCipheriv/createDecipheriv per frame with a ready nonce and no output copy: the least a per-frame AEAD costs from Node.");
