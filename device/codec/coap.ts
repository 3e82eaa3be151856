// CoAP message format, RFC 7252 §3: an encoder over one static cursor and a parser that keeps its
// results in globals plus a bounded option table. No allocation; the parser never reads outside
// [ptr, ptr + len).
//
//    0                   1                   2                   3
//   |Ver| T |  TKL  |      Code     |          Message ID           |   (§3, Figure 7)
//   |   Token (if any, TKL bytes) ...
//   |   Options (if any) ...
//   |1 1 1 1 1 1 1 1|    Payload (if any) ...
//
// Example (a CON POST with one Uri-Path and a payload):
//   coapBegin(buf, 64, COAP_CON, COAP_POST, 0x1234, tok, 2);
//   coapOption(COAP_OPTION_URI_PATH, pathPtr, 1);
//   coapOptionUint(COAP_OPTION_CONTENT_FORMAT, 18);
//   coapPayload(body, bodyLen);
//   const n = coapEnd(); // bytes, or -1

import { inMemory } from "./bounds";

// Message types (§3, T field).
export const COAP_CON: u8 = 0;
export const COAP_NON: u8 = 1;
export const COAP_ACK: u8 = 2;
export const COAP_RST: u8 = 3;

// Codes (§3, §12.1): class << 5 | detail, written c.dd.
export const COAP_EMPTY: u8 = 0; // 0.00 (§4.1)
export const COAP_GET: u8 = 1; // 0.01
export const COAP_POST: u8 = 2; // 0.02
export const COAP_PUT: u8 = 3; // 0.03
export const COAP_DELETE: u8 = 4; // 0.04
export const COAP_CREATED: u8 = (2 << 5) | 1; // 2.01
export const COAP_DELETED: u8 = (2 << 5) | 2; // 2.02
export const COAP_VALID: u8 = (2 << 5) | 3; // 2.03
export const COAP_CHANGED: u8 = (2 << 5) | 4; // 2.04
export const COAP_CONTENT: u8 = (2 << 5) | 5; // 2.05
export const COAP_CONTINUE: u8 = (2 << 5) | 31; // 2.31 (RFC 7959 §2.9.1)
export const COAP_BAD_REQUEST: u8 = (4 << 5) | 0; // 4.00
export const COAP_UNAUTHORIZED: u8 = (4 << 5) | 1; // 4.01
export const COAP_BAD_OPTION: u8 = (4 << 5) | 2; // 4.02
export const COAP_FORBIDDEN: u8 = (4 << 5) | 3; // 4.03
export const COAP_NOT_FOUND: u8 = (4 << 5) | 4; // 4.04
export const COAP_METHOD_NOT_ALLOWED: u8 = (4 << 5) | 5; // 4.05
export const COAP_REQUEST_ENTITY_INCOMPLETE: u8 = (4 << 5) | 8; // 4.08 (RFC 7959 §2.9.2)
export const COAP_PRECONDITION_FAILED: u8 = (4 << 5) | 12; // 4.12
export const COAP_REQUEST_ENTITY_TOO_LARGE: u8 = (4 << 5) | 13; // 4.13 (RFC 7959 §2.9.3)
export const COAP_UNSUPPORTED_CONTENT_FORMAT: u8 = (4 << 5) | 15; // 4.15
export const COAP_TOO_MANY_REQUESTS: u8 = (4 << 5) | 29; // 4.29 (RFC 8516)
export const COAP_INTERNAL_SERVER_ERROR: u8 = (5 << 5) | 0; // 5.00
export const COAP_SERVICE_UNAVAILABLE: u8 = (5 << 5) | 3; // 5.03

// Option numbers (§5.10, RFC 7959 §2.1, §4).
export const COAP_OPTION_IF_MATCH: u16 = 1;
export const COAP_OPTION_URI_HOST: u16 = 3;
export const COAP_OPTION_ETAG: u16 = 4;
export const COAP_OPTION_IF_NONE_MATCH: u16 = 5;
export const COAP_OPTION_OBSERVE: u16 = 6; // RFC 7641
export const COAP_OPTION_URI_PORT: u16 = 7;
export const COAP_OPTION_LOCATION_PATH: u16 = 8;
export const COAP_OPTION_URI_PATH: u16 = 11;
export const COAP_OPTION_CONTENT_FORMAT: u16 = 12;
export const COAP_OPTION_MAX_AGE: u16 = 14;
export const COAP_OPTION_URI_QUERY: u16 = 15;
export const COAP_OPTION_ACCEPT: u16 = 17;
export const COAP_OPTION_LOCATION_QUERY: u16 = 20;
export const COAP_OPTION_BLOCK2: u16 = 23;
export const COAP_OPTION_BLOCK1: u16 = 27;
export const COAP_OPTION_SIZE2: u16 = 28;
export const COAP_OPTION_PROXY_URI: u16 = 35;
export const COAP_OPTION_PROXY_SCHEME: u16 = 39;
export const COAP_OPTION_SIZE1: u16 = 60;

