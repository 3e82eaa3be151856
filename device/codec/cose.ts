// COSE_Sign1, RFC 9052, with EdDSA (RFC 9053 §2.2) over a SenML reading: the compact reading
// (format 2 of shared/reading.ts, which has the byte accounting).
//
// The signed reading (all CBOR in core deterministic encoding, RFC 8949 §4.2.1):
//
//   18(                                  ; COSE_Sign1 tag (RFC 9052 §2, §4.2): self-describing, so
//                                        ; the CoAP request needs no Content-Format option
//     [ bstr .cbor protected,            ; protected = {4: h'<kid>', 6: h'<seq>'}
//       {},                              ; unprotected: empty
//       bstr payload,                    ; the SenML pack (RFC 8428 §6)
//       bstr signature ])                ; 64-byte Ed25519 signature (RFC 8032 §5.1.6)
//
//   protected map: label 4 (kid, §3.1) = the short kid the chain assigned (1-4 bytes) or, until the
//   device has learned it, its 16-byte device id; signed, so a gateway resolves only what the device
//   said. No label 1 (alg): RFC 9052 Appendix A.1, the algorithm is fixed by the enrolled Ed25519 key.
//   Label 6 (Partial IV, §3.1) = the device's monotonic sequence number encoded as OSCORE encodes its
//   Partial IV (RFC 8613 §5, §6.1): big-endian, leading zero bytes removed, 0 as h'00', at most 5
//   bytes (so seq < 2^40). Being protected, it is covered by the signature: the replay counter.
//
//   signed bytes: Sig_structure = ["Signature1", bstr protected, h'' (external_aad), bstr payload]
//   (§4.4), encoded deterministically.

import { cborWriterInit, cborArray, cborMap, cborUint, cborBytes, cborText, cborTag, cborWriterLength } from "./cbor";

export const COSE_TAG_SIGN1: u64 = 18; // RFC 9052 §2, Table 1
export const COSE_HEADER_KID: u32 = 4; // RFC 9052 §3.1, Table 2
export const COSE_HEADER_PARTIAL_IV: u32 = 6;
export const COSE_SIGNATURE_BYTES: u32 = 64; // Ed25519, RFC 8032 §5.1.6
/** Sequence numbers must stay below 2^40 to fit a 5-byte Partial IV. */
export const COSE_SEQ_LIMIT: u64 = <u64>1 << 40;

// "Signature1", the context string of a COSE_Sign1 Sig_structure (§4.4).
const SIGNATURE1 = memory.data<u8>([0x53, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x31]);
const SIGNATURE1_BYTES: u32 = 10;
// The Partial IV's bytes are assembled here, right-aligned, before being copied out as a bstr.
const partialIv = memory.data(8);

/**
 * Writes the protected header map {4: h'<kid>', 6: h'<seq>'} (not yet wrapped in a bstr).
 * Returns its length, or -1 if it does not fit or seq >= 2^40.
 * Example: kid h'0102', seq 300 -> a2 04 42 0102 06 42 012c.
 */
export function coseProtectedHeader(buf: usize, cap: u32, kid: usize, kidLen: u32, seq: u64): i32 {
  if (seq >= COSE_SEQ_LIMIT) return -1;
  // RFC 8613 §5, §6.1: big-endian with leading zeros removed; 0 keeps one byte.
  let ivLen: u32 = 1;
  while (ivLen < 8 && (seq >> (<u64>(ivLen << 3))) != 0) ivLen++;
  store<u64>(partialIv, bswap<u64>(seq));
  cborWriterInit(buf, cap);
  cborMap(2);
  cborUint(COSE_HEADER_KID); // keys in bytewise order: 0x04 < 0x06 (RFC 8949 §4.2.1)
  cborBytes(kid, kidLen);
  cborUint(COSE_HEADER_PARTIAL_IV);
  cborBytes(partialIv + 8 - ivLen, ivLen);
  return cborWriterLength();
}

/**
 * Writes the Sig_structure of a COSE_Sign1 (RFC 9052 §4.4, steps 1-2):
 * ["Signature1", bstr(protected), h'' (no external AAD), bstr(payload)]. These bytes are what
 * Ed25519 signs. Returns their length, or -1 if they do not fit.
 */
export function coseSigStructure(
  buf: usize, cap: u32, prot: usize, protLen: u32, payload: usize, payloadLen: u32,
): i32 {
  cborWriterInit(buf, cap);
  cborArray(4);
  cborText(SIGNATURE1, SIGNATURE1_BYTES);
  cborBytes(prot, protLen);
  cborBytes(0, 0); // external_aad: empty (§4.3)
  cborBytes(payload, payloadLen);
  return cborWriterLength();
}

/**
 * Writes the tagged COSE_Sign1 message (RFC 9052 §4.2):
 * 18([bstr(protected), {}, bstr(payload), bstr(signature)]); sig points at 64 bytes.
 * Returns its length, or -1 if it does not fit.
 */
export function coseSign1(
  buf: usize, cap: u32, prot: usize, protLen: u32, payload: usize, payloadLen: u32, sig: usize,
): i32 {
  cborWriterInit(buf, cap);
  cborTag(COSE_TAG_SIGN1);
  cborArray(4);
  cborBytes(prot, protLen);
  cborMap(0);
  cborBytes(payload, payloadLen);
  cborBytes(sig, COSE_SIGNATURE_BYTES);
  return cborWriterLength();
}
