// The host API: every function a contract may import, all from module "env", all over i32/i64.
// This table is the contract ABI: module-check.ts refuses any other import or signature, the
// runner (runner.ts) implements exactly these, and sdk/env.ts declares them for AssemblyScript.
// Pointers are offsets into the contract's own linear memory; ids are 16 bytes, hashes 32.
// Amounts and times are i64; reading values are i64 milli-units (value × 1000, rounded to the
// nearest integer, ties away from zero: reading-values.ts) so a contract never sees a float.

export type WasmInt = "i32" | "i64";
export interface HostSignature {
  params: WasmInt[];
  results: WasmInt[];
}

const sig = (params: WasmInt[], results: WasmInt[] = []): HostSignature => ({ params, results });

export const hostApi = {
  /** AssemblyScript's abort(message, file, line, column): stops the run with CONTRACT_ABORT. */
  abort: sig(["i32", "i32", "i32", "i32"]),
  /** Size of the call's input, then copy it to ptr. A reading-triggered run has no input. */
  input_size: sig([], ["i32"]),
  input_read: sig(["i32"]),
  /** 16-byte ids: the transaction's author (zeros in a reading run), this contract, its deployer. */
  caller: sig(["i32"]),
  self: sig(["i32"]),
  owner: sig(["i32"]),
  /** Tokens the call transferred to the contract before it ran (0 in a reading run). */
  value: sig([], ["i64"]),
  /** The contract's balance. */
  balance: sig([], ["i64"]),
  /** transfer(to ptr, amount): 0 done, 1 the balance is short, 2 amount ≤ 0. */
  transfer: sig(["i32", "i64"], ["i32"]),
  /** The block being applied: height, header time, the parent block's hash (32 bytes to ptr). */
  block_height: sig([], ["i64"]),
  block_time_ms: sig([], ["i64"]),
  block_parent_hash: sig(["i32"]),
  /** storage_read(key, keyLen, out, cap): the value's length (copies min(length, cap)), or -1. */
  storage_read: sig(["i32", "i32", "i32", "i32"], ["i32"]),
  storage_write: sig(["i32", "i32", "i32", "i32"]),
  storage_remove: sig(["i32", "i32"]),
  /** emit(topic, topicLen, data, dataLen): an event, in the transaction's result and the index. */
  emit: sig(["i32", "i32", "i32", "i32"]),
  /** The reading that triggered the run (traps in a call): device id and owner (16 bytes to ptr). */
  reading_device: sig(["i32"]),
  reading_owner: sig(["i32"]),
  reading_sequence: sig([], ["i64"]),
  reading_received_ms: sig([], ["i64"]),
  /** SenML records of the reading (resolved, RFC 8428 §4.6). */
  reading_records: sig([], ["i32"]),
  /** Index of the first record named so (bytes at ptr), or -1. */
  reading_find: sig(["i32", "i32"], ["i32"]),
  /** reading_name(i, out, cap): the name's length (copies min(length, cap)). */
  reading_name: sig(["i32", "i32", "i32"], ["i32"]),
  /** 0 a number, 1 text, 2 boolean, 3 a number that is not finite or beyond i64 milli-units. */
  reading_kind: sig(["i32"], ["i32"]),
  /** A numeric record's value in milli-units (0 for other kinds); a boolean is 0 or 1. */
  reading_value: sig(["i32"], ["i64"]),
  /** reading_metadata(key, keyLen, out, cap): the device's metadata value's length, or -1. */
  reading_metadata: sig(["i32", "i32", "i32", "i32"], ["i32"]),
} as const satisfies Record<string, HostSignature>;

export type HostFunctionName = keyof typeof hostApi;
export const hostModule = "env";

export function isHostFunction(name: string): name is HostFunctionName {
  return Object.hasOwn(hostApi, name);
}

/** The export a reading-triggered run calls. */
export const readingEntry = "on_reading";
/** If exported, called at the start of every run, metered (AssemblyScript's --exportStart). */
export const initializeEntry = "_initialize";
/** Names the instrumenter adds; a module may not define them itself. */
export const reservedPrefix = "__mote";