// Content-Formats (§12.3 registry).
export const COAP_FORMAT_COSE_SIGN1: u16 = 18; // application/cose; cose-type="cose-sign1"
export const COAP_FORMAT_SENML_CBOR: u16 = 112; // application/senml+cbor (RFC 8428)

export const COAP_TOKEN_BYTES_MAX: u32 = 8; // §3: TKL 9-15 are reserved
/** Options the parser records per message; a message with more is refused. */
export const COAP_OPTIONS_MAX: u32 = 16;
/** Largest option length the encoding can express: 14 -> 2 extension bytes + 269 (§3.1). */
const OPTION_LENGTH_MAX: u32 = 65535 + 269;
const PAYLOAD_MARKER: u8 = 0xff;

// Parser errors (negative results of coapParse).
export const COAP_E_SHORT: i32 = -1; // fewer bytes than the header and token need
export const COAP_E_VERSION: i32 = -2; // Ver is not 1 (§3)
export const COAP_E_TOKEN_LENGTH: i32 = -3; // TKL 9-15 (§3)
export const COAP_E_EMPTY_NOT_EMPTY: i32 = -4; // code 0.00 with a token or bytes after the MID (§4.1)
export const COAP_E_OPTION_FORMAT: i32 = -5; // nibble 15, option past the end, number > 65535 (§3.1)
export const COAP_E_PAYLOAD_MARKER: i32 = -6; // payload marker followed by nothing (§3)
export const COAP_E_TOO_MANY_OPTIONS: i32 = -7; // more than COAP_OPTIONS_MAX options
export const COAP_E_BAD_ARGUMENT: i32 = -8; // the region lies outside linear memory

// ---------------------------------------------------------------------------------------------------
// Encoder

let eBuf: usize = 0;
let eCap: u32 = 0;
let ePos: u32 = 0;
let eCode: u8 = 0;
let eLastOption: u32 = 0;
let ePayloadDone: bool = false;
let eError: bool = true; // coapEnd before any coapBegin is misuse
const uintScratch = memory.data(4);

/** Reserves n bytes at ePos; false (and the encoder is poisoned) if they do not fit. */
function reserve(n: u32): bool {
  if (eError || <u64>ePos + <u64>n > <u64>eCap) {
    eError = true;
    return false;
  }
  return true;
}

/** Starts a message: the 4-byte header and the token (§3). tokenLen must be 0..8. */
export function coapBegin(
  buf: usize, cap: u32, type: u8, code: u8, mid: u16, token: usize, tokenLen: u32,
): void {
  eBuf = buf;
  eCap = cap;
  ePos = 0;
  eCode = code;
  eLastOption = 0;
  ePayloadDone = false;
  eError = type > COAP_RST || tokenLen > COAP_TOKEN_BYTES_MAX || !inMemory(buf, cap) ||
    !inMemory(token, tokenLen);
  if (!reserve(4 + tokenLen)) return;
  store<u8>(buf, <u8>(0x40 | (type << 4) | tokenLen)); // Ver = 1
  store<u8>(buf + 1, code);
  store<u8>(buf + 2, <u8>(mid >> 8));
  store<u8>(buf + 3, <u8>mid);
  memory.copy(buf + 4, token, tokenLen);
  ePos = 4 + tokenLen;
}

/** The 4-bit field for a delta or length x (§3.1): x itself below 13, else 13 or 14 + extension. */
@inline function nibble(x: u32): u32 {
  return x < 13 ? x : x < 269 ? 13 : 14;
}

@inline function extensionBytes(x: u32): u32 {
  return x < 13 ? 0 : x < 269 ? 1 : 2;
}

/** Writes the extension bytes of x at p (§3.1: x - 13 in one byte, or x - 269 in two, big-endian). */
function putExtension(p: usize, x: u32): usize {
  if (x < 13) return p;
  if (x < 269) {
    store<u8>(p, <u8>(x - 13));
    return p + 1;
  }
  store<u8>(p, <u8>((x - 269) >> 8));
  store<u8>(p + 1, <u8>(x - 269));
  return p + 2;
}

/**
 * Appends an option (§3.1). Numbers must not decrease (options are sent in order, delta-encoded);
 * a decreasing number, an option after the payload or an unencodable length is misuse: coapEnd -1.
 */
