// Runs the mps2-an385 board image under qemu-system-arm: UART0 wired to a host tty (one end of a
// pty pair whose other end a gateway's serial transport opens), the flash slots in
// <dataDir>/flash.bin (qemu's working directory), the console (semihosting) read line by line.
// Builds the image first if needed (build.ts caches it by input hashes).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import { buildBoard, missingToolchain, type BoardEntry, type ImageFigures } from "./build.ts";
import { MoteError } from "../../shared/errors.ts";
import { fromHex } from "../../shared/ed25519.ts";

export class QemuBoardError extends MoteError {}

export interface QemuBoardOptions {
  /** Where the board's flash (flash.bin) lives; qemu runs there. */
  dataDir: string;
  /** Host tty wired to UART0 (e.g. PtyPair.b); none: the UART goes nowhere. */
  serialPath?: string;
  wasmPath?: string;
  /** The firmware (default), or the crypto harness serving requests on UART0 (crypto-main.c). */
  entry?: BoardEntry;
  /** qemu -icount shift=0: guest time advances 1 ns per instruction executed (instruction counts). */
  icount?: boolean;
  /** One reading every intervalMs (0: none); default 1000. */
  intervalMs?: number;
  /** Stop signing after this many readings (0: no limit). */
  readings?: number;
  /** The entropy stand-in's 32-byte seed (drivers.c); default: fresh from node:crypto every boot. */
  entropySeed?: Uint8Array;
  /** Console lines as they come (boot, identity, "signed seq N", traps, firmware log). */
  log?: (line: string) => void;
}

/** Says what to install, or undefined when the board can run here. */
export function qemuBoardUnavailable(): string | undefined {
  const missing = missingToolchain();
  return missing.length ? `the qemu board needs Debian packages ${missing.join(" ")} (apt-get install -y ${missing.join(" ")}; scripts/test-deps.sh does it)` : undefined;
}

const bootTimeoutMs = 20_000;

/** Emulators this process started: none outlives it, even when a caller never stops its board. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function spawnQemu(args: string[], cwd: string): ChildProcess {
  const child = spawn("qemu-system-arm", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/**
 * Events: "line" (console line), "signed" (sequence number), "trap" (reason), "exit" (code, signal).
 */
export class QemuBoard extends EventEmitter {
  readonly lines: string[] = [];
  readonly signed: number[] = [];
  readonly traps: string[] = [];
  publicKey: Uint8Array = new Uint8Array(0);
  deviceId: Uint8Array = new Uint8Array(0);
  figures!: ImageFigures;
  private exited: Promise<void>;
  private exitCode: number | null = null;

