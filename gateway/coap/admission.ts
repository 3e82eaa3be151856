// What reaches the `coap` server: every datagram or SLIP frame is parsed strictly (message.ts) and
// either passed on (GET/POST requests with only the options our resources use, and the empty
// ACK/RST that settle our separate responses), answered here, or dropped. Pure: bytes in, decision out.
//
// RFC 7252: format errors and pings in a CON get a Reset (§4.2, §4.3), in a NON nothing;
// unrecognized critical options get 4.02 (§5.4.1); methods we do not serve 4.05 (§5.8);
// Proxy-Uri/Proxy-Scheme 5.05 (§5.7.2). Block1 gets 4.13 with Size1 (RFC 7959 §2.9.3): a reading
// must fit one message. Block2 and Size2 pass for GET /f (firmware images, RFC 7959 §2.2, §4). Elective
// options we do not use are removed (§5.4.1 lets us ignore them).
// PUT /p/<SHA-256 hex> (payload uploads, gateway/payloads/block1-upload.ts) is handed to the upload
// path with its Block1 and Size1 options and a payload of at most one 1,024-byte block: the `coap`
// server's own Block1 reassembly has no memory bound, so uploads never reach it.
// An Empty ACK or RST is never answered (§4.2, §4.3): it only settles or cancels an exchange. Every
// answer made here obeys amplification.ts: no larger than the request, or a short diagnostic.
import { fitResponse } from "./amplification.ts";
import { codeByte, codeString, CoapFormatError, encodeMessage, isCritical, METHOD_GET, METHOD_POST, METHOD_PUT, option, parseMessage, resetFor, responseFor, uintValue, TYPE_ACK, TYPE_CON, TYPE_RST, type CoapMessage, type CoapOption } from "./message.ts";

export type Admission =
  | { action: "pass"; bytes: Buffer; message: CoapMessage }
  | { action: "upload"; message: CoapMessage; reason: "payload upload" }
  | { action: "reply"; bytes: Buffer; reason: string }
  | { action: "drop"; reason: string };

export interface AdmissionLimits {
  /** Largest request payload any resource takes (answered 4.13 with Size1 above it). */
  payloadBytesMax: number;
}

/** RFC 7959 §2.2: the largest block (SZX 6). */
const uploadBlockBytesMax = 1024;
/** Options an upload carries; other elective ones are ignored (§5.4.1), critical ones refused. */
const uploadCritical = new Set<number>([option.uriHost, option.uriPort, option.uriPath, option.block1]);
/** Options the resources read; every other elective option is dropped before the `coap` server. */
const passedOptions = new Set<number>([option.uriPath, option.contentFormat, option.uriQuery, option.block2, option.size2]);
/** Critical options we recognize (and then ignore: we are the only host and port here). */
const recognizedCritical = new Set<number>([option.uriHost, option.uriPort, option.uriPath, option.uriQuery, option.accept, option.block2]);

const text = (s: string) => Buffer.from(s, "utf8");

export function admit(datagram: Uint8Array, limits: AdmissionLimits): Admission {
  let m: CoapMessage;
  try {
    m = parseMessage(datagram);
  } catch (e) {
    if (!(e instanceof CoapFormatError)) throw e;
    const con = datagram.length >= 4 && datagram[0] >> 6 === 1 && ((datagram[0] >> 4) & 3) === TYPE_CON;
    const reason = `format error: ${e.message}`;
    return con ? { action: "reply", bytes: resetFor((datagram[2] << 8) | datagram[3]), reason } : { action: "drop", reason };
  }
  if (m.code === 0) {
    if (m.type === TYPE_ACK || m.type === TYPE_RST) return { action: "pass", bytes: Buffer.from(datagram), message: m };
    return m.type === TYPE_CON ? { action: "reply", bytes: resetFor(m.messageId), reason: "ping" } : { action: "drop", reason: "empty NON" };
  }
  if (m.code >> 5 !== 0) {
    // A response: we never send requests, so nobody should answer us (§4.2: reject a CON).
    return m.type === TYPE_CON ? { action: "reply", bytes: resetFor(m.messageId), reason: "unexpected response" } : { action: "drop", reason: "unexpected response" };
  }
  if (m.type !== TYPE_CON && m.type !== 1) return { action: "drop", reason: "request in an ACK or RST" };
  return admitRequest(m, datagram, limits);
}

