// The few facts about a WebAssembly binary we need before handing it to Binaryen, read from the
// section headers alone (WebAssembly core spec §5.5.2: magic, version, then sections of
// id:byte size:u32(LEB128) contents). Custom sections (id 0: names, producers, source maps) carry
// nothing a contract needs and are dropped: they are not validated by engines, so they are the
// one part of a module Binaryen would be the first to parse.
import { ContractCodeError } from "./errors.ts";

function readLeb(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = at; i < bytes.length && i < at + 5; i++) {
    value += (bytes[i] & 0x7f) * 2 ** shift;
    if ((bytes[i] & 0x80) === 0) return { value, next: i + 1 };
    shift += 7;
  }
  throw new ContractCodeError("a section size is not a valid LEB128 u32");
}

/** The module without its custom sections. The input must already have passed WebAssembly.validate. */
export function stripCustomSections(bytes: Uint8Array): Uint8Array {
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const { value: size, next } = readLeb(bytes, at + 1);
    const end = next + size;
    if (end > bytes.length) throw new ContractCodeError("a section runs past the end of the module");
    if (id !== 0) kept.push(bytes.subarray(at, end));
    at = end;
  }
  return Buffer.concat(kept);
}
