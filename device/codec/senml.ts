// SenML, RFC 8428, CBOR representation (§6): a pack is an array of records, each a map with the
// integer labels of §6 (bn -2, bt -3, bu -4, bv -5, n 0, u 1, v 2, vs 3, vb 4, s 5, t 6, ut 7).
// Encoded deterministically (RFC 8949 §4.2.1): keys 0, 1, 2 in that order (bytewise order of their
// encodings 0x00 < 0x01 < 0x02), v in the shortest float form that holds it exactly (§4.2.2).

import { cborWriterInit, cborArray, cborMap, cborUint, cborText, cborFloat, cborWriterLength } from "./cbor";

// RFC 8428 §6: CBOR labels of the SenML fields.
export const SENML_BASE_NAME: i32 = -2;
export const SENML_BASE_TIME: i32 = -3;
export const SENML_BASE_UNIT: i32 = -4;
export const SENML_BASE_VALUE: i32 = -5;
export const SENML_NAME: i32 = 0;
export const SENML_UNIT: i32 = 1;
export const SENML_VALUE: i32 = 2;
export const SENML_STRING_VALUE: i32 = 3;
export const SENML_BOOL_VALUE: i32 = 4;
export const SENML_SUM: i32 = 5;
export const SENML_TIME: i32 = 6;
export const SENML_UPDATE_TIME: i32 = 7;

/** CoAP Content-Format of application/senml+cbor (RFC 8428, IANA CoAP Content-Formats registry). */
export const SENML_CBOR_CONTENT_FORMAT: u16 = 112;

/**
 * Writes the pack [{0: name, 2: value}, ...] (§4 / §6) into [buf, buf + cap), announcing
 * `extraRecords` more records that the caller appends (senmlAppendUint). The name is the sensor's
 * catalog index as one digit and the unit is left out (§4.5.1 makes it optional): the catalog
 * (device/ABI.md, shared/sensor-catalog.ts) fixes both, and gateways put them back.
 * Returns the bytes written, or -1 if they do not fit.
 * Example: sensor 0, v 21.5 -> 81 a2 00 61 30 02 f9 4d60 (9 bytes).
 */
export function senmlEncodeReading(buf: usize, cap: u32, sensor: u32, value: f64, extraRecords: u32): i32 {
  store<u8>(digit, <u8>(0x30 + sensor));
  cborWriterInit(buf, cap);
  cborArray(1 + extraRecords);
  cborMap(2);
  cborUint(<u64>SENML_NAME);
  cborText(digit, 1);
  cborUint(<u64>SENML_VALUE);
  cborFloat(value);
  return cborWriterLength();
}

const digit = memory.data(1);

/**
 * Appends one record {0: name, 2: value} with an unsigned integer value, after senmlEncodeReading
 * was told to leave room for it (extraRecords). The firmware's version reports (docs/firmware-update.md):
 * "fw" 7 -> a2 00 62 6677 02 07.
 */
export function senmlAppendUint(name: usize, nameLen: u32, value: u64): i32 {
  cborMap(2);
  cborUint(<u64>SENML_NAME);
  cborText(name, nameLen);
  cborUint(<u64>SENML_VALUE);
  cborUint(value);
  return cborWriterLength();
}