function admitRequest(m: CoapMessage, datagram: Uint8Array, limits: AdmissionLimits): Admission {
  const refuse = (code: string, why: string, options = [] as CoapOption[]): Admission =>
    // §5.4.1: a NON with a bad critical option is rejected silently; a CON gets the answer.
    m.type === TYPE_CON || code === "4.05" || code === "4.13" ? answer(m, datagram.length, code, why, options) : { action: "drop", reason: why };
  if (isUpload(m)) return admitUpload(m, datagram);
  if (m.code !== METHOD_GET && m.code !== METHOD_POST) return refuse("4.05", `method ${codeString(m.code)} not allowed: use GET or POST`);
  for (const o of m.options) {
    if (o.number === option.proxyUri || o.number === option.proxyScheme) return refuse("5.05", "not a proxy");
    if (o.number === option.block1) return refuse("4.13", `block-wise upload not supported; send at most ${limits.payloadBytesMax} bytes`, [{ number: option.size1, value: uintValue(limits.payloadBytesMax) }]);
    if (isCritical(o.number) && !recognizedCritical.has(o.number)) return refuse("4.02", `critical option ${o.number} not supported`);
  }
  if (m.payload.length > limits.payloadBytesMax) {
    return refuse("4.13", `payload ${m.payload.length} bytes; limit ${limits.payloadBytesMax}`, [{ number: option.size1, value: uintValue(limits.payloadBytesMax) }]);
  }
  if (m.options.every((o) => passedOptions.has(o.number))) return { action: "pass", bytes: Buffer.from(datagram), message: m };
  const kept = { ...m, options: m.options.filter((o) => passedOptions.has(o.number)) };
  return { action: "pass", bytes: encodeMessage(kept), message: kept };
}

const firstPathSegment = (m: CoapMessage): string | undefined => m.options.find((o) => o.number === option.uriPath)?.value.toString("utf8");

function isUpload(m: CoapMessage): boolean {
  return m.code === METHOD_PUT && firstPathSegment(m) === "p";
}

function admitUpload(m: CoapMessage, datagram: Uint8Array): Admission {
  const refuse = (code: string, why: string, options = [] as CoapOption[]): Admission => (m.type === TYPE_CON ? answer(m, datagram.length, code, why, options) : { action: "drop", reason: why });
  for (const o of m.options) {
    if (o.number === option.proxyUri || o.number === option.proxyScheme) return refuse("5.05", "not a proxy");
    if (isCritical(o.number) && !uploadCritical.has(o.number)) return refuse("4.02", `critical option ${o.number} not supported`);
  }
  if (m.payload.length > uploadBlockBytesMax) return refuse("4.13", `payload ${m.payload.length} bytes in one message; send blocks of at most ${uploadBlockBytesMax} (Block1, RFC 7959)`, [{ number: option.size1, value: uintValue(uploadBlockBytesMax) }]);
  return { action: "upload", message: m, reason: "payload upload" };
}

/** An error response built here, its diagnostic fitted to the request (amplification.ts). */
function answer(m: CoapMessage, requestBytes: number, code: string, why: string, options: CoapOption[]): Admission {
  const bytesWithoutPayload = responseFor(m, code, Buffer.alloc(0), options).length;
  const payload = fitResponse({ type: m.type, bytes: requestBytes }, { code: codeByte(code), bytesWithoutPayload, payload: text(why) });
  if (!payload) return { action: "drop", reason: `${why} (answer to a NON larger than the request)` };
  return { action: "reply", bytes: responseFor(m, code, Buffer.from(payload), options), reason: why };
}
