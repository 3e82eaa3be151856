// Defaults of block sync, in one place.

export interface SyncOptions {
  /** Blocks asked per request (≤ p2p's syncBlocksPerResponseMax). */
  requestBlocksMax: number;
  /** Bytes of blocks served per response; the last block may be cut to the next response. */
  responseBytesMax: number;
  /** A request unanswered this long is abandoned and its peer backed off. */
  requestTimeoutMs: number;
  /** How long a peer that failed us (timeout, bad certificate, empty answer) is not asked; doubles per failure in a row. */
  peerBackoffMs: number;
  peerBackoffMaxMs: number;
  /** Peers whose tips are tracked. */
  peersMax: number;
}

export const syncDefaults: SyncOptions = {
  requestBlocksMax: 32,
  responseBytesMax: 16 << 20,
  requestTimeoutMs: 5_000,
  peerBackoffMs: 2_000,
  peerBackoffMaxMs: 60_000,
  peersMax: 1024,
};
