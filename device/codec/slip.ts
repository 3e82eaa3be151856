// SLIP, RFC 1055: framing for the serial link, one CoAP message per frame. No allocation.
//
// A frame is END, the bytes with END and ESC escaped, END (the leading END flushes line noise, as
// RFC 1055's send_packet recommends). Escapes: END -> ESC ESC_END, ESC -> ESC ESC_ESC.
// The decoder is stricter than RFC 1055's recv_packet, which stuffs an unknown escaped byte as is:
// here ESC followed by anything but ESC_END/ESC_ESC drops the frame, as does a frame longer than
// the buffer; decoding resumes after the next END.

import { inMemory } from "./bounds";

export const SLIP_END: u8 = 0xc0;
export const SLIP_ESC: u8 = 0xdb;
export const SLIP_ESC_END: u8 = 0xdc;
export const SLIP_ESC_ESC: u8 = 0xdd;

/**
 * Frames [src, src + len) into [dst, dst + cap): END, escaped bytes, END. Returns the frame length
 * (len + 2 + escapes, at most 2 * len + 2), or -1 if it does not fit (dst may be partly written).
 */
export function slipEncode(src: usize, len: u32, dst: usize, cap: u32): i32 {
  if (!inMemory(src, len) || !inMemory(dst, cap) || cap < 2) return -1;
  store<u8>(dst, SLIP_END);
  let out: u32 = 1;
  for (let i: u32 = 0; i < len; i++) {
    const b = load<u8>(src + i);
    const escaped = b == SLIP_END || b == SLIP_ESC;
    if (out + (escaped ? 2 : 1) > cap - 1) return -1; // keep room for the closing END
    if (escaped) {
      store<u8>(dst + out, SLIP_ESC);
      store<u8>(dst + out + 1, b == SLIP_END ? SLIP_ESC_END : SLIP_ESC_ESC);
      out += 2;
    } else {
      store<u8>(dst + out, b);
      out++;
    }
  }
  store<u8>(dst + out, SLIP_END);
  return <i32>(out + 1);
}

// Decoder state (one serial line, one decoder).
let dBuf: usize = 0;
let dCap: u32 = 0;
let dLen: u32 = 0;
let dEscaped: bool = false;
let dDropping: bool = false;

/** Resets the decoder to collect frames into [buf, buf + cap) (a region outside memory: cap 0). */
export function slipDecoderInit(buf: usize, cap: u32): void {
  dBuf = buf;
  dCap = inMemory(buf, cap) ? cap : 0;
  dLen = 0;
  dEscaped = false;
  dDropping = false;
}

/**
 * Feeds one received byte. Returns the frame length (> 0) when an END completes a non-empty frame
 * (its bytes are at buf until the next feed), 0 while a frame is in progress or for an empty frame
 * (back-to-back ENDs), or -1 once per dropped frame, at the byte that spoiled it: an overflow, or an
 * ESC followed by anything but ESC_END/ESC_ESC. After -1 bytes are ignored until the next END.
 */
export function slipDecoderFeed(b: u8): i32 {
  if (b == SLIP_END) {
    // ESC END spoils the frame (dEscaped is never set while dropping); a dropped frame was reported.
    const result = dEscaped ? -1 : dDropping ? 0 : <i32>dLen;
    dLen = 0;
    dEscaped = false;
    dDropping = false;
    return result;
  }
  if (dDropping) return 0;
  if (dEscaped) {
    dEscaped = false;
    if (b == SLIP_ESC_END) b = SLIP_END;
    else if (b == SLIP_ESC_ESC) b = SLIP_ESC;
    else return drop();
  } else if (b == SLIP_ESC) {
    dEscaped = true;
    return 0;
  }
  if (dLen >= dCap) return drop();
  store<u8>(dBuf + dLen, b);
  dLen++;
  return 0;
}

function drop(): i32 {
  dDropping = true;
  dEscaped = false;
  dLen = 0;
  return -1;
}
