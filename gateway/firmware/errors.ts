// Typed errors of the gateway's firmware part (image store, fetcher, CoAP image resource).
import { MoteError } from "../../shared/errors.ts";

/** An image that could not be fetched or does not match its manifest. `coapCode` when a device asked. */
export class FirmwareImageError extends MoteError {
  constructor(
    code: string,
    message: string,
    readonly coapCode = "5.03",
    readonly retryAfterS?: number,
  ) {
    super(code, message);
  }
}
