// WebAssembly text → binary for the hostile-module and gas tests (wabt, a dev dependency).
import wabtInit from "wabt";

const wabt = await wabtInit();

/** Assembles WAT with every feature wabt knows, so tests can write modules the VM must refuse. */
export function wat(text: string): Uint8Array {
  const features = { simd: true, threads: true, bulk_memory: true, sat_float_to_int: true, sign_extension: true, mutable_globals: true, reference_types: true, multi_value: true, tail_call: true };
  const m = wabt.parseWat("contract.wat", text, features);
  try {
    // No wabt validation: some hostile modules are ones wabt would refuse; V8 validates at deploy.
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...leb(body.length), ...body];
}

/**
 * A module whose exported "run" nests `depth` empty blocks, written byte by byte (WebAssembly core
 * spec §5.5): wabt's text parser cannot nest that deep, which is the point of the test.
 */
export function nestedBlocks(depth: number): Uint8Array {
  const body = [0x00, ...Array(depth).fill([0x02, 0x40]).flat(), ...Array(depth).fill(0x0b), 0x0b];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x00, 0x00]),
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x01, 0x01, 0x01]),
    ...section(7, [0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00]),
    ...section(10, [0x01, ...leb(body.length), ...body]),
  ]);
}