export function coapOption(number: u16, value: usize, len: u32): void {
  if (ePayloadDone || <u32>number < eLastOption || len > OPTION_LENGTH_MAX || !inMemory(value, len)) {
    eError = true;
  }
  const delta = <u32>number - eLastOption;
  if (!reserve(1 + extensionBytes(delta) + extensionBytes(len) + len)) return;
  let p = eBuf + ePos;
  store<u8>(p, <u8>((nibble(delta) << 4) | nibble(len)));
  p = putExtension(p + 1, delta);
  p = putExtension(p, len);
  memory.copy(p, value, len);
  ePos = <u32>(p + len - eBuf);
  eLastOption = number;
}

/** Appends a uint option in its shortest form: big-endian, no leading zero bytes, 0 empty (§3.2). */
export function coapOptionUint(number: u16, v: u32): void {
  let n: u32 = 0;
  while (n < 4 && (v >> (n << 3)) != 0) n++;
  store<u32>(uintScratch, bswap<u32>(v)); // big-endian; the last n bytes are the value
  coapOption(number, uintScratch + 4 - n, n);
}

/** Appends the payload marker and payload (§3); nothing for an empty payload. At most once. */
export function coapPayload(ptr: usize, len: u32): void {
  if (ePayloadDone || !inMemory(ptr, len)) eError = true;
  ePayloadDone = true;
  if (len == 0) return;
  if (!reserve(1 + len)) return;
  store<u8>(eBuf + ePos, PAYLOAD_MARKER);
  memory.copy(eBuf + ePos + 1, ptr, len);
  ePos += 1 + len;
}

/** Finishes the message: its length, or -1 on overflow, misuse, or a non-empty 0.00 message (§4.1). */
export function coapEnd(): i32 {
  if (eError || (eCode == COAP_EMPTY && ePos != 4)) return -1;
  return <i32>ePos;
}

// ---------------------------------------------------------------------------------------------------
// Parser

export let coapType: u8 = 0;
export let coapCode: u8 = 0;
export let coapMid: u16 = 0;
export let coapTokenLen: u32 = 0;
export let coapTokenPtr: usize = 0;
export let coapPayloadPtr: usize = 0;
export let coapPayloadLen: u32 = 0;
/** The first Content-Format option's value (§5.10.3), or -1 if there is none (or it is malformed). */
export let coapContentFormat: i32 = -1;
/** Options recorded by the last successful coapParse. */
export let coapOptionCount: u32 = 0;
/** Where the value found by the last successful coapOptionFind / coapOptionAt starts. */
export let coapOptionPtr: usize = 0;
/** Length of the value found by the last successful coapOptionAt. */
export let coapOptionLen: u32 = 0;

// Option table: per option, number (u16), length (u16) and value pointer (u32). Lengths fit u16
// because a message lies within one 64 KiB page.
const OPTION_ENTRY_BYTES: u32 = 8;
const optionTable = memory.data(<i32>(COAP_OPTIONS_MAX * OPTION_ENTRY_BYTES), 4);
let pPos: u32 = 0;

/**
 * Parses and validates one message in [ptr, ptr + len) (§3, §3.1, §4.1). Returns 0 and sets the
 * coap* globals, or a negative COAP_E_* code (then no option and no payload are reported).
 */
export function coapParse(ptr: usize, len: u32): i32 {
  coapOptionCount = 0;
  coapPayloadPtr = 0;
  coapPayloadLen = 0;
  coapContentFormat = -1;
  coapTokenLen = 0;
  if (!inMemory(ptr, len)) return COAP_E_BAD_ARGUMENT;
  if (len < 4) return COAP_E_SHORT;
  const first = <u32>load<u8>(ptr);
  if (first >> 6 != 1) return COAP_E_VERSION;
  const tokenLen = first & 15;
  if (tokenLen > COAP_TOKEN_BYTES_MAX) return COAP_E_TOKEN_LENGTH;
  coapType = <u8>((first >> 4) & 3);
  coapCode = load<u8>(ptr + 1);
  coapMid = <u16>((<u32>load<u8>(ptr + 2) << 8) | <u32>load<u8>(ptr + 3));
  if (coapCode == COAP_EMPTY && len != 4) return COAP_E_EMPTY_NOT_EMPTY; // covers TKL > 0 too
  if (tokenLen + 4 > len) return COAP_E_SHORT;
  coapTokenLen = tokenLen;
  coapTokenPtr = ptr + 4;
  const result = parseOptions(ptr, tokenLen + 4, len);
  if (result < 0) {
    coapOptionCount = 0;
    coapPayloadLen = 0;
    coapContentFormat = -1;
  }
  return result;
}