  private constructor(private readonly child: ChildProcess, readonly options: QemuBoardOptions) {
    super();
    let partial = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      const text = partial + chunk.toString("utf8");
      const parts = text.split("\n");
      partial = parts.pop()!;
      for (const line of parts) this.onLine(line);
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        this.exitCode = code;
        if (stderr.trim()) this.onLine(`qemu: ${stderr.trim()}`);
        this.emit("exit", code, signal);
        resolve();
      }),
    );
  }

  /** Builds if needed, starts qemu, resolves once the firmware has its identity. */
  static async boot(options: QemuBoardOptions): Promise<QemuBoard> {
    const board = QemuBoard.start(options);
    try {
      await board.waitFor(/^device-id ([0-9a-f]{32})$/, bootTimeoutMs);
    } catch (e) {
      await board.kill();
      throw e;
    }
    return board;
  }

  /** Starts qemu and returns at once, before the firmware has booted (tests cut power during boot). */
  static start(options: QemuBoardOptions): QemuBoard {
    const unavailable = qemuBoardUnavailable();
    if (unavailable) throw new QemuBoardError("BOARD_TOOLCHAIN", unavailable);
    const image = buildBoard(options.wasmPath, options.entry);
    mkdirSync(options.dataDir, { recursive: true });
    const args = [
      "-M", "mps2-an385", "-nodefaults", "-display", "none", "-monitor", "none",
      ...(options.icount ? ["-icount", "shift=0"] : []),
      "-kernel", image.elf,
      "-semihosting-config", "enable=on,target=native",
      "-append", [`seed=${Buffer.from(options.entropySeed ?? randomBytes(32)).toString("hex")}`, `interval_ms=${options.intervalMs ?? 1000}`, `readings=${options.readings ?? 0}`].join(" "),
      ...(options.serialPath ? ["-chardev", `serial,id=uart0,path=${options.serialPath}`, "-serial", "chardev:uart0"] : ["-serial", "null"]),
    ];
    const child = spawnQemu(args, options.dataDir);
    const board = new QemuBoard(child, options);
    board.figures = image.figures;
    return board;
  }

  get deviceIdHex(): string {
    return Buffer.from(this.deviceId).toString("hex");
  }

  private onLine(line: string): void {
    this.lines.push(line);
    let m: RegExpExecArray | null;
    if ((m = /^public-key ([0-9a-f]{64})$/.exec(line))) this.publicKey = fromHex(m[1]);
    else if ((m = /^device-id ([0-9a-f]{32})$/.exec(line))) this.deviceId = fromHex(m[1]);
    else if ((m = /^signed seq (\d+)$/.exec(line))) {
      this.signed.push(Number(m[1]));
      this.emit("signed", Number(m[1]));
    } else if ((m = /^trap: (.*)$/.exec(line))) {
      this.traps.push(m[1]);
      this.emit("trap", m[1]);
    }
    this.options.log?.(line);
    this.emit("line", line);
  }

  /** Resolves with the first console line (past or future) matching `re`. */
  waitFor(re: RegExp, timeoutMs = 30_000, fromLine = 0): Promise<RegExpMatchArray> {
    for (const line of this.lines.slice(fromLine)) {
      const m = re.exec(line);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const done = (err?: Error, m?: RegExpMatchArray) => {
        clearTimeout(timer);
        this.off("line", onLine);
        this.off("exit", onExit);
        if (err) reject(err);
        else resolve(m!);
      };
      const onLine = (line: string) => {
        const m = re.exec(line);
        if (m) done(undefined, m);
      };
      const onExit = () => done(new QemuBoardError("BOARD_EXITED", `qemu exited (code ${this.exitCode}) before ${re}; console:\n${this.lines.slice(-20).join("\n")}`));
      const timer = setTimeout(() => done(new QemuBoardError("BOARD_TIMEOUT", `no console line ${re} within ${timeoutMs} ms; console:\n${this.lines.slice(-20).join("\n")}`)), timeoutMs);
      this.on("line", onLine);
      this.on("exit", onExit);
    });
  }

  /** Resolves when `count` more readings have been signed after this call. */
  async signedMore(count: number, timeoutMs = 30_000): Promise<number[]> {
    const start = this.signed.length;
    const deadline = Date.now() + timeoutMs;
    while (this.signed.length < start + count) {
      if (this.exitCode !== null || this.child.exitCode !== null) throw new QemuBoardError("BOARD_EXITED", `qemu exited; console:\n${this.lines.slice(-20).join("\n")}`);
      if (Date.now() > deadline) throw new QemuBoardError("BOARD_TIMEOUT", `${this.signed.length - start} of ${count} readings signed within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.signed.slice(start, start + count);
  }

  /** Stops the emulator at once, as pulling the power would (SIGKILL by default). */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }

  async stop(): Promise<void> {
    await this.kill("SIGTERM");
  }
}

export interface BoardBenchResult {
  /** Instructions per reading() call, one per reading signed (qemu -icount shift=0: 1 ns = 1 instruction). */
  instructionsPerReading: number[];
  linearMemoryBytes: number;
  stackHighWaterBytes: number;
  figures: ImageFigures;
}

/**
 * Signs `readings` readings on the emulated Cortex-M3 with qemu's -icount shift=0, where guest
 * time advances exactly 1 ns per instruction executed, and reads SysTick (25 MHz: 40-instruction
 * steps) around each reading() call. A reading is signing plus CBOR/COSE/CoAP encoding and SLIP
 * framing onto the UART.
 */
export async function benchBoard(wasmPath: string | undefined, dataDir: string, readings = 3): Promise<BoardBenchResult> {
  const unavailable = qemuBoardUnavailable();
  if (unavailable) throw new QemuBoardError("BOARD_TOOLCHAIN", unavailable);
  const image = buildBoard(wasmPath);
  mkdirSync(dataDir, { recursive: true });
  const args = [
    "-M", "mps2-an385", "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "null",
    "-icount", "shift=0",
    "-kernel", image.elf,
    "-semihosting-config", "enable=on,target=native",
    "-append", `seed=${randomBytes(32).toString("hex")} bench=${readings}`,
  ];
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawnQemu(args, dataDir);
    let text = "";
    child.stdout!.on("data", (b: Buffer) => (text += b));
    child.stderr!.on("data", (b: Buffer) => (text += b));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new QemuBoardError("BOARD_BENCH", `qemu bench exited ${code}:\n${text}`))));
  });
  const figure = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(out)?.[1] ?? NaN);
  return {
    instructionsPerReading: [...out.matchAll(/^bench reading ns (\d+)$/gm)].map((m) => Number(m[1])),
    linearMemoryBytes: figure("linear-memory-bytes"),
    stackHighWaterBytes: figure("stack-high-water-bytes"),
    figures: image.figures,
  };
}
