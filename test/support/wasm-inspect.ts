// Reads a WebAssembly binary's shape with an implementation nobody here wrote (wabt): its imports,
// exports, memory limits, and whether it validates with only the features WAMR's interpreter takes.
import wabtInit from "wabt";

export interface ModuleShape {
  imports: { module: string; name: string; signature: string }[];
  exports: { name: string; kind: string; signature?: string }[];
  memory: { initial: number; maximum: number | undefined; exported: boolean } | undefined;
  /** Defined globals in index order, with their constant initial values and export names. */
  globals: { index: number; type: string; mutable: boolean; init: bigint; exportName?: string }[];
  text: string;
}

/** Features the firmware may use (BRIEF §4): everything else must fail validation. */
export const allowedFeatures = {
  exceptions: false,
  mutable_globals: true,
  sat_float_to_int: false,
  sign_extension: true,
  simd: false,
  threads: false,
  function_references: false,
  multi_value: false,
  tail_call: false,
  bulk_memory: true,
  reference_types: false,
  annotations: false,
  code_metadata: false,
  gc: false,
  memory64: false,
  extended_const: false,
  relaxed_simd: false,
  multi_memory: false,
};

/** Parses and validates with only the allowed features; throws if the module needs any other. */
export async function inspectModule(bytes: Uint8Array): Promise<ModuleShape> {
  const wabt = await wabtInit();
  const mod = wabt.readWasm(bytes, { readDebugNames: false, ...allowedFeatures });
  try {
    mod.validate();
    const text = mod.toText({ foldExprs: false, inlineExport: false });
    return { ...shapeFromText(text), text };
  } finally {
    mod.destroy();
  }
}

function signatureOf(types: Map<string, string>, rest: string): string {
  const typeRef = /\(type (\d+|\$[\w.]+)\)/.exec(rest);
  if (typeRef) return types.get(typeRef[1]) ?? "?";
  return normalise(rest);
}

function normalise(fn: string): string {
  const params = [...fn.matchAll(/\(param((?: [a-z0-9]+)+)\)/g)].flatMap((m) => m[1].trim().split(/\s+/));
  const results = [...fn.matchAll(/\(result((?: [a-z0-9]+)+)\)/g)].flatMap((m) => m[1].trim().split(/\s+/));
  return `(${params.join(", ")}) -> ${results.length ? results.join(", ") : "void"}`;
}

function shapeFromText(text: string): Omit<ModuleShape, "text"> {
  const types = new Map<string, string>();
  let typeIndex = 0;
  for (const m of text.matchAll(/^\s*\(type (?:(\$[\w.]+) )?\(;(\d+);\)\s*\(func([^\n]*)\)\)\s*$/gm)) {
    types.set(m[2], normalise(m[3]));
    if (m[1]) types.set(m[1], normalise(m[3]));
    typeIndex++;
  }
  for (const m of text.matchAll(/^\s*\(type \(;(\d+);\) \(func([^\n]*)\)\)$/gm)) types.set(m[1], normalise(m[2]));
  const funcTypes = new Map<string, string>();
  const imports = [...text.matchAll(/^\s*\(import "([^"]+)" "([^"]+)" \(func (?:\$[\w.]+ )?\(;(\d+);\)([^\n]*)\)\)$/gm)].map((m) => {
    const signature = signatureOf(types, m[4]);
    funcTypes.set(m[3], signature);
    return { module: m[1], name: m[2], signature };
  });
  for (const m of text.matchAll(/^\s*\(func (?:\$[\w.]+ )?\(;(\d+);\)([^\n]*)$/gm)) funcTypes.set(m[1], signatureOf(types, m[2]));
  const exports = [...text.matchAll(/^\s*\(export "([^"]+)" \((func|memory|global|table) (\d+)\)\)$/gm)].map((m) => ({
    name: m[1],
    kind: m[2],
    signature: m[2] === "func" ? funcTypes.get(m[3]) : undefined,
  }));
  const mem = /^\s*\(memory \(;0;\) (\d+)(?: (\d+))?\)$/m.exec(text);
  const exportedGlobals = new Map([...text.matchAll(/^\s*\(export "([^"]+)" \(global (\d+)\)\)$/gm)].map((m) => [Number(m[2]), m[1]]));
  const globals = [...text.matchAll(/^\s*\(global (?:\$[\w.$/~]+ )?\(;(\d+);\) (\(mut (\w+)\)|\w+) \((\w+)\.const (-?\d+)\)\)$/gm)].map((m) => ({
    index: Number(m[1]),
    type: m[3] ?? m[2],
    mutable: m[3] !== undefined,
    init: BigInt(m[5]),
    exportName: exportedGlobals.get(Number(m[1])),
  }));
  void typeIndex;
  return {
    imports,
    exports,
    globals,
    memory: mem ? { initial: Number(mem[1]), maximum: mem[2] === undefined ? undefined : Number(mem[2]), exported: exports.some((e) => e.kind === "memory") } : undefined,
  };
}
