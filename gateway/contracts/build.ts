// Builds a contract from AssemblyScript (contracts/sdk, contracts/examples) with the options the
// VM requires: the stub runtime (no GC: a run's instance lives for one call), a memory maximum of
// memoryPagesMax pages, no bulk memory and no float-to-int conversions, optimised. The output is
// checked and instrumented as a deploy would be, so a build that succeeds deploys. Top-level
// initialisers become the export `_initialize` (not a start section), which each run calls first.
import asc from "assemblyscript/asc";
import { paramsDefault } from "../chain/params.ts";
import { contractVmReady } from "./binaryen.ts";
import { compileContract } from "./compile.ts";
import { gasScheduleOf } from "./instrument.ts";
import { memoryPagesMax } from "./limits.ts";

export const ascOptions = ["--runtime", "stub", "--initialMemory", "1", "--maximumMemory", String(memoryPagesMax), "--disable", "bulk-memory,nontrapping-f2i", "-O3", "--noExportMemory", "--exportStart", "_initialize"];

export interface BuiltContract {
  code: Uint8Array;
  /** Exported functions: methods a transaction can call, and on_reading. */
  functions: string[];
}

/** Compiles `entry` (an AssemblyScript file); throws with the compiler's messages on failure. */
export async function buildContract(entry: string): Promise<BuiltContract> {
  let code: Uint8Array | undefined;
  const stderr: string[] = [];
  const { error } = await asc.main([entry, "--outFile", "contract.wasm", ...ascOptions], {
    writeFile: (name: string, contents: Uint8Array | string) => {
      if (name.endsWith(".wasm") && contents instanceof Uint8Array) code = contents;
    },
    stdout: { write: () => true } as never,
    stderr: { write: (s: string) => (stderr.push(String(s)), true) } as never,
  });
  if (error || !code) throw new Error(`asc could not build ${entry}: ${error?.message ?? "no output"}\n${stderr.join("")}`);
  await contractVmReady();
  const compiled = compileContract(code, gasScheduleOf(paramsDefault));
  return { code, functions: [...compiled.functions].sort() };
}
