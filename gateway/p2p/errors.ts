// Typed errors of the p2p subsystem: what a peer did wrong (the connection is closed and the
// peer backed off) or what the operator must fix (a bad listen address, an unknown chain).
import { MoteError } from "../../shared/errors.ts";

export type P2pErrorCode =
  | "P2P_MALFORMED" // a frame that does not decode
  | "P2P_FRAME_TOO_LARGE" // a length prefix over frameBytesMax
  | "P2P_HANDSHAKE" // the peer did not prove its key, spoke another version or for another chain, or its auth did not open
  | "P2P_DECRYPT" // a sealed frame failed its tag: altered, replayed, reordered or injected on the path
  | "P2P_SESSION_EXHAUSTED" // a direction used up its frames under one key (sessionFramesMax); the redial makes new keys
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

/**
 * Codes that say the bytes on the link were not what an honest peer sends through an honest path:
 * a possible attack (or a broken peer), logged as warnings with the peer and the reason.
 */
export const linkIntegrityCodes: ReadonlySet<P2pErrorCode> = new Set(["P2P_DECRYPT", "P2P_HANDSHAKE", "P2P_MALFORMED", "P2P_FRAME_TOO_LARGE"]);
