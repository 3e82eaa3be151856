// A payload anchor: how a signed reading names a large payload kept off chain (an image, a waveform),
// using SenML's own fields (RFC 8428, RFC 9193, RFC 8798). Two records with the same name:
//
//   {0: "img", 8: h'<SHA-256 of the payload, 32 bytes>', "ct": "22"}   vd = the digest, ct = its Content-Format
//   {0: "img", 1: "B", 2: 1048576}                                      the payload's size in bytes (unit B, RFC 8798)
//
// Every record with a data value (`vd`, RFC 8428 §4.3; CBOR label 8, a byte string) is an anchor: the
// value must be 32 bytes, the record must carry `ct` (RFC 9193 §2: a CoAP Content-Format number in
// decimal, no leading zeros, 0-65535; media type strings are refused so the gateway can serve a known
// type), and exactly one record of the same name with unit "B" and an integer value in
// 1..payloadBytesLimit gives its size. A reading holds at most anchorsMax anchors, each name once.
// Pure: records in, anchors out; ReadingError("PAYLOAD_ANCHOR") for any deviation.
import { ReadingError } from "./errors.ts";
import type { SenmlRecord } from "./senml.ts";

export interface PayloadAnchor {
  /** The SenML name both records share. */
  name: string;
  /** SHA-256 of the payload bytes. */
  digest: Uint8Array;
  bytes: number;
  /** CoAP Content-Format number (IANA registry), e.g. 42 application/octet-stream, 22 image/jpeg. */
  contentFormat: number;
}

export const payloadDigestBytes = 32;
/** The largest payload the format can name: 2^32 - 1 bytes. Gateways take far less (their own limit). */
export const payloadBytesLimit = 2 ** 32 - 1;
/** A pack holds at most 16 records (senml.ts), two per anchor. */
export const anchorsMax = 8;
/** RFC 8798's unit for bytes (information content). */
export const payloadSizeUnit = "B";

const fail = (message: string): never => {
  throw new ReadingError("PAYLOAD_ANCHOR", message);
};

function contentFormatNumber(ct: string | undefined, name: string): number {
  if (ct === undefined) return fail(`anchor ${name}: its vd record has no ct (RFC 9193 Content-Format)`);
  // RFC 9193 §2: decimal, no leading zeros except "0" itself, 0-65535.
  if (!/^(0|[1-9][0-9]{0,4})$/.test(ct) || Number(ct) > 65_535) return fail(`anchor ${name}: ct "${ct.slice(0, 40)}" is not a CoAP Content-Format number (0-65535, decimal)`);
  return Number(ct);
}

/** The anchors a reading's records name (empty when none has a vd). */
export function payloadAnchors(records: readonly SenmlRecord[]): PayloadAnchor[] {
  const anchors: PayloadAnchor[] = [];
  for (const r of records) {
    if (r.dataValue === undefined) continue;
    if (r.dataValue.length !== payloadDigestBytes) fail(`anchor ${r.name}: vd is ${r.dataValue.length} bytes; a SHA-256 is ${payloadDigestBytes}`);
    if (anchors.some((a) => a.name === r.name)) fail(`anchor ${r.name}: named twice`);
    const contentFormat = contentFormatNumber(r.contentFormat, r.name);
    const sizes = records.filter((s) => s.name === r.name && s.dataValue === undefined);
    if (sizes.length !== 1) fail(`anchor ${r.name}: needs exactly one size record {n: "${r.name}", u: "B", v: bytes}; found ${sizes.length}`);
    const size = sizes[0];
    if (size.unit !== payloadSizeUnit || size.value === undefined) fail(`anchor ${r.name}: its size record must have unit "B" and a numeric value`);
    const bytes = size.value!;
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > payloadBytesLimit) fail(`anchor ${r.name}: size ${bytes} is not an integer in 1..${payloadBytesLimit}`);
    if (size.time !== undefined || r.time !== undefined) fail(`anchor ${r.name}: anchor records carry no time (the reading's own time applies)`);
    anchors.push({ name: r.name, digest: r.dataValue, bytes, contentFormat });
  }
  if (anchors.length > anchorsMax) fail(`a reading names at most ${anchorsMax} payloads; this one names ${anchors.length}`);
  return anchors;
}

/** The two records that anchor a payload (their order in the pack is free). */
export function anchorRecords(a: PayloadAnchor): SenmlRecord[] {
  if (a.digest.length !== payloadDigestBytes) throw new RangeError(`digest is ${a.digest.length} bytes; expected ${payloadDigestBytes}`);
  if (!Number.isInteger(a.bytes) || a.bytes < 1 || a.bytes > payloadBytesLimit) throw new RangeError(`size ${a.bytes} out of range`);
  if (!Number.isInteger(a.contentFormat) || a.contentFormat < 0 || a.contentFormat > 65_535) throw new RangeError(`content format ${a.contentFormat} out of range`);
  return [
    { name: a.name, dataValue: a.digest, contentFormat: String(a.contentFormat) },
    { name: a.name, unit: payloadSizeUnit, value: a.bytes },
  ];
}

/** Media types of the Content-Formats a gateway serves payloads as (IANA "CoAP Content-Formats"). */
const mediaTypes: Record<number, string> = {
  0: "text/plain; charset=utf-8",
  21: "image/gif",
  22: "image/jpeg",
  23: "image/png",
  41: "application/xml",
  42: "application/octet-stream",
  50: "application/json",
  60: "application/cbor",
  110: "application/senml+json",
  112: "application/senml+cbor",
};

/** The HTTP Content-Type to serve a payload with; unknown formats are served as octet-stream. */
export function mediaTypeOf(contentFormat: number): string {
  return mediaTypes[contentFormat] ?? "application/octet-stream";
}
