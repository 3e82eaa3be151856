// The contract SDK: typed helpers over the host API (env.ts). Byte strings are Uint8Array; ids
// are 16 bytes; integers are little-endian i64 when stored. Everything here is integer-only, so
// a contract built with it passes the VM's no-float rule (gateway/contracts/module-check.ts).
import * as env from "./env";

export const ID_BYTES: i32 = 16;
/** reading_kind values. */
export const KIND_NUMBER: i32 = 0;

/** ASCII bytes of a string (keys, topics and names are ASCII by convention). */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = <u8>s.charCodeAt(i);
  return out;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function i64Bytes(v: i64): Uint8Array {
  const out = new Uint8Array(8);
  store<i64>(out.dataStart, v);
  return out;
}

export function i64At(bytes: Uint8Array, offset: i32): i64 {
  return load<i64>(bytes.dataStart + <usize>offset);
}

export function putI64(bytes: Uint8Array, offset: i32, v: i64): void {
  store<i64>(bytes.dataStart + <usize>offset, v);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
  return true;
}

function id(fill: (ptr: usize) => void): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  fill(out.dataStart);
  return out;
}

// ---- the call --------------------------------------------------------------------------------

export function input(): Uint8Array {
  const out = new Uint8Array(env.input_size());
  env.input_read(out.dataStart);
  return out;
}
export function caller(): Uint8Array { return id(env.caller); }
export function self(): Uint8Array { return id(env.self); }
export function owner(): Uint8Array { return id(env.owner); }
export function value(): i64 { return env.value(); }
export function balance(): i64 { return env.balance(); }
/** Pays `amount` from the contract's balance; false when the balance is short. */
export function transfer(to: Uint8Array, amount: i64): bool { return env.transfer(to.dataStart, amount) == 0; }
export function blockHeight(): i64 { return env.block_height(); }
export function blockTimeMs(): i64 { return env.block_time_ms(); }

// ---- storage (contract-scoped keys in the chain's state tree) --------------------------------

/** The value under `key`, or null. */
export function get(key: Uint8Array, cap: i32 = 1024): Uint8Array | null {
  const buf = new Uint8Array(cap);
  const n = env.storage_read(key.dataStart, key.length, buf.dataStart, cap);
  if (n < 0) return null;
  return n < cap ? buf.subarray(0, n) : buf;
}
export function set(key: Uint8Array, v: Uint8Array): void { env.storage_write(key.dataStart, key.length, v.dataStart, v.length); }
export function remove(key: Uint8Array): void { env.storage_remove(key.dataStart, key.length); }
export function getI64(key: Uint8Array, fallback: i64 = 0): i64 {
  const v = get(key, 8);
  return v === null || v.length < 8 ? fallback : i64At(v, 0);
}
export function setI64(key: Uint8Array, v: i64): void { set(key, i64Bytes(v)); }

// ---- events ----------------------------------------------------------------------------------

export function emit(topic: string, data: Uint8Array): void {
  const t = ascii(topic);
  env.emit(t.dataStart, t.length, data.dataStart, data.length);
}

// ---- the reading that triggered the run ------------------------------------------------------

export function readingDevice(): Uint8Array { return id(env.reading_device); }
export function readingOwner(): Uint8Array { return id(env.reading_owner); }
export function readingSequence(): i64 { return env.reading_sequence(); }
export function readingReceivedMs(): i64 { return env.reading_received_ms(); }
/** Index of the first record named `name`, or -1. */
export function findRecord(name: string): i32 {
  const n = ascii(name);
  return env.reading_find(n.dataStart, n.length);
}
/** Whether record `i` holds a number the host could express in milli-units. */
export function isNumber(i: i32): bool { return env.reading_kind(i) == KIND_NUMBER; }
/** Record `i`'s value in milli-units (21.5 °C is 21500). */
export function milli(i: i32): i64 { return env.reading_value(i); }
