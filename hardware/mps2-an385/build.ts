// Builds the mps2-an385 board image from a firmware.wasm: wasm2c translates the module to C, and
// arm-none-eabi-gcc links it with the shared ABI layer (hardware/abi/), the board layer (this
// folder) and picolibc into board.elf under the linker script's 128 KiB flash / 32 KiB RAM.
// Builds are cached by a hash of every input (the wasm, the sources, the tools' versions) under
// hardware/mps2-an385/build/ (gitignored).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultFirmwarePath } from "../emulator/firmware.ts";
import { packageFile } from "../../shared/package-paths.ts";

// The C sources and the build cache stay in the source tree when this runs compiled (dist/).
const boardDir = packageFile("hardware/mps2-an385");
const abiDir = join(boardDir, "..", "abi");
export const boardBuildDir = join(boardDir, "build");

/** What the image runs: the firmware (main.c), or the crypto harness answering requests on UART0
 * (crypto-main.c, test/hardware/board-crypto.test.ts). Everything else is shared. */
export type BoardEntry = "firmware" | "crypto";
const entryMain: Record<BoardEntry, string> = { firmware: "main.c", crypto: "crypto-main.c" };
const entryWasm: Record<BoardEntry, string> = {
  firmware: defaultFirmwarePath,
  crypto: join(dirname(defaultFirmwarePath), "harness-crypto.wasm"),
};
const isMain = (file: string) => /(^|-)main\.c$/.test(file);

/** Where Debian's wabt package puts the runtime header wasm2c's output includes. */
const wasmRtHeader = ["/usr/include/wasm-rt.h", "/usr/src/wasm2c/wasm-rt.h"].find((p) => existsSync(p));

/** Debian's wasm2c, not the npm package's (node_modules/.bin is on PATH under npm and npx): its
 * output must match the wasm-rt.h beside it. */
const wasm2c = existsSync("/usr/bin/wasm2c") ? "/usr/bin/wasm2c" : "wasm2c";

/** Debian packages the board needs, by the command each provides. */
export const boardToolchain = [
  { command: wasm2c, pkg: "wabt" },
  { command: "arm-none-eabi-gcc", pkg: "gcc-arm-none-eabi" },
  { command: "qemu-system-arm", pkg: "qemu-system-arm" },
] as const;

const gccFlags = [
  "-mcpu=cortex-m3", "-mthumb", "-O2", "-g0",
  "-ffunction-sections", "-fdata-sections", "-fno-common",
  "--specs=picolibc.specs",
];
/** Our C is held to warnings-as-errors; wasm2c's generated C is not ours to lint. */
const ourWarnings = ["-Wall", "-Wextra", "-Werror"];
/** The generated code counts wasm call depth; this keeps it inside the board's 6 KiB C stack. */
const callDepthMax = 64;

/** What is missing to build and run the board: Debian package names (empty when all is there). */
export function missingToolchain(): string[] {
  const missing: string[] = boardToolchain.filter((t) => spawnSync(t.command, ["--version"], { stdio: "ignore" }).error).map((t) => t.pkg);
  if (!wasmRtHeader && !missing.includes("wabt")) missing.push("wabt");
  const picolibc = spawnSync("arm-none-eabi-gcc", ["-print-file-name=picolibc.specs"], { encoding: "utf8" });
  if (!missing.includes("gcc-arm-none-eabi") && !existsSync((picolibc.stdout ?? "").trim())) missing.push("picolibc-arm-none-eabi");
  return missing;
}

export interface BoardImage {
  dir: string;
  elf: string;
  map: string;
  figures: ImageFigures;
}

/** The image's budget figures, read back from the linker map. */
export interface ImageFigures {
  flashBytes: number;
  ramBytes: number;
  flashBudgetBytes: number;
  ramBudgetBytes: number;
  stackBytes: number;
  linearMemoryBytes: number;
  heapBase: number;
  /** Flash taken by the firmware's code and data as wasm2c compiled them. */
  firmwareCodeBytes: number;
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.error) throw new Error(`cannot run ${cmd} (${r.error.message}); install Debian packages: ${boardToolchain.map((t) => t.pkg).join(" ")} picolibc-arm-none-eabi`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The firmware's __heap_base (a harness's staticEnd()): everything it touches in linear memory lies below it. */
export function heapBaseOf(wasm: Uint8Array<ArrayBuffer>): number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: new Proxy({}, { get: () => () => 0 }) });
  const g = instance.exports.__heap_base as WebAssembly.Global | undefined;
  if (g) return g.value as number;
  const staticEnd = instance.exports.staticEnd as (() => number) | undefined;
  if (staticEnd) return staticEnd();
  throw new Error("the module exports no __heap_base (nor staticEnd()): not a device/ABI.md firmware or test harness");
}

/** The shared ABI and board layers, and the entry's main file (the other entries' are left out). */
function sources(entry: BoardEntry): string[] {
  return [
    ...readdirSync(abiDir).filter((f) => /\.[ch]$/.test(f)).map((f) => join(abiDir, f)),
    ...readdirSync(boardDir).filter((f) => /\.(c|h|ld)$/.test(f) && (!isMain(f) || f === entryMain[entry])).map((f) => join(boardDir, f)),
  ].sort();
}

function toolVersions(): string {
  return [wasm2c, "arm-none-eabi-gcc"].map((c) => spawnSync(c, ["--version"], { encoding: "utf8" }).stdout ?? "").join("\n");
}

