// Typed errors of the storage subsystem. A StorageError is an operating error (wrong directory,
// database of another network, unsupported schema) with a message that says what to do; damage
// to the data itself throws StorageCorruption, which stops the node rather than build on it.
import { MoteError } from "../../shared/errors.ts";

export class StorageError extends MoteError {}

export class StorageCorruption extends Error {
  override name = "StorageCorruption";
}

export function storageAssert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StorageCorruption(message);
}
