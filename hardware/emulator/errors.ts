// The firmware's error codes (device/ABI.md, "Error codes") as typed errors for Node callers.
import { MoteError } from "../../shared/errors.ts";

export const firmwareErrors: Record<number, { name: string; action: string }> = {
  [-1]: { name: "E_NOT_INITIALIZED", action: "call init first" },
  [-2]: { name: "E_ENTROPY", action: "the entropy source failed; check the TRNG and boot again" },
  [-3]: { name: "E_STORAGE", action: "a storage slot could not be read or written; check the data directory" },
  [-4]: { name: "E_IDENTITY_CORRUPT", action: "slot 0 is not a valid identity; re-provision the device (this makes a new device id)" },
  [-5]: { name: "E_BUSY", action: "the outbox is full; wait for readings to be acknowledged" },
  [-6]: { name: "E_BAD_ARGUMENT", action: "check the sensor index (0-5), the link (0 radio, 1 serial) and that the value is finite" },
  [-7]: { name: "E_LINK", action: "reserved: not returned by v1 firmware" },
  [-8]: { name: "E_MALFORMED", action: "the received bytes were not CoAP" },
  [-9]: { name: "E_SEQUENCE_CORRUPT", action: "slot 1 (sequence counter) is missing or corrupt for an existing identity; re-provision the device" },
};

export class FirmwareError extends MoteError {
  constructor(
    readonly firmwareCode: number,
    operation: string,
  ) {
    const known = firmwareErrors[firmwareCode];
    super(known?.name ?? "E_UNKNOWN", `${operation} failed with ${known?.name ?? firmwareCode}: ${known?.action ?? "unknown firmware error code"}`);
  }
}

/** The firmware trapped or aborted: a firmware bug. The board must reboot it. */
export class FirmwareFault extends MoteError {}