/** Reads the options and the payload after the token (§3.1); records each in the option table. */
function parseOptions(ptr: usize, start: u32, len: u32): i32 {
  let number: u32 = 0;
  let count: u32 = 0;
  let contentFormatSeen = false;
  pPos = start;
  while (pPos < len) {
    const b = <u32>load<u8>(ptr + pPos);
    pPos++;
    if (b == PAYLOAD_MARKER) {
      if (pPos == len) return COAP_E_PAYLOAD_MARKER;
      coapPayloadPtr = ptr + pPos;
      coapPayloadLen = len - pPos;
      break;
    }
    if (b >> 4 == 15 || (b & 15) == 15) return COAP_E_OPTION_FORMAT; // reserved nibble (§3.1)
    const delta = readExtension(ptr, len, b >> 4);
    const optionLen = readExtension(ptr, len, b & 15);
    if (delta < 0 || optionLen < 0) return COAP_E_OPTION_FORMAT;
    number += <u32>delta;
    if (number > 0xffff || <u32>optionLen > len - pPos) return COAP_E_OPTION_FORMAT;
    if (count == COAP_OPTIONS_MAX) return COAP_E_TOO_MANY_OPTIONS;
    const entry = optionTable + count * OPTION_ENTRY_BYTES;
    store<u16>(entry, <u16>number);
    store<u16>(entry, <u16>optionLen, 2);
    store<u32>(entry, <u32>(ptr + pPos), 4);
    count++;
    // Content-Format is a uint of 0-2 bytes (§5.10.3) and not repeatable: only the first occurrence
    // counts (§5.4.5); a malformed value is treated as unrecognized, i.e. absent (§5.4.3).
    if (number == COAP_OPTION_CONTENT_FORMAT && !contentFormatSeen) {
      contentFormatSeen = true;
      if (optionLen <= 2) coapContentFormat = <i32>readUint(ptr + pPos, <u32>optionLen);
    }
    pPos += <u32>optionLen;
  }
  coapOptionCount = count;
  return 0;
}

/** A delta or length from its nibble and extension bytes at pPos (§3.1); -1 if they run out. */
function readExtension(ptr: usize, len: u32, nib: u32): i32 {
  if (nib < 13) return <i32>nib;
  const n: u32 = nib - 12; // 13 -> 1 extension byte, 14 -> 2
  if (pPos + n > len) return -1;
  let v = <u32>load<u8>(ptr + pPos);
  if (n == 2) v = (v << 8) | <u32>load<u8>(ptr + pPos + 1);
  pPos += n;
  return <i32>(v + (n == 1 ? 13 : 269));
}

/** A big-endian unsigned integer of len <= 4 bytes (§3.2 uint format). */
function readUint(p: usize, len: u32): u32 {
  let v: u32 = 0;
  for (let i: u32 = 0; i < len; i++) v = (v << 8) | <u32>load<u8>(p + i);
  return v;
}

/**
 * The index-th occurrence (0-based) of option `number` in the last parsed message: its length,
 * with coapOptionPtr set to its value, or -1 if there is no such occurrence.
 */
export function coapOptionFind(number: u16, index: u32): i32 {
  let seen: u32 = 0;
  for (let i: u32 = 0; i < coapOptionCount; i++) {
    const entry = optionTable + i * OPTION_ENTRY_BYTES;
    if (load<u16>(entry) != number) continue;
    if (seen == index) {
      coapOptionPtr = <usize>load<u32>(entry, 4);
      return <i32>load<u16>(entry, 2);
    }
    seen++;
  }
  return -1;
}

/**
 * The index-th option of the last parsed message in wire order: its number, with coapOptionPtr and
 * coapOptionLen set, or -1 past the last one. Lets the caller find unrecognized critical options
 * (odd numbers, §5.4.1) without knowing their numbers.
 */
export function coapOptionAt(index: u32): i32 {
  if (index >= coapOptionCount) return -1;
  const entry = optionTable + index * OPTION_ENTRY_BYTES;
  coapOptionPtr = <usize>load<u32>(entry, 4);
  coapOptionLen = <u32>load<u16>(entry, 2);
  return <i32>load<u16>(entry);
}

/** The index-th occurrence of a uint option (§3.2) as a value, or -1 if absent or longer than 4 bytes. */
export function coapOptionFindUint(number: u16, index: u32): i64 {
  const len = coapOptionFind(number, index);
  if (len < 0 || len > 4) return -1;
  return <i64>readUint(coapOptionPtr, <u32>len);
}
