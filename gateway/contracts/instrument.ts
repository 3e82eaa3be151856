// Gas and call-depth instrumentation, applied by every node to a module that passed
// module-check.ts, with the gas schedule in force (gateway/chain/params.ts). The result is a
// deterministic function of (code, schedule, this file, the pinned Binaryen version), so every
// validator runs the same instructions and charges the same gas.
//
// Gas: the module gets a mutable i64 global `__mote_gas`, set by the runner to the run's limit.
// Every metered region subtracts its cost on entry and traps once the global is below zero:
//
//   region   = a function body, a loop body (charged again on each iteration: a branch to a loop
//              re-enters its body), or an arm of an if
//   cost     = gasPerRegion + gasPerInstruction × (instructions of the region outside its nested
//              loops and if arms, which are regions of their own)
//
// A region is charged whole on entry, so a branch out of its middle over-charges and never
// under-charges: executed instructions ≤ gas used / gasPerInstruction. Host calls charge on top
// (runner.ts); memory is bounded by the declared maximum (≤ memoryPagesMax) and charged per page.
//
// Depth: every defined function f becomes a prologue that counts the call in `__mote_depth`
// (trap, with `__mote_fault` = 1, beyond callDepthMax), calls f's original body (now a function
// of its own) and uncounts on return. Calls, exports and table entries still name f, so every
// way into a function passes the prologue. A trap ends the run and the instance is discarded,
// so a missed decrement on a trapping path is never observed.
import type { ChainParams } from "../chain/params.ts";
import { binaryen, type BinaryenModule } from "./binaryen.ts";
import { reservedPrefix } from "./host-api.ts";
import { callDepthMax } from "./limits.ts";

export const gasGlobal = `${reservedPrefix}_gas`;
export const faultGlobal = `${reservedPrefix}_fault`;
export const memoryExport = `${reservedPrefix}_memory`;
const depthGlobal = `${reservedPrefix}_depth`;
/** `__mote_fault` values. */
export const faultCallDepth = 1;

export type GasSchedule = Pick<ChainParams, "gasPerRegion" | "gasPerInstruction" | "gasPerHostCall" | "gasPerByteStored" | "gasPerByteCopied" | "gasPerMemoryPage">;

export function gasScheduleOf(p: ChainParams): GasSchedule {
  return {
    gasPerRegion: p.gasPerRegion,
    gasPerInstruction: p.gasPerInstruction,
    gasPerHostCall: p.gasPerHostCall,
    gasPerByteStored: p.gasPerByteStored,
    gasPerByteCopied: p.gasPerByteCopied,
    gasPerMemoryPage: p.gasPerMemoryPage,
  };
}

/** Cache key part: instrumented code depends on these two costs only. */
export function meteringKey(s: GasSchedule): string {
  return `${s.gasPerRegion}/${s.gasPerInstruction}`;
}

// Binaryen 131 takes a bigint for i64.const; its typings still say (low, high).
const i64 = (m: BinaryenModule, v: bigint): number => (m.i64.const as unknown as (v: bigint) => number)(v);

class Meter {
  constructor(
    private readonly m: BinaryenModule,
    private readonly s: GasSchedule,
  ) {}

  private readonly B = binaryen();

  /** `gas -= cost; if (gas < 0) unreachable` */
  private charge(instructions: number): number {
    const m = this.m;
    const B = this.B;
    const cost = this.s.gasPerRegion + this.s.gasPerInstruction * instructions;
    return m.block(null, [
      m.global.set(gasGlobal, m.i64.sub(m.global.get(gasGlobal, B.i64), i64(m, BigInt(cost)))),
      m.if(m.i64.lt_s(m.global.get(gasGlobal, B.i64), i64(m, 0n)), m.unreachable()),
    ]);
  }

  /** `expr` prefixed with its region's charge. */
  region(expr: number): number {
    const B = this.B;
    const n = this.count(expr);
    return this.m.block(null, [this.charge(n), expr], B.getExpressionType(expr));
  }

