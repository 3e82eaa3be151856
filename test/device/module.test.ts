// The compiled firmware against its budgets and its ABI: imports exactly those in device/ABI.md
// (with exact signatures), exports likewise, one page of memory initial = maximum and never grown,
// only WAMR-interpreter features, size ≤ 16 KiB.
import { describe, expect, it, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deviceBuildDir } from "../support/wasm.ts";
import { inspectModule, type ModuleShape } from "../support/wasm-inspect.ts";

const abiPath = join(deviceBuildDir, "..", "ABI.md");
const firmwareBytesMax = 16 * 1024;

/** Rows `| \`name\` | \`(a: i32) -> i32\` | …` of the table under `heading` in ABI.md. */
function abiTable(heading: string): Map<string, string> {
  const md = readFileSync(abiPath, "utf8");
  const section = md.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`device/ABI.md has no section "${heading}"`);
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| `([a-z_]+)` \| (?:`([^`]+)`|memory|(global) `i32`) \|/gm)) {
    const sig = m[2];
    if (!sig) {
      rows.set(m[1], m[3] ? "global" : "memory");
      continue;
    }
    // "(ptr: i32, len: i32) -> i32" → "(i32, i32) -> i32"
    const [params, result] = sig.split("->").map((s) => s.trim());
    const types = params.replace(/[()]/g, "").split(",").map((p) => p.split(":").pop()!.trim()).filter(Boolean);
    rows.set(m[1], `(${types.join(", ")}) -> ${result}`);
  }
  return rows;
}

describe("firmware.wasm", () => {
  let bytes: Uint8Array;
  let shape: ModuleShape;

  beforeAll(async () => {
    bytes = new Uint8Array(readFileSync(join(deviceBuildDir, "firmware.wasm")));
    shape = await inspectModule(bytes);
  });

  it(`is at most ${firmwareBytesMax} bytes`, () => {
    expect(bytes.length).toBeLessThanOrEqual(firmwareBytesMax);
  });

  it("imports exactly the functions device/ABI.md lists, from module env, with their signatures", () => {
    const abi = abiTable("Imports");
    expect(abi.size).toBeGreaterThan(5);
    expect(shape.imports.every((i) => i.module === "env")).toBe(true);
    const actual = new Map(shape.imports.map((i) => [i.name, i.signature]));
    expect(actual).toEqual(abi);
  });

  it("exports exactly what device/ABI.md lists, with their signatures", () => {
    const abi = abiTable("Exports");
    const actual = new Map(shape.exports.map((e) => [e.name, e.kind === "func" ? e.signature : e.kind]));
    expect(actual).toEqual(abi);
  });

  it("declares one page of memory, initial = maximum, and never grows it", () => {
    expect(shape.memory).toEqual({ initial: 1, maximum: 1, exported: true });
    expect(shape.text).not.toMatch(/\bmemory\.grow\b/);
    // Not even memory.size: WAMR treats a module that reads its size as one that may grow.
    expect(shape.text).not.toMatch(/\bmemory\.size\b/);
    const module = new WebAssembly.Module(new Uint8Array(bytes));
    expect(WebAssembly.Module.imports(module).some((i) => i.kind === "memory")).toBe(false);
  });

  it("validates with only MVP, mutable globals, sign-extension and bulk memory", () => {
    // inspectModule already validated with those features alone; name what must be absent too.
    expect(shape.text).not.toMatch(/\bv128\b|\bi8x16\b|\bref\.(null|func)\b|\btry\b|\bthrow\b|trunc_sat/);
  });

  it("lays its globals out as WAMR reads them, so WAMR can shrink linear memory to __heap_base", () => {
    // WAMR (wasm_loader.c) shrinks memory for a module that cannot grow when it exports immutable
    // i32 __data_end ≤ __heap_base, and takes the first mutable i32 global whose initial value is
    // ≤ __heap_base as the stack pointer, trapping writes that leave the stack. That global must be
    // a dedicated stack pointer the firmware never touches, not one of its counters.
    const exported = (name: string) => shape.globals.find((g) => g.exportName === name);
    const heapBase = exported("__heap_base");
    const dataEnd = exported("__data_end");
    expect(heapBase).toMatchObject({ type: "i32", mutable: false });
    expect(dataEnd).toMatchObject({ type: "i32", mutable: false });
    expect(dataEnd!.init).toBeLessThanOrEqual(heapBase!.init);
    const stackPointer = shape.globals.find((g) => g.mutable && g.type === "i32" && g.init <= heapBase!.init);
    expect(stackPointer?.index).toBe(0);
    expect(stackPointer!.init).toBeGreaterThanOrEqual(dataEnd!.init); // an empty stack above the static data
    expect(stackPointer!.init).toBeLessThanOrEqual(heapBase!.init);
    expect(shape.text, "nothing reads or writes the stack pointer").not.toMatch(/\bglobal\.(get|set) 0\b/);
  });

  it("has no start function and no WASI", () => {
    expect(shape.text).not.toMatch(/^\s*\(start /m);
    expect(shape.imports.some((i) => i.module.startsWith("wasi"))).toBe(false);
  });
});
