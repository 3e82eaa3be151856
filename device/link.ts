// The two links a reading can travel: radio (one CoAP message per UDP datagram) and serial
// (one CoAP message per SLIP frame, RFC 1055). Framing lives here so the CoAP layer is the same
// on both.
import { hostLinkSend, LINK_SERIAL } from "./host";
import { slipEncode, slipDecoderInit, slipDecoderFeed } from "./codec/slip";

export const FRAME_BYTES_MAX: u32 = 1280; // IPv6 minimum MTU: the largest CoAP message we take

const slipOut = memory.data(<i32>(2 * 256 + 2)); // worst case: every byte escaped, plus two ENDs
const slipIn = memory.data(<i32>FRAME_BYTES_MAX);

export function linkReset(): void {
  slipDecoderInit(slipIn, FRAME_BYTES_MAX);
}

/** Sends one CoAP message; returns the host's result (negative: link down). */
export function linkSend(link: i32, msg: usize, len: u32): i32 {
  if (link != LINK_SERIAL) return hostLinkSend(link, msg, <i32>len);
  const framed = slipEncode(msg, len, slipOut, 2 * 256 + 2);
  if (framed < 0) return -1;
  return hostLinkSend(link, slipOut, framed);
}

/** Feeds one byte of the serial stream; returns a complete frame's length (in slipFrame()) or ≤ 0. */
@inline export function serialFeed(b: u8): i32 {
  return slipDecoderFeed(b);
}

export function slipFrame(): usize {
  return slipIn;
}
