// Builds one signed reading: SenML pack → COSE_Sign1 (EdDSA) with kid and sequence number in the
// protected header. Format: shared/reading.ts (format 2, "compact"), RFC 9052 §4.2/§4.4.
import { senmlAppendUint, senmlEncodeReading } from "./codec/senml";
import { failedVersion, failureReason, reportPending, runningVersion } from "./update";
import { coseProtectedHeader, coseSigStructure, coseSign1 } from "./codec/cose";
import { ed25519Sign } from "./crypto/ed25519";
import { publicKey, seedPtr } from "./identity";
import { kidLength, kidPtr } from "./short-kid";

const PAYLOAD_BYTES_MAX: u32 = 96; // a measurement (≤ 14) and the firmware records (≤ 40)
const PROTECTED_BYTES_MAX: u32 = 32; // {4: 16-byte kid, 6: 5-byte Partial IV} is 27
const SIG_STRUCTURE_BYTES_MAX: u32 = 160;

// SenML names of the firmware records (docs/firmware-update.md "Version reports").
const NAME_FW = memory.data<u8>([0x66, 0x77]); // "fw"
const NAME_FW_FAIL = memory.data<u8>([0x66, 0x77, 0x2e, 0x66, 0x61, 0x69, 0x6c]); // "fw.fail"
const NAME_FW_WHY = memory.data<u8>([0x66, 0x77, 0x2e, 0x77, 0x68, 0x79]); // "fw.why"

const payload = memory.data(<i32>PAYLOAD_BYTES_MAX);
const protectedHeader = memory.data(<i32>PROTECTED_BYTES_MAX);
const toBeSigned = memory.data(<i32>SIG_STRUCTURE_BYTES_MAX);
const signature = memory.data(64);

/**
 * Writes the COSE_Sign1 for (catalog sensor, value, sequence) into out; returns its length or -1 if
 * any part does not fit its buffer.
 */
export function buildSignedReading(out: usize, cap: u32, sensor: u32, value: f64, sequence: u64): i32 {
  // Until a gateway acknowledges one, readings after a boot (or a refused install) say which firmware signed them.
  const report = reportPending;
  const failed = report && failedVersion() != 0;
  let payloadLen = senmlEncodeReading(payload, PAYLOAD_BYTES_MAX, sensor, value, report ? (failed ? 3 : 1) : 0);
  if (report) payloadLen = senmlAppendUint(NAME_FW, 2, runningVersion());
  if (failed) {
    senmlAppendUint(NAME_FW_FAIL, 7, failedVersion());
    payloadLen = senmlAppendUint(NAME_FW_WHY, 6, failureReason());
  }
  if (payloadLen < 0) return -1;
  return sign(out, cap, <u32>payloadLen, sequence);
}

/**
 * Signs the payload of the reading at `msg` again, under `sequence` and the current kid, into the
 * same place: for a reading a gateway refused because of its short kid. A new sequence number,
 * never the old one: two readings under one number are equivocation (device/identity.ts).
 * `msg` is a message this file built: 18([bstr prot, {}, bstr payload, sig]), payload ≤ 96 bytes.
 */
export function resignReading(msg: usize, cap: u32, sequence: u64): i32 {
  let p = msg + 2; // d2 84
  p = skipBytes(p) + 1; // bstr(prot), a0
  const start = bytesStart(p);
  const len = <u32>(skipBytes(p) - start);
  if (len > PAYLOAD_BYTES_MAX) return -1;
  memory.copy(payload, start, len);
  return sign(msg, cap, len, sequence);
}

// A bstr head here is 0x40-0x57 (length in the head) or 0x58 <len> (RFC 8949 §3.1): all ≤ 255 bytes.
@inline function bytesStart(p: usize): usize {
  return p + (load<u8>(p) == 0x58 ? 2 : 1);
}
function skipBytes(p: usize): usize {
  const head = load<u8>(p);
  return bytesStart(p) + (head == 0x58 ? load<u8>(p + 1) : head & 31);
}

/**
 * True if the reading at `msg` (a message this file built) carries the firmware records: its SenML
 * pack has more than the measurement, an array head after 0x81 (senmlEncodeReading's extraRecords).
 */
export function carriesFirmwareReport(msg: usize): bool {
  const payload = bytesStart(skipBytes(msg + 2) + 1); // d2 84, bstr(prot), a0, bstr(payload)
  return load<u8>(payload) > 0x81;
}

/** True if the reading at `msg` is signed under a short kid: d2 84 4L a2 04 <kid head 0x41-0x44>. */
export function signedUnderShortKid(msg: usize): bool {
  const kidHead = load<u8>(msg + 5);
  return load<u8>(msg + 2) != 0x58 && kidHead >= 0x41 && kidHead <= 0x44;
}

function sign(out: usize, cap: u32, payloadLen: u32, sequence: u64): i32 {
  const protLen = coseProtectedHeader(protectedHeader, PROTECTED_BYTES_MAX, kidPtr(), kidLength(), sequence);
  if (protLen < 0) return -1;
  const tbsLen = coseSigStructure(toBeSigned, SIG_STRUCTURE_BYTES_MAX, protectedHeader, <u32>protLen, payload, payloadLen);
  if (tbsLen < 0) return -1;
  ed25519Sign(seedPtr(), publicKey, toBeSigned, <u32>tbsLen, signature);
  return coseSign1(out, cap, protectedHeader, <u32>protLen, payload, payloadLen, signature);
}
