// The gateway's CoAP resources, thin adapters in the style of node's `http` handlers: decode the
// request, call a service, encode the answer. Paths are single letters (shared/constants.ts).
//
//   POST /r  content-format 18 (COSE_Sign1 reading)  → 2.01, empty payload (every byte is air), or the
//            release's manifest (content-format 18) when a rollout offers this device an update;
//            a compact reading signed under the long kid of a device with a short kid also gets the
//            Short-Kid option (message.ts option.shortKid) so the device learns it
//   POST /   the same resource for compact readings (shared/reading.ts format 2): no Uri-Path and no
//            Content-Format (the COSE tag 18 makes the payload self-describing): 3 bytes less on air
//   GET  /f/<image id>  → 2.05, the release's image (application/octet-stream); Block2 (RFC 7959) in the
//            block size the device asks for (the `coap` server segments it, at most 1,024 bytes);
//            5.03 + Max-Age while this gateway fetches it, 4.04 for no such release
//   POST /e  content-format 60 (owner-signed enrollment, shared/enrollment.ts) → 2.01 / 2.04
//   GET  /t  → 2.05, CBOR uint: gateway Unix time in ms (devices without a clock stamp with it)
//   GET  /h  → 2.05, CBOR map: liveness and counters
//
// Refusals carry the code of the typed error and its message as diagnostic payload (RFC 7252 §5.5.2).
// Every answer is measured against its request first (amplification.ts): one larger than the request
// gets a short diagnostic, or, to a NON, is not sent at all.
import { isImageId } from "../../shared/firmware-manifest.ts";
import type { AddressInfo } from "node:net";
import type { IncomingMessage, OutgoingMessage } from "coap";
import type { Logger } from "pino";
import { encode, type CborValue } from "../../shared/cbor.ts";
import { contentFormat, uriPath } from "../../shared/constants.ts";
import { MoteError } from "../../shared/errors.ts";
import type { EnrollmentService } from "../devices/enrollment.ts";
import type { IngestOutcome, IngestPipeline } from "../ingest/pipeline.ts";
import { fitResponse } from "./amplification.ts";
import { codeByte, encodeMessage, optionUint, option, uintValue, TYPE_ACK, type CoapMessage, type CoapOption } from "./message.ts";

/** rsinfo as the endpoint hands it to the `coap` server: the address plus our strict parse. */
export interface AdmittedRemote extends AddressInfo {
  coap: CoapMessage;
  transport: "udp" | "serial";
  /** The request's size as received, before admission dropped any option: answers are measured against it. */
  datagramBytes: number;
}

/** The firmware part (gateway/firmware/firmware-service.ts); absent on a gateway without a chain. */
export interface FirmwareResources {
  offerFor(reading: IngestOutcome): Uint8Array | undefined;
  image(imageId: string): { kind: "image"; bytes: Uint8Array } | { kind: "fetching"; retryAfterS: number } | { kind: "unknown" };
}

export interface ResourceDeps {
  pipeline: IngestPipeline;
  firmware?: FirmwareResources;
  enrollment: EnrollmentService;
  health: () => Map<string, CborValue>;
  log: Logger;
}

interface Answer {
  code: string;
  payload?: Uint8Array;
  contentFormat?: number;
  maxAgeS?: number;
  shortKid?: Uint8Array;
}

type Handler = (m: CoapMessage, source: string) => Answer | Promise<Answer>;

const diagnostic = (code: string, message: string): Answer => ({ code, payload: Buffer.from(message, "utf8") });

export function createRequestHandler(deps: ResourceDeps): (req: IncomingMessage, res: OutgoingMessage) => void {
  const routes: Record<string, Partial<Record<"GET" | "POST", Handler>>> = {
    [uriPath.readings]: { POST: (m, source) => postReading(deps, m, source) },
    "": { POST: (m, source) => postReading(deps, m, source) },
    [uriPath.enroll]: { POST: (m) => postEnrollment(deps, m) },
    [uriPath.time]: { GET: () => ({ code: "2.05", payload: encode(Date.now()), contentFormat: contentFormat.cbor }) },
    [uriPath.health]: { GET: () => ({ code: "2.05", payload: encode(deps.health()), contentFormat: contentFormat.cbor }) },
  };
  return (req, res) => {
    const remote = req.rsinfo as AdmittedRemote;
    const m = remote.coap;
    const source = `${remote.transport}:${remote.address}:${remote.port}`;
    const path = m.options.filter((o) => o.number === option.uriPath).map((o) => o.value.toString("utf8")).join("/");
    const route = path.startsWith(`${uriPath.firmware}/`) ? { GET: () => getImage(deps, path.slice(uriPath.firmware.length + 1)) } : routes[path];
    const handler = route?.[m.code === 1 ? "GET" : "POST"];
    const answer = !route ? diagnostic("4.04", `no resource /${path.slice(0, 32)}`) : !handler ? diagnostic("4.05", `method not allowed on /${path}`) : undefined;
    if (answer) return send(res, answer, remote);
    Promise.resolve()
      .then(() => handler!(m, source))
      .catch((e: unknown) => refusal(e, deps.log, path))
      .then((a) => send(res, a, remote))
      // The socket may be gone (shutdown): nothing left to tell this requester.
      .catch((e: unknown) => deps.log.debug({ err: e, path }, "could not send response"));
  };
}

