// Strict CoAP message parsing (RFC 7252 §3) in front of the `coap` package, whose parser is lenient
// (it reads past the end of a truncated option, accepts reserved token lengths, an empty payload
// after the marker and option numbers past 65,535). Everything that fails here is a message format
// error: per §4.2/§4.3 a confirmable one is rejected with a Reset, anything else is silently
// dropped. Pure, no I/O.
import { randomInt } from "node:crypto";

export const TYPE_CON = 0;
export const TYPE_NON = 1;
export const TYPE_ACK = 2;
export const TYPE_RST = 3;

/** Request method codes (§12.1.1): 0.01 GET, 0.02 POST, 0.03 PUT, 0.04 DELETE. */
export const METHOD_GET = 1;
export const METHOD_POST = 2;
export const METHOD_PUT = 3;

export const option = {
  ifMatch: 1,
  uriHost: 3,
  etag: 4,
  ifNoneMatch: 5,
  observe: 6,
  uriPort: 7,
  uriPath: 11,
  contentFormat: 12,
  maxAge: 14,
  uriQuery: 15,
  accept: 17,
  block2: 23,
  block1: 27,
  size2: 28,
  proxyUri: 35,
  proxyScheme: 39,
  size1: 60,
  noResponse: 258,
  /**
   * Short-Kid: a gateway's 2.01 to a compact reading signed under the long kid tells the device its
   * short kid (shared/short-kid.ts). A number from the experimental range (RFC 7252 §12.2, 65000-65535),
   * even so elective (§5.4.1): a client that does not know it ignores it. Value: opaque, 1-4 bytes.
   */
  shortKid: 65_000,
} as const;

/** §3.1, §12.2: an option number is a 16-bit unsigned integer (2^16 - 1). */
export const optionNumberMax = 65_535;

export interface CoapOption {
  number: number;
  value: Buffer;
}

export interface CoapMessage {
  type: number;
  /** Code as class * 32 + detail (§3: c.dd). */
  code: number;
  messageId: number;
  token: Buffer;
  options: CoapOption[];
  payload: Buffer;
}

export class CoapFormatError extends Error {}

/** "c.dd" notation of a code byte (§5.9). */
export const codeString = (code: number): string => `${code >> 5}.${String(code & 31).padStart(2, "0")}`;

/** The code byte of "c.dd" notation (§3: class in the top 3 bits, detail in the low 5). */
export function codeByte(code: string): number {
  const [cls, detail] = code.split(".").map(Number);
  return (cls << 5) | detail;
}

/** Parses one message or throws CoapFormatError. */
export function parseMessage(buf: Uint8Array): CoapMessage {
  if (buf.length < 4) throw new CoapFormatError("shorter than the 4-byte header");
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  if (b[0] >> 6 !== 1) throw new CoapFormatError("version is not 1"); // §3: unknown versions are silently ignored
  const type = (b[0] >> 4) & 3;
  const tkl = b[0] & 15;
  if (tkl > 8) throw new CoapFormatError("token length 9-15 is reserved"); // §3
  const code = b[1];
  const cls = code >> 5;
  const messageId = b.readUInt16BE(2);
  if (cls === 1 || cls === 6 || cls === 7) throw new CoapFormatError(`code class ${cls} is reserved`); // §12.1
  if (code === 0) {
    // §4.1: an Empty message has no token, options or payload.
    if (b.length !== 4 || tkl !== 0) throw new CoapFormatError("empty message with content");
    return { type, code, messageId, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) };
  }
  if (4 + tkl > b.length) throw new CoapFormatError("truncated token");
  const token = b.subarray(4, 4 + tkl);
  const options: CoapOption[] = [];
  let i = 4 + tkl;
  let number = 0;
  while (i < b.length) {
    const head = b[i++];
    if (head === 0xff) {
      if (i === b.length) throw new CoapFormatError("payload marker with empty payload"); // §3
      return { type, code, messageId, token, options, payload: b.subarray(i) };
    }
    const [delta, afterDelta] = extended(b, i, head >> 4);
    const [length, afterLength] = extended(b, afterDelta, head & 15);
    if (afterLength + length > b.length) throw new CoapFormatError("option value runs past the end");
    number += delta;
    // §3.1: deltas with the 2-byte extension (up to 65,804 each) can sum past the 16-bit option
    // number space; such a message has no meaning, so it is a message format error like the rest.
    if (number > optionNumberMax) throw new CoapFormatError(`option number ${number} above ${optionNumberMax}`);
    options.push({ number, value: b.subarray(afterLength, afterLength + length) });
    i = afterLength + length;
  }
  return { type, code, messageId, token, options, payload: Buffer.alloc(0) };
}

