// Typed errors of the payload subsystem; each code says what a caller (CoAP resource, API route,
// fetcher, CLI) can act on.
//   PAYLOAD_DIGEST      the bytes do not hash to the digest they were sent or fetched under
//   PAYLOAD_TOO_LARGE   over this gateway's payloadBytesMax (CoAP 4.13 with Size1, HTTP 413)
//   PAYLOAD_INCOMPLETE  a Block1 block that does not continue the upload (CoAP 4.08, RFC 7959 §2.9.2)
//   PAYLOAD_BUSY        too many uploads in flight, from this source or in all (CoAP 5.03 + Max-Age)
//   PAYLOAD_BLOCK       a malformed block (CoAP 4.00)
//   PAYLOAD_STORE_FULL  the store holds payloads.storeBytesMax bytes (CoAP 5.03 + Max-Age; fetches retry)
//   PAYLOAD_FETCH       no peer served the payload (retried later)
import { MoteError } from "../../shared/errors.ts";

export class PayloadError extends MoteError {}
