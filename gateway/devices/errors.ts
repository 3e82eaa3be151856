// Refusals of the device registry and enrollment, with the CoAP code the requester gets.
import { MoteError } from "../../shared/errors.ts";

export const deviceCodes = {
  ENROLLMENT_MALFORMED: "4.00",
  ENROLLMENT_BAD_SIGNATURE: "4.01",
  ENROLLMENT_PENDING: "4.03", // owner not trusted here: queued for an operator's approval
  DEVICE_REVOKED: "4.03",
  ENROLLMENT_CONFLICT: "4.09", // the device is enrolled by another owner
  ENROLLMENT_TOO_LARGE: "4.13",
} as const;

export type DeviceCode = keyof typeof deviceCodes;

export class DeviceError extends MoteError {
  declare readonly code: DeviceCode;
  constructor(code: DeviceCode, message: string) {
    super(code, message);
  }

  get coapCode(): string {
    return deviceCodes[this.code];
  }
}
