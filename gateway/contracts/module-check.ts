// Deploy-time validation: a module is accepted only if its execution is deterministic and bounded
// by construction. The rules (each refusal names the one it breaks):
//
//   form      at most codeBytesMax bytes; valid WebAssembly (V8's own validator)
//   imports   functions only, from "env", each named in host-api.ts with exactly its signature;
//             no imported memory, table or global (nothing the host does not control)
//   numbers   i32 and i64 only: no f32/f64 anywhere (types, locals, globals, instructions), so
//             there is no NaN to canonicalise and no rounding mode to agree on; no v128 (SIMD)
//   features  the MVP instruction set plus sign extension and mutable globals, as an allowlist
//             of Binaryen expression kinds: no atomics or shared memory (threads), no bulk memory,
//             no reference types, tail calls, exceptions or GC
//   bounds    one memory, not shared, declaring a maximum ≤ memoryPagesMax; at most one table of
//             ≤ tableSizeMax entries; no start function (a run starts at an export, metered);
//             locals, expression nesting, functions, globals and exports under limits.ts
import { binaryen, type Binaryen, type BinaryenModule } from "./binaryen.ts";
import { ContractCodeError } from "./errors.ts";
import { hostApi, hostModule, isHostFunction, reservedPrefix, type WasmInt } from "./host-api.ts";
import * as limits from "./limits.ts";

function refuse(message: string): never {
  throw new ContractCodeError(message);
}

let B: Binaryen;
let intTypes: Map<number, WasmInt>;
/** Types an expression may have: integers, nothing, or "does not return" (after br/return/unreachable). */
let expressionTypes: Set<number>;

function init(): void {
  if (B) return;
  B = binaryen();
  intTypes = new Map<number, WasmInt>([
    [B.i32, "i32"],
    [B.i64, "i64"],
  ]);
  expressionTypes = new Set<number>([B.i32, B.i64, B.none, B.unreachable]);
}

/** Checks what V8 can tell without Binaryen: form, size, import and export kinds and names. */
export function checkEnvelope(bytes: Uint8Array): void {
  if (bytes.length > limits.codeBytesMax) refuse(`the module is ${bytes.length} bytes; contracts are limited to ${limits.codeBytesMax}`);
  if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) refuse("the bytes are not a valid WebAssembly module");
  const compiled = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  for (const i of WebAssembly.Module.imports(compiled)) {
    if (i.kind !== "function") refuse(`import ${i.module}.${i.name} is a ${i.kind}; contracts import functions only`);
    if (i.module !== hostModule || !isHostFunction(i.name)) refuse(`import ${i.module}.${i.name} is not in the host API (module "env": ${Object.keys(hostApi).join(", ")})`);
  }
  const exports = WebAssembly.Module.exports(compiled);
  if (exports.length > limits.exportsMax) refuse(`the module has ${exports.length} exports; at most ${limits.exportsMax}`);
  for (const e of exports) {
    if (e.name.startsWith(reservedPrefix)) refuse(`export "${e.name}" uses the reserved prefix ${reservedPrefix}`);
    if (e.kind !== "function" && e.kind !== "memory") refuse(`export "${e.name}" is a ${e.kind}; contracts export functions and their memory only`);
  }
}

function typeList(t: number, what: string): WasmInt[] {
  return B.expandType(t).map((x) => intTypes.get(x) ?? refuse(`${what} has a type other than i32/i64 (floats, SIMD and references are refused)`));
}

