// The CoAP face of payload uploads: PUT /p/<SHA-256 hex> with Block1 (RFC 7959), a thin adapter from a
// strictly parsed message (admission.ts) to Block1Uploads and back to a response datagram.
// Diagnostics are fitted to the request's size (amplification.ts), like every other answer.
import { decodeBlockOption, encodeBlockOption } from "../coap/block-option.ts";
import { fitResponse } from "../coap/amplification.ts";
import { codeByte, CoapFormatError, encodeMessage, option, optionUint, responseFor, uintValue, type CoapMessage, type CoapOption } from "../coap/message.ts";
import type { BlockAnswer, Block1Uploads } from "./block1-upload.ts";

const digestPath = /^[0-9a-f]{64}$/;

export function uploadHandler(uploads: Block1Uploads): (m: CoapMessage, source: string) => Buffer | undefined {
  return (m, source) => {
    const answer = answerFor(uploads, m, source);
    return encodeAnswer(m, answer);
  };
}

function answerFor(uploads: Block1Uploads, m: CoapMessage, source: string): BlockAnswer {
  const path = m.options.filter((o) => o.number === option.uriPath).map((o) => o.value.toString("utf8"));
  if (path.length !== 2 || !digestPath.test(path[1])) return { code: "4.04", diagnostic: "PUT /p/<SHA-256 of the payload, 64 lowercase hex digits>" };
  const b1 = m.options.filter((o) => o.number === option.block1);
  const s1 = m.options.filter((o) => o.number === option.size1);
  if (b1.length > 1 || s1.length > 1) return { code: "4.02", diagnostic: "Block1 and Size1 at most once each" };
  let block1;
  try {
    block1 = b1.length ? decodeBlockOption(b1[0].value) : undefined;
  } catch (e) {
    if (e instanceof CoapFormatError) return { code: "4.00", diagnostic: `PAYLOAD_BLOCK: ${e.message}` };
    throw e;
  }
  const size1 = s1.length ? optionUint(s1[0].value) : undefined;
  return uploads.receive({ source, digestHex: path[1], block1, size1, payload: m.payload });
}

function encodeAnswer(m: CoapMessage, a: BlockAnswer): Buffer | undefined {
  const options: CoapOption[] = [];
  if (a.maxAgeS !== undefined) options.push({ number: option.maxAge, value: uintValue(a.maxAgeS) });
  if (a.block1) options.push({ number: option.block1, value: encodeBlockOption(a.block1) });
  if (a.size1 !== undefined) options.push({ number: option.size1, value: uintValue(a.size1) });
  const text = Buffer.from(a.diagnostic ?? "", "utf8");
  const bytesWithoutPayload = responseFor(m, a.code, Buffer.alloc(0), options).length;
  // The request as parsed re-encodes to its received size (admission passed it untouched).
  const payload = fitResponse({ type: m.type, bytes: encodeMessage(m).length }, { code: codeByte(a.code), bytesWithoutPayload, payload: text });
  if (!payload) return undefined;
  return responseFor(m, a.code, Buffer.from(payload), options);
}
