// Why a reading (or enrollment) was refused, as a stable code, the CoAP response code the device
// gets (RFC 7252 §5.9.2, RFC 8516 for 4.29) and a message that says what to do. The message is
// also the diagnostic payload (RFC 7252 §5.5.2), so it stays short: every byte goes on air.
import { MoteError } from "../../shared/errors.ts";

export const ingestCodes = {
  MALFORMED: "4.00", // not a COSE_Sign1 reading we can decode
  BAD_SIGNATURE: "4.01", // does not verify under the enrolled key
  UNKNOWN_DEVICE: "4.03", // not enrolled here
  UNKNOWN_KID: "4.04", // a compact reading's short kid names no device: the firmware forgets it and re-signs under its id
  KID_MISMATCH: "4.01", // a short kid's device did not sign this: the same remedy; not counted as misbehaviour
  DEVICE_REVOKED: "4.03",
  DEVICE_QUARANTINED: "4.03",
  DEVICE_PENDING: "4.03", // enrolled by an untrusted owner, waiting for an operator
  REPLAY: "4.09", // sequence number reused with different bytes
  STALE: "4.09", // sequence number older than the replay window
  TOO_LARGE: "4.13",
  CONTENT_FORMAT: "4.15",
  RATE_LIMITED: "4.29",
  STORE_FAILED: "5.03", // could not commit: the device keeps the reading and retries
  OVERLOADED: "5.03", // commit queue full: back-pressure, the device retries after Max-Age
  BACKLOG_FULL: "5.03", // too many acknowledged readings wait for the chain: keep it, retry after Max-Age
  BACKLOG_BEHIND: "5.03", // the chain takes readings slower than they come: those waiting would wait too long; retry after Max-Age
} as const;

export type IngestCode = keyof typeof ingestCodes;

export class IngestError extends MoteError {
  declare readonly code: IngestCode;
  constructor(
    code: IngestCode,
    message: string,
    /** Seconds the client should wait before retrying (CoAP Max-Age on 4.29/5.03, RFC 8516 §3). */
    readonly retryAfterS?: number,
  ) {
    super(code, message);
  }

  get coapCode(): string {
    return ingestCodes[this.code];
  }
}

/** Codes that count against a device as misbehaviour (for quarantine later, BRIEF §5, clause 9.3). */
export const misbehaviourCodes: ReadonlySet<IngestCode> = new Set(["BAD_SIGNATURE", "REPLAY", "STALE", "RATE_LIMITED"]);