/** §3.1 extended option delta/length: nibble 13 → +1 byte + 13, 14 → +2 bytes + 269, 15 reserved. */
function extended(b: Buffer, at: number, nibble: number): [number, number] {
  if (nibble < 13) return [nibble, at];
  if (nibble === 13) {
    if (at + 1 > b.length) throw new CoapFormatError("truncated option header");
    return [b[at] + 13, at + 1];
  }
  if (nibble === 14) {
    if (at + 2 > b.length) throw new CoapFormatError("truncated option header");
    return [b.readUInt16BE(at) + 269, at + 2];
  }
  throw new CoapFormatError("option nibble 15 is reserved outside the payload marker");
}

/** §3.2 uint option value: big-endian, leading zeros allowed, at most 4 bytes here. */
export function optionUint(value: Buffer): number | undefined {
  if (value.length > 4) return undefined;
  let v = 0;
  for (const byte of value) v = v * 256 + byte;
  return v;
}

export const isCritical = (number: number): boolean => (number & 1) === 1; // §5.4.6

/** The Reset that rejects a confirmable message (§4.2). Only the message id is echoed. */
export function resetFor(messageId: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = 0x40 | (TYPE_RST << 4);
  b.writeUInt16BE(messageId, 2);
  return b;
}

/**
 * A response we build ourselves (before the `coap` server sees the request): piggybacked in an ACK
 * for a CON (§5.2.1), or a NON for a NON (§5.2.3) with a fresh message id.
 */
export function responseFor(request: CoapMessage, code: string, payload: Buffer, options: CoapOption[] = []): Buffer {
  const con = request.type === TYPE_CON;
  return encodeMessage({
    type: con ? TYPE_ACK : TYPE_NON,
    code: codeByte(code),
    messageId: con ? request.messageId : randomInt(0x10000),
    token: request.token,
    options,
    payload,
  });
}

/** A uint option value in its shortest form (§3.2). */
export function uintValue(v: number): Buffer {
  const out: number[] = [];
  for (let x = v; x > 0; x = Math.floor(x / 256)) out.unshift(x % 256);
  return Buffer.from(out);
}

/** Serializes a message (used to pass on a request with some elective options dropped). */
export function encodeMessage(m: CoapMessage): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4);
  head[0] = 0x40 | (m.type << 4) | m.token.length;
  head[1] = m.code;
  head.writeUInt16BE(m.messageId, 2);
  parts.push(head, m.token);
  let previous = 0;
  for (const o of [...m.options].sort((a, b) => a.number - b.number)) {
    const delta = o.number - previous;
    previous = o.number;
    const [dn, dx] = nibble(delta);
    const [ln, lx] = nibble(o.value.length);
    parts.push(Buffer.from([(dn << 4) | ln]), dx, lx, o.value);
  }
  if (m.payload.length > 0) parts.push(Buffer.from([0xff]), m.payload);
  return Buffer.concat(parts);
}

function nibble(v: number): [number, Buffer] {
  if (v < 13) return [v, Buffer.alloc(0)];
  if (v < 269) return [13, Buffer.from([v - 13])];
  const x = Buffer.alloc(2);
  x.writeUInt16BE(v - 269);
  return [14, x];
}
