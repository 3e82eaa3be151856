// Typed errors shared by both sides' tooling. Each carries a stable `code` a caller can branch on
// and a message that says what was wrong and what to do.

export class MoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bytes that are not the CBOR we accept (malformed, non-deterministic, over a limit). */
export class CborError extends MoteError {}

/** A signed reading that does not decode or does not verify. */
export class ReadingError extends MoteError {}

/**
 * A firmware manifest or image refused. `code` is the boot loader's failure reason name
 * (docs/firmware-update.md): MANIFEST, SIGNATURE, DIGEST, VERSION, ABI.
 */
export class FirmwareError extends MoteError {}