async function postReading(deps: ResourceDeps, m: CoapMessage, source: string): Promise<Answer> {
  const format = contentFormatOf(m);
  // Absent is allowed: a compact reading leaves it out, its CBOR tag 18 says what it is (RFC 9052 §2).
  if (format !== undefined && format !== contentFormat.coseSign1) return diagnostic("4.15", `Content-Format must be ${contentFormat.coseSign1} (COSE_Sign1) or absent`);
  const outcome = await deps.pipeline.ingest(m.payload, source);
  const manifest = offerFor(deps, outcome);
  const answer: Answer = manifest ? { code: "2.01", payload: manifest, contentFormat: contentFormat.coseSign1 } : { code: "2.01" };
  return outcome.shortKid ? { ...answer, shortKid: outcome.shortKid } : answer;
}

/** An update notice never costs the reading its acknowledgement: a failure here only logs. */
function offerFor(deps: ResourceDeps, reading: IngestOutcome): Uint8Array | undefined {
  try {
    return deps.firmware?.offerFor(reading);
  } catch (e) {
    deps.log.error({ err: e, code: "FIRMWARE_OFFER" }, "firmware offer failed");
    return undefined;
  }
}

function getImage(deps: ResourceDeps, imageId: string): Answer {
  if (!isImageId(imageId) || !deps.firmware) return diagnostic("4.04", `no firmware image ${imageId.slice(0, 16)}`);
  const a = deps.firmware.image(imageId);
  if (a.kind === "unknown") return diagnostic("4.04", `no release ${imageId} on chain`);
  if (a.kind === "fetching") return { ...diagnostic("5.03", "image being fetched; retry"), maxAgeS: a.retryAfterS };
  return { code: "2.05", payload: a.bytes, contentFormat: contentFormat.octetStream };
}

function postEnrollment(deps: ResourceDeps, m: CoapMessage): Answer {
  const format = contentFormatOf(m);
  if (format !== contentFormat.cbor) return diagnostic("4.15", `Content-Format must be ${contentFormat.cbor} (CBOR enrollment)`);
  const { record, outcome } = deps.enrollment.enroll(m.payload);
  deps.log.info({ deviceId: Buffer.from(record.deviceId).toString("hex"), outcome, status: record.status }, "device enrolled");
  return { code: outcome === "created" ? "2.01" : "2.04" };
}

function contentFormatOf(m: CoapMessage): number | undefined {
  const o = m.options.find((x) => x.number === option.contentFormat);
  return o && optionUint(o.value);
}

/** IngestError and DeviceError: a refusal that knows its CoAP response code. */
interface CoapRefusal extends MoteError {
  readonly coapCode: string;
  readonly retryAfterS?: number;
}

const isRefusal = (e: unknown): e is CoapRefusal => e instanceof MoteError && typeof (e as Partial<CoapRefusal>).coapCode === "string";

/** Typed errors become their CoAP code; anything else is a gateway bug: 5.00, logged loudly. */
function refusal(e: unknown, log: Logger, path: string): Answer {
  if (isRefusal(e)) return { ...diagnostic(e.coapCode, `${e.code}: ${e.message}`), maxAgeS: e.retryAfterS };
  log.error({ err: e, path, code: "INTERNAL" }, "request handler failed");
  return diagnostic("5.00", "internal error");
}

function send(res: OutgoingMessage, a: Answer, request: AdmittedRemote): void {
  const options: CoapOption[] = [];
  if (a.contentFormat !== undefined) options.push({ number: option.contentFormat, value: uintValue(a.contentFormat) });
  // RFC 8516 §3 (4.29) and RFC 7252 §5.9.3.4 (5.03): Max-Age says when to try again.
  if (a.maxAgeS !== undefined) options.push({ number: option.maxAge, value: uintValue(a.maxAgeS) });
  if (a.shortKid !== undefined) options.push({ number: option.shortKid, value: Buffer.from(a.shortKid) });
  const code = codeByte(a.code);
  // The `coap` server encodes the same header, token and options; the type and message id do not change the size.
  const bytesWithoutPayload = encodeMessage({ type: TYPE_ACK, code, messageId: 0, token: request.coap.token, options, payload: Buffer.alloc(0) }).length;
  const payload = fitResponse({ type: request.coap.type, bytes: request.datagramBytes }, { code, bytesWithoutPayload, payload: a.payload ?? new Uint8Array(0) });
  // A NON whose answer would outweigh it goes unanswered; for a NON the `coap` response holds no timer.
  if (!payload) return;
  res.code = a.code;
  if (a.contentFormat !== undefined) res.setOption("Content-Format", uintValue(a.contentFormat));
  if (a.maxAgeS !== undefined) res.setOption("Max-Age", uintValue(a.maxAgeS));
  if (a.shortKid !== undefined) res.setOption(String(option.shortKid), Buffer.from(a.shortKid));
  res.end(payload.length > 0 ? Buffer.from(payload) : undefined);
}
