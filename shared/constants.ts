// Wire constants both sides agree on. The device's AssemblyScript has its own copies
// (device/codec/coap.ts); test/device checks the two agree.

/** CoAP Content-Format ids (IANA "CoAP Content-Formats" registry). */
export const contentFormat = {
  senmlCbor: 112, // application/senml+cbor, RFC 8428
  coseSign1: 18, // application/cose; cose-type="cose-sign1", RFC 9052
  cbor: 60, // application/cbor
  text: 0, // text/plain; charset=utf-8 (diagnostic payloads)
  octetStream: 42, // application/octet-stream (firmware images)
} as const;

/** Gateway resource paths. Single letters: every byte on air costs battery. */
export const uriPath = {
  readings: "r", // POST a COSE_Sign1 reading
  time: "t", // GET the gateway's clock
  enroll: "e", // POST an owner-signed enrollment
  health: "h", // GET liveness
  firmware: "f", // GET f/<image id>: a release's image, Block2 (docs/firmware-update.md)
  payloads: "p", // PUT p/<SHA-256 hex>: an off-chain payload, Block1 (docs/payloads.md)
} as const;

/** COSE (RFC 9052) labels and algorithm ids the reading format uses. */
export const cose = {
  tagSign1: 18,
  headerAlg: 1,
  headerKid: 4,
  headerPartialIv: 6,
  algEdDSA: -8,
} as const;

/** SenML CBOR labels (RFC 8428 §6). */
export const senmlLabel = {
  bn: -2,
  bt: -3,
  bu: -4,
  bv: -5,
  n: 0,
  u: 1,
  v: 2,
  vs: 3,
  vb: 4,
  s: 5,
  t: 6,
  ut: 7,
  vd: 8,
  /** RFC 9193 Content-Format: no integer label exists; RFC 8428 §6 has extensions use their text label. */
  ct: "ct",
} as const;

export const deviceIdBytes = 16;
export const ed25519PublicKeyBytes = 32;
export const ed25519SignatureBytes = 64;
/** Partial IV (sequence number) is at most 5 bytes, as in OSCORE (RFC 8613 §6.1). */
export const sequenceMax = 2 ** 40 - 1;

const hexBytes = (hex: string): Uint8Array => Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));

/**
 * Firmware manifest identities (docs/firmware-update.md), UUID v5 (RFC 9562 §5.5) as SUIT suggests
 * (RFC 9124 §4.2.1, RFC 9019 §6.1): vendor id = UUID5(DNS namespace 6ba7b810-9dad-11d1-80b4-00c04fd430c8,
 * "moteledger.dev"); class id = UUID5(vendor id, "Moteledger WASM firmware"). test/shared recomputes both.
 */
export const firmwareVendorId = hexBytes("ef69495fc8ec52448aaf9ae3e73489f6");
export const firmwareClassId = hexBytes("d30c7fb16fd35686a179c2e27e968c93");
