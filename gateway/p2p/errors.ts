// Typed errors of the p2p subsystem: what a peer did wrong (the connection is closed and the
// peer backed off) or what the operator must fix (a bad listen address, an unknown chain).
import { MoteError } from "../../shared/errors.ts";

export type P2pErrorCode =
  | "P2P_MALFORMED" // a frame that does not decode
  | "P2P_FRAME_TOO_LARGE" // a length prefix over frameBytesMax
  | "P2P_HANDSHAKE" // the peer did not prove its key, or spoke for another chain
  | "P2P_HANDSHAKE_TIMEOUT"
  | "P2P_UNKNOWN_PEER" // an authenticated key that is not on this node's allow list
  | "P2P_RATE_LIMITED" // frames or bytes above the per-peer rate, for too long
  | "P2P_QUEUE_FULL" // the peer does not read: its send queue hit queueFramesMax / queueBytesMax
  | "P2P_DUPLICATE" // a second connection to the same peer (the older one is kept)
  | "P2P_SELF"; // we dialled ourselves

export class P2pError extends MoteError {
  declare readonly code: P2pErrorCode;
  constructor(code: P2pErrorCode, message: string) {
    super(code, message);
  }
}
