// Loads a compiled device module (firmware or a test harness) with the strict host environment the
// firmware expects: memory stays the module's own 1-page memory, `abort` raises a readable error.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";

export const deviceBuildDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "device", "build");

/** Decodes an AssemblyScript string (UTF-16LE, byte length stored at ptr - 4) from a module's memory. */
export function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (ptr === 0) return "";
  const bytes = new Uint32Array(memory.buffer.slice(ptr - 4, ptr))[0];
  return Buffer.from(memory.buffer, ptr, bytes).toString("utf16le");
}

export class WasmAbort extends Error {
  override name = "WasmAbort";
}

export interface Harness {
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  bytes(ptr: number, len: number): Uint8Array;
  write(ptr: number, data: Uint8Array): void;
}

/** Instantiates `device/build/<name>.wasm`; extra imports go to module `env` beside abort and log. */
export function loadDeviceModule(name: string, env: Record<string, Function> = {}): Harness {
  const module = new WebAssembly.Module(readFileSync(join(deviceBuildDir, `${name}.wasm`)));
  let memory!: WebAssembly.Memory;
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(msg: number, file: number, line: number, col: number) {
        throw new WasmAbort(`${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}`);
      },
      log() {},
      ...env,
    },
  });
  memory = instance.exports.memory as WebAssembly.Memory;
  return {
    exports: instance.exports as Record<string, any>,
    memory,
    bytes: (ptr, len) => new Uint8Array(memory.buffer, ptr, len).slice(),
    write: (ptr, data) => new Uint8Array(memory.buffer, ptr, data.length).set(data),
  };
}
