// Typed errors of block sync: a peer served something that does not verify. The block is not
// applied, the peer is backed off, sync asks another one.
import { MoteError } from "../../shared/errors.ts";

export type SyncErrorCode =
  | "SYNC_BAD_CERTIFICATE" // a block whose commit certificate has no valid quorum of the height's validators
  | "SYNC_NOT_A_BLOCK" // bytes the chain cannot hash as a block
  | "SYNC_GAP"; // blocks that do not start at the height asked for

export class SyncError extends MoteError {
  declare readonly code: SyncErrorCode;
  constructor(code: SyncErrorCode, message: string) {
    super(code, message);
  }
}