  /**
   * Instructions of `expr` in the current region; nested loop bodies and if arms are metered as
   * regions of their own (rewritten in place). Recursion depth is bounded by module-check.ts.
   */
  private count(expr: number): number {
    const B = this.B;
    const id = B.getExpressionId(expr);
    if (id === B.LoopId) {
      B.Loop.setBody(expr, this.region(B.Loop.getBody(expr)));
      return 1;
    }
    if (id === B.IfId) {
      B.If.setIfTrue(expr, this.region(B.If.getIfTrue(expr)));
      const ifFalse = B.If.getIfFalse(expr);
      if (ifFalse !== 0) B.If.setIfFalse(expr, this.region(ifFalse));
      return 1 + this.count(B.If.getCondition(expr));
    }
    let n = 1;
    for (const c of childrenOf(expr)) n += this.count(c);
    return n;
  }
}

/** Children of an allowed expression kind (module-check.ts refused the others). */
function childrenOf(e: number): number[] {
  const B = binaryen();
  // No operands. (Binaryen's getExpressionInfo has no wrapper for nop and unreachable, and a
  // const's `value` is its number, not an operand.)
  const id = B.getExpressionId(e);
  if (id === B.NopId || id === B.UnreachableId || id === B.ConstId || id === B.LocalGetId || id === B.GlobalGetId || id === B.MemorySizeId) return [];
  const info = B.getExpressionInfo(e) as unknown as Record<string, unknown>;
  const out: number[] = [];
  for (const key of ["children", "operands"]) for (const c of (info[key] as number[] | undefined) ?? []) if (c) out.push(c);
  for (const key of ["target", "condition", "value", "ptr", "left", "right", "ifTrue", "ifFalse", "delta", "body"]) {
    const c = info[key];
    if (typeof c === "number" && c !== 0) out.push(c);
  }
  return out;
}

/** Wraps defined function `name` in the depth-counting prologue (see the header). */
function addDepthPrologue(m: BinaryenModule, fn: number, index: number): void {
  const B = binaryen();
  const info = B.getFunctionInfo(fn);
  const inner = `${reservedPrefix}_body_${index}`;
  m.addFunction(inner, info.params, info.results, info.vars, m.copyExpression(info.body));
  m.removeFunction(info.name);
  const params = B.expandType(info.params);
  const args = params.map((t, i) => m.local.get(i, t));
  const depth = () => m.global.get(depthGlobal, B.i32);
  const enter = [
    m.global.set(depthGlobal, m.i32.add(depth(), m.i32.const(1))),
    m.if(m.i32.gt_u(depth(), m.i32.const(callDepthMax)), m.block(null, [m.global.set(faultGlobal, m.i32.const(faultCallDepth)), m.unreachable()])),
  ];
  const leave = m.global.set(depthGlobal, m.i32.sub(depth(), m.i32.const(1)));
  const call = m.call(inner, args, info.results);
  if (info.results === B.none) {
    m.addFunction(info.name, info.params, info.results, [], m.block(null, [...enter, call, leave]));
  } else {
    const tmp = params.length;
    m.addFunction(info.name, info.params, info.results, [info.results], m.block(null, [...enter, m.local.set(tmp, call), leave, m.local.get(tmp, info.results)], info.results));
  }
}

/**
 * Instruments a checked module in place and returns its binary. `memoryExported` says whether the
 * module exports its memory already; if not, it is exported as `__mote_memory` for the host.
 */
export function instrument(m: BinaryenModule, schedule: GasSchedule, memoryExported: boolean): Uint8Array {
  const B = binaryen();
  const meter = new Meter(m, schedule);
  const defined: number[] = [];
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const f = m.getFunctionByIndex(i);
    if (!B.getFunctionInfo(f).module) defined.push(f); // "" or null: defined here, not imported
  }
  m.addGlobal(gasGlobal, B.i64, true, i64(m, 0n));
  m.addGlobal(depthGlobal, B.i32, true, m.i32.const(0));
  m.addGlobal(faultGlobal, B.i32, true, m.i32.const(0));
  m.addGlobalExport(gasGlobal, gasGlobal);
  m.addGlobalExport(faultGlobal, faultGlobal);
  for (const f of defined) B.Function.setBody(f, meter.region(B.Function.getBody(f)));
  // Names first: adding and removing functions while indexing them would shift the indexes.
  defined.forEach((f, i) => addDepthPrologue(m, f, i));
  if (!memoryExported) m.addMemoryExport("0", memoryExport);
  m.setFeatures(B.Features.MVP | B.Features.MutableGlobals | B.Features.SignExt);
  if (!m.validate()) throw new Error("instrumented module does not validate (an instrumenter bug)");
  return m.emitBinary();
}
