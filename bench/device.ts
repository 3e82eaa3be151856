// npm run bench:device [-- other/firmware.wasm …] — the firmware's budgets and speed, with this
// machine's references in the same run: size, memory, bytes on the wire for one signed reading,
// Ed25519 sign/verify per second in WASM beside node:crypto (OpenSSL) and @noble/curves, and the
// emulated Cortex-M3 board (hardware/mps2-an385): its image's flash and RAM from the linker map
// and instructions per signed reading, for this build and any firmware.wasm given as arguments.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { inspectModule } from "../test/support/wasm-inspect.ts";
import { deviceBuildDir, loadDeviceModule } from "../test/support/wasm.ts";
import { LINK_RADIO, LINK_SERIAL } from "../hardware/emulator/firmware.ts";
import { deviceIdFromPublicKey, privateKeyObject, publicKeyObject, publicKeyFromSeed } from "../shared/ed25519.ts";
import { encodeReading } from "../shared/reading.ts";
import { sensorCatalog } from "../shared/sensor-catalog.ts";
import { readingFrames } from "../test/support/firmware-wire.ts";
import { printTable, opsPerSecond } from "./table.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { benchBoard, qemuBoardUnavailable } from "../hardware/mps2-an385/qemu-board.ts";

const firmwareBytes = new Uint8Array(readFileSync(join(deviceBuildDir, "firmware.wasm")));
const shape = await inspectModule(firmwareBytes);
const instance = new WebAssembly.Instance(new WebAssembly.Module(firmwareBytes), {
  env: new Proxy({}, { get: () => () => 0 }),
});
const heapBase = (instance.exports.__heap_base as WebAssembly.Global).value as number;

printTable("firmware.wasm", ["what", "value", "budget"], [
  ["module size (bytes)", firmwareBytes.length, "≤ 16,384"],
  ["memory pages initial / maximum", `${shape.memory?.initial} / ${shape.memory?.maximum}`, "1 / 1"],
  ["working RAM = __heap_base (bytes)", heapBase, "≤ 65,536"],
  ["imports (module env)", shape.imports.length, "device/ABI.md"],
]);

// Bytes on the wire for one signed single-value reading, as the firmware sends it (compact format,
// shared/reading.ts): under its short kid (2 bytes: devices 256-65,535 of a chain) and, before it has
// learned it, under its 16-byte device id; at a sequence number in 256..65,535 (a 2-byte Partial IV;
// below 256 is 1 byte less, up to 2^24 one more). The first after a boot also says which firmware
// runs (docs/firmware-update.md), and so does every reading signed before a gateway acknowledges one
// that carries it (test/support/firmware-wire.ts). Format 1, what firmware before issue 14 sends, for comparison.
const SEQUENCE = 1_000;
/** Format 1 as the old firmware framed it: CoAP header 4, token 2, Uri-Path "r" 2, Content-Format 18 2, marker 1. */
function formatOneBytes(sensor: number, value: number): number {
  const seed = randomBytes(32);
  const deviceId = deviceIdFromPublicKey(publicKeyFromSeed(seed));
  return 11 + encodeReading(privateKeyObject(seed), deviceId, SEQUENCE, [{ ...sensorCatalog[sensor], value }]).length;
}
const values: [string, number, number][] = [
  ["temp 21.5 (float16)", 0, 21.5],
  ["pres 100000.5 (float32)", 2, 100000.5],
  ["pres 101325.12345 (float64)", 2, 101325.12345],
];
const wireRows = values.flatMap(([label, sensor, value]) =>
  [["short kid (2 B)", Uint8Array.of(1, 2)], ["device id (16 B)", undefined]].map(([kidLabel, kid]) => {
    const udp = readingFrames(LINK_RADIO, sensor, value, SEQUENCE, kid as Uint8Array | undefined);
    const slip = readingFrames(LINK_SERIAL, sensor, value, SEQUENCE, kid as Uint8Array | undefined);
    return [label, kidLabel as string, udp.steady.length, slip.steady.length, udp.firstAfterBoot.length, slip.firstAfterBoot.length, formatOneBytes(sensor, value)];
  }),
);
printTable(
  `one signed reading on the wire (bytes; aim ≤ 96 UDP payload), sequence ${SEQUENCE.toLocaleString("en-US")} (2-byte Partial IV)`,
  ["reading", "kid", "CoAP message (UDP payload)", "SLIP frame", "first after boot (+ fw record): UDP", "SLIP", "format 1 (old firmware): UDP"],
  wireRows,
);

