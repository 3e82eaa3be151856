// Builds the firmware and the test harnesses with AssemblyScript's compiler.
// The firmware (device/main.ts) is what ships; each device/harness/*.ts is a test-only entry that
// exports pure functions of the very same modules so tests can check them against vectors.
import asc from "assemblyscript/asc";
import binaryen from "binaryen";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { fileURLToPath } from "node:url";

const deviceDir = dirname(fileURLToPath(import.meta.url));
const buildDir = join(deviceDir, "build");
mkdirSync(buildDir, { recursive: true });

// One set of options for every entry (asconfig.json): the harnesses obey the firmware's budgets too.
const common = ["--config", join(deviceDir, "..", "asconfig.json")];

// Outputs are made in a scratch folder beside them and put in place only when their bytes changed,
// each by one rename. Tests read build/ while others run `npm start`, whose prestart builds again:
// writing in place, a test once read firmware.wasm between asc's output and arrangeGlobals' (16,227
// bytes against its manifest's 16,254). Now a build with nothing new writes nothing, and a reader
// sees the old file or the new one, never a part.
const scratchDir = mkdtempSync(join(buildDir, ".building-"));
process.on("exit", () => rmSync(scratchDir, { recursive: true, force: true }));

async function compile(entry, outName) {
  const wasm = join(scratchDir, `${outName}.wasm`);
  const wat = join(scratchDir, `${outName}.wat`);
  const { error, stderr } = await asc.main(
    [entry, "-o", wasm, "-t", wat, ...common],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    console.error(`asc failed for ${entry}: ${error.message}\n${stderr.toString()}`);
    process.exit(1);
  }
  if (outName === "firmware") arrangeGlobals(wasm, wat);
  const changed = [wasm, wat].map((file) => install(file, join(buildDir, basename(file)))).some(Boolean);
  console.log(`${changed ? "built" : "unchanged"} ${join(buildDir, `${outName}.wasm`)}`);
}

/** Moves `made` over `target` unless `target` already holds the same bytes; true when it moved. */
function install(made, target) {
  if (existsSync(target) && readFileSync(target).equals(readFileSync(made))) return false;
  renameSync(made, target);
  return true;
}

/**
 * Lays the module out the way WAMR reads it (device/ABI.md "Module shape"), so a WAMR host can give
 * the firmware only __heap_base bytes of linear memory instead of its 64 KiB page. WAMR shrinks
 * memory for a module that cannot grow and exports __heap_base and __data_end, and takes the
 * first mutable i32 global whose initial value is ≤ __heap_base as the stack pointer, trapping
 * any write that moves it outside the stack. AssemblyScript keeps module-level `let`s in mutable
 * globals, so its first one (a counter) would pass for the stack pointer. After compiling:
 *  - one dedicated global, `__stack_pointer`, is put first: the first mutable global, so WAMR
 *    takes it and looks no further; the firmware never reads or writes it. It bounds an empty
 *    16-byte stack between __data_end and __heap_base (stub runtime: no stack in linear memory);
 *  - `__data_end` (end of static data) is exported beside `__heap_base`, which moves up 16 bytes.
 * The firmware's own mutable globals stay globals: moving all of them into static memory was
 * measured at +1,028 bytes of code (loads/stores for global.get/set), past the 16 KiB budget,
 * and WAMR never looks past the first. test/device/module.test.ts holds the module to this shape.
 */
const AUX_STACK_BYTES = 16;

function arrangeGlobals(wasmPath, watPath) {
  const features = binaryen.Features.MVP | binaryen.Features.MutableGlobals | binaryen.Features.SignExt | binaryen.Features.BulkMemory | (binaryen.Features.BulkMemoryOpt ?? 0);
  const input = binaryen.readBinary(readFileSync(wasmPath));
  input.setFeatures(features);
  let text = input.emitText();
  input.dispose();

  const heapBaseName = /\(export "__heap_base" \(global \$(\S+)\)\)/.exec(text)?.[1];
  if (!heapBaseName) throw new Error("firmware exports no __heap_base");
  const heapBaseDecl = new RegExp(`^ \\(global \\$${escape(heapBaseName)} i32 \\(i32\\.const (\\d+)\\)\\)$`, "m");
  const dataEnd = align(Number(heapBaseDecl.exec(text)[1]), 16);
  const heapBase = dataEnd + AUX_STACK_BYTES;
  if (/\$__stack_pointer|"__data_end"/.test(text)) throw new Error("firmware already has __stack_pointer or __data_end");

  text = text.replace(heapBaseDecl, ` (global $${heapBaseName} i32 (i32.const ${heapBase}))`);
  const firstGlobal = text.search(/^ \(global /m);
  if (firstGlobal < 0) throw new Error("firmware has no globals (no __heap_base)");
  const head = [
    ` (global $__stack_pointer (mut i32) (i32.const ${heapBase}))`,
    ` (global $__data_end i32 (i32.const ${dataEnd}))`,
    ` (export "__data_end" (global $__data_end))`,
  ].join("\n");
  text = `${text.slice(0, firstGlobal)}${head}\n${text.slice(firstGlobal)}`;

  const output = binaryen.parseText(text);
  output.setFeatures(features);
  if (!output.validate()) throw new Error("the arranged firmware does not validate");
  writeFileSync(wasmPath, output.emitBinary()); // not optimized again: that would drop the unused stack pointer
  writeFileSync(watPath, output.emitText());
  output.dispose();
}

function align(n, to) {
  return Math.ceil(n / to) * to;
}

function escape(name) {
  return name.replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&");
}

const harnessDir = join(deviceDir, "harness");
const harnesses = (() => {
  try { return readdirSync(harnessDir).filter((f) => f.endsWith(".ts")); } catch { return []; }
})();
const only = process.argv[2]; // optional: build just "firmware" or one harness name
if (!only || only === "firmware") await compile(join(deviceDir, "main.ts"), "firmware");
for (const file of harnesses) {
  const name = `harness-${basename(file, ".ts")}`;
  if (!only || only === name) await compile(join(harnessDir, file), name);
}