function sameInts(a: readonly WasmInt[], b: readonly WasmInt[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Children of an expression of an allowed kind; refuses every other kind. */
function children(e: number): number[] {
  const id = B.getExpressionId(e);
  // Binaryen's getExpressionInfo has no wrapper for these two (they have no operands).
  if (id === B.NopId || id === B.UnreachableId) return [];
  const info = B.getExpressionInfo(e) as unknown as Record<string, unknown> & { id: number };
  const refs = (...xs: unknown[]): number[] => xs.filter((x): x is number => typeof x === "number" && x !== 0);
  switch (info.id) {
    case B.BlockId:
      return refs(...(info.children as number[]));
    case B.IfId:
      return refs(info.condition, info.ifTrue, info.ifFalse);
    case B.LoopId:
      return refs(info.body);
    case B.BreakId:
    case B.SwitchId:
      return refs(info.condition, info.value);
    case B.CallId:
    case B.CallIndirectId:
      if (info.isReturn) refuse("tail calls are refused");
      return refs(info.target, ...(info.operands as number[]));
    case B.LocalSetId:
    case B.GlobalSetId:
    case B.DropId:
    case B.ReturnId:
    case B.UnaryId:
      return refs(info.value);
    case B.LoadId:
      if (info.isAtomic) refuse("atomic memory access (threads) is refused");
      return refs(info.ptr);
    case B.StoreId:
      if (info.isAtomic) refuse("atomic memory access (threads) is refused");
      return refs(info.ptr, info.value);
    case B.BinaryId:
      return refs(info.left, info.right);
    case B.SelectId:
      return refs(info.ifTrue, info.ifFalse, info.condition);
    case B.MemoryGrowId:
      return refs(info.delta);
    case B.LocalGetId:
    case B.GlobalGetId:
    case B.ConstId:
    case B.MemorySizeId:
    case B.NopId:
    case B.UnreachableId:
      return [];
    default:
      return refuse(`instruction kind ${info.id} is outside the allowed set (MVP integer instructions, sign extension, mutable globals)`);
  }
}

/** Walks a function body: allowed kinds, integer types only, bounded nesting. */
function checkBody(root: number, fn: string): void {
  const stack: { e: number; depth: number }[] = [{ e: root, depth: 1 }];
  while (stack.length) {
    const { e, depth } = stack.pop()!;
    if (depth > limits.expressionDepthMax) refuse(`function ${fn} nests expressions deeper than ${limits.expressionDepthMax}`);
    if (!expressionTypes.has(B.getExpressionType(e))) refuse(`function ${fn} uses a float, SIMD or reference value (only i32/i64 are deterministic here)`);
    // A call_indirect's signature needs no check of its own: a float parameter would need a float
    // operand, a float result would give the call a float type, and both are refused here.
    for (const c of children(e)) stack.push({ e: c, depth: depth + 1 });
  }
}

/** Checks a Binaryen module read from a module that passed checkEnvelope. */
export function checkModule(m: BinaryenModule): void {
  init();
  if (m.getStart() !== 0) refuse("a start function is refused: every run begins at an export, under gas");
  if (!m.hasMemory()) refuse("the module has no memory; compile with a memory of at most 16 pages");
  const mem = m.getMemoryInfo();
  if (mem.shared) refuse("shared memory (threads) is refused");
  if (mem.is64) refuse("64-bit memory is refused");
  if (mem.max === undefined || mem.max > limits.memoryPagesMax) refuse(`memory must declare a maximum of at most ${limits.memoryPagesMax} pages (asc --maximumMemory ${limits.memoryPagesMax})`);
  if (mem.initial > mem.max) refuse("memory's initial size exceeds its maximum");
  if (m.getNumTables() > 1) refuse("at most one table");
  for (let i = 0; i < m.getNumTables(); i++) {
    const t = B.getTableInfo(m.getTableByIndex(i));
    if (t.initial > limits.tableSizeMax || (t.max !== undefined && t.max > limits.tableSizeMax)) refuse(`the table may hold at most ${limits.tableSizeMax} entries`);
  }
  if (m.getNumGlobals() > limits.globalsMax) refuse(`at most ${limits.globalsMax} globals`);
  for (let i = 0; i < m.getNumGlobals(); i++) {
    const g = B.getGlobalInfo(m.getGlobalByIndex(i));
    if (g.name.startsWith(reservedPrefix)) refuse(`global ${g.name} uses the reserved prefix ${reservedPrefix}`);
    typeList(g.type, `global ${g.name}`);
  }
  if (m.getNumFunctions() > limits.functionsMax) refuse(`at most ${limits.functionsMax} functions`);
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = B.getFunctionInfo(m.getFunctionByIndex(i));
    const params = typeList(f.params, `function ${f.name}`);
    const results = typeList(f.results, `function ${f.name}`);
    if (results.length > 1) refuse(`function ${f.name} returns several values (multi-value is refused)`);
    if (f.name.startsWith(reservedPrefix)) refuse(`function ${f.name} uses the reserved prefix ${reservedPrefix}`);
    if (f.module) {
      const api = hostApi[f.base as keyof typeof hostApi];
      if (f.module !== hostModule || !api) refuse(`import ${f.module}.${f.base} is not in the host API`);
      if (!sameInts(params, api.params) || !sameInts(results, api.results)) {
        refuse(`import env.${f.base} must have the signature (${api.params.join(", ")}) -> (${api.results.join(", ")})`);
      }
      continue;
    }
    f.vars.forEach((v) => typeList(v, `a local of ${f.name}`));
    if (params.length + f.vars.length > limits.functionLocalsMax) refuse(`function ${f.name} has ${params.length + f.vars.length} locals; at most ${limits.functionLocalsMax}`);
    checkBody(f.body, f.name);
  }
}