/** Builds (or reuses) the board image for `wasmPath` (default: the entry's module in device/build/). */
export function buildBoard(wasmPath?: string, entry: BoardEntry = "firmware"): BoardImage {
  wasmPath ??= entryWasm[entry];
  const wasm = new Uint8Array(readFileSync(wasmPath)) as Uint8Array<ArrayBuffer>;
  const heapBase = heapBaseOf(wasm);
  const linearMemoryBytes = Math.ceil(heapBase / 16) * 16;
  const hash = createHash("sha256").update(wasm).update(toolVersions()).update(String(callDepthMax)).update(gccFlags.join(" "));
  for (const f of sources(entry)) hash.update(f).update(readFileSync(f));
  if (wasmRtHeader) hash.update(readFileSync(wasmRtHeader));
  const dir = join(boardBuildDir, hash.digest("hex").slice(0, 16));
  const elf = join(dir, "board.elf");
  const map = join(dir, "board.map");
  const figuresPath = join(dir, "figures.json");
  if (existsSync(figuresPath)) return { dir, elf, map, figures: JSON.parse(readFileSync(figuresPath, "utf8")) };

  if (!wasmRtHeader) throw new Error("wasm-rt.h not found; install Debian package wabt");
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    compileImage(tmp, wasm, heapBase, linearMemoryBytes, entry);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir); // whole or absent: a concurrent or interrupted build never leaves half an image
  pruneCache();
  return { dir, elf, map, figures: JSON.parse(readFileSync(figuresPath, "utf8")) };
}

/** Images older than a day go, beyond the newest few (each firmware build makes one). */
function pruneCache(keep = 8, ageMs = 86_400_000): void {
  const dirs = readdirSync(boardBuildDir)
    .map((name) => ({ path: join(boardBuildDir, name), mtimeMs: statSync(join(boardBuildDir, name)).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const d of dirs.slice(keep)) if (Date.now() - d.mtimeMs > ageMs) rmSync(d.path, { recursive: true, force: true });
}

function compileImage(tmp: string, wasm: Uint8Array, heapBase: number, linearMemoryBytes: number, entry: BoardEntry): void {
  writeFileSync(join(tmp, "firmware.wasm"), wasm);
  writeFileSync(join(tmp, "wasm-rt.h"), readFileSync(wasmRtHeader!)); // not -I/usr/include: that is the host's libc
  run(wasm2c, ["firmware.wasm", "-n", "firmware", "-o", "firmware.c"], tmp);
  const defines = [`-DMOTE_LINEAR_MEMORY_BYTES=${linearMemoryBytes}`, `-DWASM_RT_MAX_CALL_STACK_DEPTH=${callDepthMax}`, "-I", tmp];
  run("arm-none-eabi-gcc", [...gccFlags, ...defines, "-DNDEBUG", "-w", "-c", "firmware.c", "-o", "firmware.o"], tmp);
  run("arm-none-eabi-gcc", [
    ...gccFlags, ...ourWarnings, ...defines, "-nostartfiles",
    "-T", join(boardDir, "mps2-an385.ld"),
    "-Wl,--gc-sections", `-Wl,-Map=board.map`,
    "-o", "board.elf",
    "firmware.o", ...sources(entry).filter((f) => f.endsWith(".c")),
  ], tmp);
  const figures = figuresFromMap(readFileSync(join(tmp, "board.map"), "utf8"), heapBase, linearMemoryBytes);
  writeFileSync(join(tmp, "figures.json"), JSON.stringify(figures, null, 2));
}

/** Output sections' sizes from the map: flash holds what loads, RAM what occupies the RAM region. */
export function figuresFromMap(map: string, heapBase: number, linearMemoryBytes: number): ImageFigures {
  const section = (name: string): number => {
    const m = new RegExp(`^\\${name}\\s+0x[0-9a-f]+\\s+0x([0-9a-f]+)`, "m").exec(map);
    return m ? parseInt(m[1], 16) : 0;
  };
  const region = (name: string): number => {
    const m = new RegExp(`^${name}\\s+0x[0-9a-f]+\\s+0x([0-9a-f]+)`, "m").exec(map);
    if (!m) throw new Error(`linker map has no memory region ${name}`);
    return parseInt(m[1], 16);
  };
  // Input sections of firmware.c (wasm2c's output) inside .text: "firmware.o" or "ccXXXX.o" lines follow the section name.
  let firmwareCodeBytes = 0;
  for (const m of map.matchAll(/^ \.(?:text|rodata)\.\S*\s*\n?\s+0x[0-9a-f]+\s+0x([0-9a-f]+) \S*firmware[^\n]*\.o$/gm)) firmwareCodeBytes += parseInt(m[1], 16);
  const data = section(".data");
  return {
    flashBytes: section(".vectors") + section(".text") + section(".ARM.exidx") + data,
    ramBytes: section(".stack") + data + section(".bss"),
    flashBudgetBytes: region("FLASH"),
    ramBudgetBytes: region("RAM"),
    stackBytes: section(".stack"),
    linearMemoryBytes,
    heapBase,
    firmwareCodeBytes,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const missing = missingToolchain();
  if (missing.length) {
    console.error(`the mps2-an385 board needs Debian packages: ${missing.join(" ")} (apt-get install -y ${missing.join(" ")})`);
    process.exit(1);
  }
  const entry: BoardEntry = process.argv.includes("--crypto") ? "crypto" : "firmware";
  const image = buildBoard(process.argv.slice(2).find((a) => !a.startsWith("--")), entry);
  console.log(`${image.elf}\n${JSON.stringify(image.figures, null, 2)}`);
}