// Ed25519 in the firmware's own code (the crypto harness is built from the same modules).
const h = loadDeviceModule("harness-crypto");
const scratch = h.exports.scratch() as number;
const seed = randomBytes(32);
const message = randomBytes(100); // about a reading's Sig_structure
const [pSeed, pPub, pMsg, pSig] = [scratch, scratch + 32, scratch + 64, scratch + 256];
h.write(pSeed, seed);
h.write(pMsg, message);
h.exports.ed25519PublicKey(pSeed, pPub);
h.exports.ed25519Sign(pSeed, pPub, pMsg, message.length, pSig);
const signature = h.bytes(pSig, 64);
const publicKey = publicKeyFromSeed(seed);
const privateKey = privateKeyObject(seed);
const publicKeyObj = publicKeyObject(publicKey);
if (!nodeVerify(null, message, publicKeyObj, signature)) throw new Error("WASM signature does not verify under node:crypto: the firmware build is broken");

const ms = Number(process.env.BENCH_MS ?? 1_500);
const rows: [string, number, number][] = [
  ["firmware (WASM in Node)", opsPerSecond(() => h.exports.ed25519Sign(pSeed, pPub, pMsg, message.length, pSig), ms), opsPerSecond(() => h.exports.ed25519Verify(pPub, pMsg, message.length, pSig), ms)],
  ["node:crypto (OpenSSL)", opsPerSecond(() => nodeSign(null, message, privateKey), ms), opsPerSecond(() => nodeVerify(null, message, publicKeyObj, signature), ms)],
  ["@noble/curves", opsPerSecond(() => noble.sign(message, seed), ms), opsPerSecond(() => noble.verify(signature, message, publicKey), ms)],
];
const base = rows[1];
printTable(
  "Ed25519 on this machine, one core (100-byte message)",
  ["implementation", "sign/s", "verify/s", "sign vs node:crypto", "verify vs node:crypto"],
  rows.map(([name, s, v]) => [name, s, v, `${((s / base[1]) * 100).toFixed(1)}%`, `${((v / base[2]) * 100).toFixed(1)}%`]),
);

// The emulated microcontroller: firmware.wasm through wasm2c on mps2-an385 (Cortex-M3, 25 MHz).
// Instructions are counted by qemu itself: with -icount shift=0 guest time advances 1 ns per
// instruction, and the board reads SysTick (40 ns steps) around each reading() call; a reading is
// signing plus CBOR/COSE/CoAP encoding and SLIP framing onto the UART.
const libsodiumSignInstructions = 255_000; // BRIEF §4: libsodium's Ed25519 sign, x86, callgrind, this machine
const boardUnavailable = qemuBoardUnavailable();
if (boardUnavailable) {
  console.log(`\nemulated Cortex-M3 board: not measured, ${boardUnavailable}`);
} else {
  const firmwares = [join(deviceBuildDir, "firmware.wasm"), ...process.argv.slice(2).filter((a) => a.endsWith(".wasm"))];
  const results = [];
  for (const path of firmwares) {
    const dir = mkdtempSync(join(tmpdir(), "mote-bench-board-"));
    try {
      results.push({ path, ...(await benchBoard(path, dir, 3)) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const label = (p: string) => (p === firmwares[0] ? "this build" : p);
  printTable(
    "mps2-an385 board image (linker map; the linker script enforces the budgets)",
    ["firmware", "flash", "of which firmware code", "RAM", "linear memory (__heap_base)", "C stack (high-water)"],
    results.map((r) => [
      label(r.path),
      `${r.figures.flashBytes.toLocaleString("en-US")} B / ${kib(r.figures.flashBudgetBytes)}`,
      `${r.figures.firmwareCodeBytes.toLocaleString("en-US")} B`,
      `${r.figures.ramBytes.toLocaleString("en-US")} B / ${kib(r.figures.ramBudgetBytes)}`,
      `${r.linearMemoryBytes.toLocaleString("en-US")} B (${r.figures.heapBase.toLocaleString("en-US")})`,
      `${r.figures.stackBytes.toLocaleString("en-US")} B (${r.stackHighWaterBytes.toLocaleString("en-US")} B)`,
    ]),
  );
  printTable(
    "instructions per signed reading, emulated Cortex-M3 (qemu -icount shift=0), beside libsodium's Ed25519 sign on x86",
    ["firmware", "instructions / reading", "libsodium sign", "ratio"],
    results.map((r) => {
      const median = [...r.instructionsPerReading].sort((a, b) => a - b)[Math.floor(r.instructionsPerReading.length / 2)];
      return [label(r.path), median, libsodiumSignInstructions, `${(median / libsodiumSignInstructions).toFixed(1)}×`];
    }),
  );
}
