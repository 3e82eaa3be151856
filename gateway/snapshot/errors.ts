// Typed errors of a snapshot join (docs/expiry.md "Sync below the pruning horizon"). Each names what
// did not verify; when one is thrown, nothing was installed in the data directory.
import { MoteError } from "../../shared/errors.ts";

export type SnapshotErrorCode =
  | "SNAPSHOT_DOWNLOAD" // the peer did not answer with a snapshot (HTTP error, cut short, too large)
  | "SNAPSHOT_MALFORMED" // the file is not a chain store this build reads
  | "SNAPSHOT_GENESIS" // its genesis block is not the one the genesis file builds: another network
  | "SNAPSHOT_CHAIN" // a header, hash link, transaction or results root does not verify
  | "SNAPSHOT_CERTIFICATE" // the epoch walk or the tip's commit certificate does not verify
  | "SNAPSHOT_STATE" // the state tables do not give the certified tip's state root
  | "SNAPSHOT_INDEX" // the readings rebuilt from the bodies do not give the devices' certified logs
  | "SNAPSHOT_EXISTS" // the data directory already holds a chain (use --replace)
  | "SNAPSHOT_BUSY" // serving: another snapshot is being taken
  | "SNAPSHOT_RATE" // serving: asked again too soon
  | "SNAPSHOT_UNAVAILABLE"; // serving: this gateway's chain is not in a file

export class SnapshotError extends MoteError {
  declare readonly code: SnapshotErrorCode;
  constructor(code: SnapshotErrorCode, message: string) {
    super(code, message);
  }
}
