// The Block1/Block2 option value (RFC 7959 §2.2): NUM (block number), M (more blocks follow) and SZX
// (block size 2^(SZX+4), 16..1024 bytes; SZX 7 is reserved), as a 0-3 byte unsigned integer
// NUM << 4 | M << 3 | SZX. Pure codec.
import { CoapFormatError } from "./message.ts";

export interface BlockOption {
  num: number;
  more: boolean;
  /** Block size exponent: size = 2 ** (szx + 4). */
  szx: number;
}

/** NUM fits 20 bits (§2.2: the option is at most 3 bytes). */
export const blockNumMax = 2 ** 20 - 1;

export const blockBytes = (szx: number): number => 2 ** (szx + 4);

/** SZX of a block size (16, 32, ... 1024). */
export function szxOf(bytes: number): number {
  const szx = Math.log2(bytes) - 4;
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) throw new RangeError(`block size ${bytes} is not a power of two in 16..1024`);
  return szx;
}

export function encodeBlockOption(b: BlockOption): Buffer {
  if (!Number.isInteger(b.num) || b.num < 0 || b.num > blockNumMax) throw new RangeError(`block number ${b.num} out of range`);
  if (!Number.isInteger(b.szx) || b.szx < 0 || b.szx > 6) throw new RangeError(`SZX ${b.szx} out of range`);
  const v = b.num * 16 + (b.more ? 8 : 0) + b.szx;
  if (v === 0) return Buffer.alloc(0); // §3.2 uint: zero is the empty value
  const bytes: number[] = [];
  for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
  return Buffer.from(bytes);
}

export function decodeBlockOption(value: Uint8Array): BlockOption {
  if (value.length > 3) throw new CoapFormatError(`block option is ${value.length} bytes; at most 3`);
  const v = value.reduce((acc, x) => acc * 256 + x, 0);
  const szx = v & 7;
  if (szx === 7) throw new CoapFormatError("block option SZX 7 is reserved");
  return { num: Math.floor(v / 16), more: (v & 8) !== 0, szx };
}
