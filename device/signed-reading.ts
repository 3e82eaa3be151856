// Builds one signed reading: SenML pack → COSE_Sign1 (EdDSA) with the sequence number as the
// protected Partial IV and kid = device id. Format: shared/reading.ts, RFC 9052 §4.2/§4.4.
import { senmlAppendUint, senmlEncodeReading } from "./codec/senml";
import { failedVersion, failureReason, reportPending, runningVersion, updateReported } from "./update";
import { coseProtectedHeader, coseSigStructure, coseSign1 } from "./codec/cose";
import { ed25519Sign } from "./crypto/ed25519";
import { deviceId, DEVICE_ID_BYTES, publicKey, seedPtr } from "./identity";

const PAYLOAD_BYTES_MAX: u32 = 96; // a measurement (≤ 48) and the firmware records (≤ 40)
const PROTECTED_BYTES_MAX: u32 = 16;
const SIG_STRUCTURE_BYTES_MAX: u32 = 144;

// SenML names of the firmware records (docs/firmware-update.md "Version reports").
const NAME_FW = memory.data<u8>([0x66, 0x77]); // "fw"
const NAME_FW_FAIL = memory.data<u8>([0x66, 0x77, 0x2e, 0x66, 0x61, 0x69, 0x6c]); // "fw.fail"
const NAME_FW_WHY = memory.data<u8>([0x66, 0x77, 0x2e, 0x77, 0x68, 0x79]); // "fw.why"

const payload = memory.data(<i32>PAYLOAD_BYTES_MAX);
const protectedHeader = memory.data(<i32>PROTECTED_BYTES_MAX);
const toBeSigned = memory.data(<i32>SIG_STRUCTURE_BYTES_MAX);
const signature = memory.data(64);

/**
 * Writes the COSE_Sign1 for (name, unit, value, sequence) into out; returns its length or -1 if
 * any part does not fit its buffer.
 */
export function buildSignedReading(
  out: usize, cap: u32,
  name: usize, nameLen: u32, unit: usize, unitLen: u32,
  value: f64, sequence: u64,
): i32 {
  // The first reading after a boot (or a refused install) says which firmware signed it.
  const report = reportPending;
  const failed = report && failedVersion() != 0;
  let payloadLen = senmlEncodeReading(payload, PAYLOAD_BYTES_MAX, name, nameLen, unit, unitLen, value, report ? (failed ? 3 : 1) : 0);
  if (report) payloadLen = senmlAppendUint(NAME_FW, 2, runningVersion());
  if (failed) {
    senmlAppendUint(NAME_FW_FAIL, 7, failedVersion());
    payloadLen = senmlAppendUint(NAME_FW_WHY, 6, failureReason());
  }
  if (payloadLen < 0) return -1;
  if (report) updateReported();
  const protLen = coseProtectedHeader(protectedHeader, PROTECTED_BYTES_MAX, sequence);
  if (protLen < 0) return -1;
  const tbsLen = coseSigStructure(toBeSigned, SIG_STRUCTURE_BYTES_MAX, protectedHeader, <u32>protLen, payload, <u32>payloadLen);
  if (tbsLen < 0) return -1;
  ed25519Sign(seedPtr(), publicKey, toBeSigned, <u32>tbsLen, signature);
  return coseSign1(out, cap, protectedHeader, <u32>protLen, deviceId, DEVICE_ID_BYTES, payload, <u32>payloadLen, signature);
}
