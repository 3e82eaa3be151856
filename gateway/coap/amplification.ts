// How big an answer may be, given the request it answers. UDP does not prove where a datagram came
// from, so whatever we send back can be aimed at a victim by spoofing its address; RFC 7252 §11.3
// asks servers to keep the amplification factor (response bytes / request bytes) low. The rule,
// one for every transport (UDP and SLIP alike):
//
//   1. A response no larger than its request is sent as it is.
//   2. Otherwise an error response (4.xx, 5.xx) keeps only the first diagnosticShortBytesMax bytes
//      of its diagnostic payload (§5.5.2), cut on a UTF-8 character boundary.
//   3. A response to a NON request that is still larger than the request is not sent at all:
//      §5.2.3 lets a server leave a NON unanswered, and a NON sender has said it can do without.
//      So a NON is answered only when the answer costs no more than the question, and an error
//      to it, when sent, always carries its diagnostic (never a cut-down empty one).
//   4. A CON request is always answered (§5.2.1), errors with the short diagnostic of step 2, so a
//      device that retransmits learns what was wrong.
//
// Pure: sizes in, decision out. Example: a 6-byte NON GET /x draws no 4.04 (4 header bytes plus any
// diagnostic is more than 6); the same request as a CON draws a 4.04 with at most 32 diagnostic bytes.
import { TYPE_NON } from "./message.ts";

/** Longest diagnostic payload in a response larger than its request: about one line of text. */
export const diagnosticShortBytesMax = 32;

export interface RequestSize {
  /** Message type of the request (TYPE_CON or TYPE_NON). */
  type: number;
  /** The request as received: the CoAP message's bytes, before any option was dropped. */
  bytes: number;
}

export interface PlannedResponse {
  /** Code byte (class * 32 + detail, §3). */
  code: number;
  /** Everything of the encoded response except the payload marker and payload. */
  bytesWithoutPayload: number;
  payload: Uint8Array;
}

/** Bytes on the wire of a response with `payloadBytes` of payload (§3: 0xFF marker only if non-empty). */
export const responseBytes = (bytesWithoutPayload: number, payloadBytes: number): number => bytesWithoutPayload + (payloadBytes > 0 ? 1 + payloadBytes : 0);

/** The payload to send for `response`, or undefined when the response must not be sent. */
export function fitResponse(request: RequestSize, response: PlannedResponse): Uint8Array | undefined {
  const { bytesWithoutPayload, payload } = response;
  if (responseBytes(bytesWithoutPayload, payload.length) <= request.bytes) return payload; // step 1
  const isError = response.code >> 5 >= 4;
  const kept = isError ? cutUtf8(payload, diagnosticShortBytesMax) : payload; // step 2
  if (request.type === TYPE_NON && responseBytes(bytesWithoutPayload, kept.length) > request.bytes) return undefined; // step 3
  return kept; // step 4
}

/** The longest prefix of `text` of at most `bytesMax` bytes that does not split a UTF-8 sequence. */
export function cutUtf8(text: Uint8Array, bytesMax: number): Uint8Array {
  if (text.length <= bytesMax) return text;
  let end = bytesMax;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that would be split.
  while (end > 0 && (text[end] & 0xc0) === 0x80) end--;
  return text.subarray(0, end);
}
