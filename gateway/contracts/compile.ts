// From deployed bytes to a runnable WebAssembly.Module: check (module-check.ts), instrument
// (instrument.ts) with the gas schedule in force, compile with V8. Deploy runs it once to refuse
// a bad module; runs take it from a cache keyed by (code hash, metering costs), so a schedule
// change by governance re-instruments each contract once, lazily.
import { sha256, toHex } from "../../shared/ed25519.ts";
import { binaryen, type BinaryenModule } from "./binaryen.ts";
import { ContractCodeError } from "./errors.ts";
import { readingEntry } from "./host-api.ts";
import { instrument, meteringKey, type GasSchedule } from "./instrument.ts";
import { checkEnvelope, checkModule } from "./module-check.ts";
import { stripCustomSections } from "./wasm-sections.ts";

export interface CompiledContract {
  codeHash: Uint8Array;
  module: WebAssembly.Module;
  /** Functions the contract exports (callable methods, and on_reading if it takes readings). */
  functions: Set<string>;
  /** Export name of its memory (the module's own, or the one instrument.ts added). */
  memoryName: string;
  /** Pages the memory starts with (charged per run). */
  initialPages: number;
  /** Bytes of the instrumented module (for tests and `mote contract build --instrumented`). */
  instrumented: Uint8Array;
}

export function codeHashOf(code: Uint8Array): Uint8Array {
  return sha256(code);
}

/** Checks and instruments `code`; throws ContractCodeError with the rule a module breaks. */
export function compileContract(code: Uint8Array, schedule: GasSchedule): CompiledContract {
  checkEnvelope(code);
  const original = new WebAssembly.Module(code as Uint8Array<ArrayBuffer>);
  const exports = WebAssembly.Module.exports(original);
  const functions = new Set(exports.filter((e) => e.kind === "function").map((e) => e.name));
  const ownMemory = exports.find((e) => e.kind === "memory")?.name;
  const B = binaryen();
  let m: BinaryenModule;
  try {
    m = B.readBinary(stripCustomSections(code));
  } catch (e) {
    throw new ContractCodeError(`the module cannot be read for instrumentation: ${(e as Error).message}`);
  }
  let instrumented: Uint8Array;
  let initialPages: number;
  try {
    checkModule(m);
    initialPages = m.getMemoryInfo().initial;
    instrumented = instrument(m, schedule, ownMemory !== undefined);
  } finally {
    m.dispose();
  }
  const module = new WebAssembly.Module(instrumented as Uint8Array<ArrayBuffer>);
  try {
    // Instantiation with inert imports checks what validation cannot: data and element segments
    // fit their memory and table. Nothing runs (there is no start function).
    new WebAssembly.Instance(module, { env: inertImports(module) });
  } catch (e) {
    throw new ContractCodeError(`the module does not instantiate: ${(e as Error).message}`);
  }
  return { codeHash: codeHashOf(code), module, functions, memoryName: ownMemory ?? "__mote_memory", initialPages, instrumented };
}

function inertImports(module: WebAssembly.Module): Record<string, () => never> {
  const out: Record<string, () => never> = {};
  for (const i of WebAssembly.Module.imports(module)) {
    out[i.name] = () => {
      throw new Error("not callable during the deploy check");
    };
  }
  return out;
}

/** Whether a compiled contract can take readings. */
export function takesReadings(c: CompiledContract): boolean {
  return c.functions.has(readingEntry);
}

/** Compiled contracts by (code hash, metering costs); bounded, oldest dropped first. */
export class ContractCache {
  private readonly entries = new Map<string, CompiledContract>();
  constructor(private readonly entriesMax = 256) {}

  get(code: Uint8Array, codeHash: Uint8Array, schedule: GasSchedule): CompiledContract {
    const key = `${toHex(codeHash)}/${meteringKey(schedule)}`;
    const hit = this.entries.get(key);
    if (hit) return hit;
    const compiled = compileContract(code, schedule);
    if (this.entries.size >= this.entriesMax) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, compiled);
    return compiled;
  }
}

export const sharedContractCache = new ContractCache();

export { ContractCodeError };
