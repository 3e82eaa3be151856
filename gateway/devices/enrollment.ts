// Enrollment: an owner vouches for a device key (shared/enrollment.ts). The gateway checks the
// owner's signature, then its policy: owners listed in the config are trusted and their devices
// become active at once; others are stored as "pending" for an operator (4.03 until approved),
// unless the gateway runs with open enrollment (development only).
import { decodeEnrollment, enrollmentDeviceId, EnrollmentError, verifyEnrollment } from "../../shared/enrollment.ts";
import { PublicKeyCache, toHex } from "../../shared/ed25519.ts";
import { DeviceError } from "./errors.ts";
import type { DeviceRecord, DeviceRegistry, EnrollOutcome } from "./registry.ts";

export interface EnrollmentPolicy {
  /** Owner public keys (raw 32 bytes) whose enrollments are accepted without approval. */
  trustedOwners: Uint8Array[];
  /** Accept any correctly signed enrollment. Development only: anyone can then add devices. */
  open: boolean;
}

export class EnrollmentService {
  private readonly trusted: Set<string>;

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly policy: EnrollmentPolicy,
    private readonly keys: PublicKeyCache,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.trusted = new Set(policy.trustedOwners.map(toHex));
  }

  /** Enrolls from wire bytes; throws DeviceError with the CoAP code to answer. */
  enroll(bytes: Uint8Array): { record: DeviceRecord; outcome: EnrollOutcome } {
    let e;
    try {
      e = decodeEnrollment(bytes);
    } catch (err) {
      if (!(err instanceof EnrollmentError)) throw err;
      throw new DeviceError(err.code === "ENROLLMENT_TOO_LARGE" ? "ENROLLMENT_TOO_LARGE" : "ENROLLMENT_MALFORMED", `${err.code}: ${err.message}`);
    }
    if (!verifyEnrollment(e, this.keys.get(e.ownerPublicKey))) throw new DeviceError("ENROLLMENT_BAD_SIGNATURE", "owner signature does not verify; sign with the owner key named in the enrollment");
    const deviceId = enrollmentDeviceId(e);
    const existing = this.registry.lookup(deviceId);
    if (existing && Buffer.compare(existing.ownerPublicKey, e.ownerPublicKey) !== 0) {
      throw new DeviceError("ENROLLMENT_CONFLICT", `device ${toHex(deviceId)} is enrolled by another owner; that owner must revoke it first`);
    }
    if (existing && (existing.status === "revoked" || existing.status === "quarantined")) {
      throw new DeviceError("DEVICE_REVOKED", `device ${toHex(deviceId)} is ${existing.status}; an operator must reinstate it`);
    }
    const trusted = this.policy.open || this.trusted.has(toHex(e.ownerPublicKey));
    const record: DeviceRecord = {
      deviceId,
      publicKey: e.devicePublicKey,
      ownerPublicKey: e.ownerPublicKey,
      // An operator's approval (status active) outlives a re-enrollment by the same owner.
      status: trusted || existing?.status === "active" ? "active" : "pending",
      metadata: Object.fromEntries(e.metadata),
      enrolledAtMs: existing?.enrolledAtMs ?? this.nowMs(),
      enrollment: bytes,
    };
    const outcome = this.registry.enroll(record);
    if (record.status === "pending") throw new DeviceError("ENROLLMENT_PENDING", `owner ${toHex(e.ownerPublicKey).slice(0, 16)}… is not trusted here; enrollment queued for operator approval`);
    return { record, outcome };
  }
}
