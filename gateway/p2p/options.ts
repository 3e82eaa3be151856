// Defaults of the p2p subsystem, in one place. Every queue, frame and rate has its maximum here;
// exceeding one is a handled event (a dropped frame, a closed connection), never a slowdown.
import { sessionFramesMaxDefault } from "./session-cipher.ts";

export interface P2pOptions {
  /** Largest frame payload accepted or sent: a block at the chain's limit plus its envelope (sealed: 16 bytes more on the wire). */
  frameBytesMax: number;
  /** Frames per direction under one session key; the link then closes and the redial makes new keys (session-cipher.ts). */
  sessionFramesMax: number;
  /** Frames waiting to be written to one peer; beyond it the connection is closed (the peer does not read). */
  queueFramesMax: number;
  /** Bytes waiting to be written to one peer. */
  queueBytesMax: number;
  /** Frames per second accepted from one peer, and the burst above it. */
  rateFramesPerS: number;
  rateFramesBurst: number;
  /** Bytes per second accepted from one peer, and the burst above it. */
  rateBytesPerS: number;
  rateBytesBurst: number;
  /** Frames over the rate dropped in a row before the connection is closed. */
  rateDropsBeforeCloseMax: number;
  /** The peer must prove its key within this time of connecting. */
  handshakeTimeoutMs: number;
  /** Reconnect backoff: base, doubling per failure, capped; ± jitter fraction. */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  reconnectJitter: number;
  /** Connections held at once (inbound and outbound together). */
  peersMax: number;
  /** Transaction ids remembered by gossip so a transaction is relayed once. */
  gossipSeenMax: number;
  /** Upcoming proposers a transaction is gossiped to. */
  gossipProposersAhead: number;
}

export const p2pDefaults: P2pOptions = {
  frameBytesMax: (8 << 20) + (64 << 10),
  sessionFramesMax: sessionFramesMaxDefault,
  queueFramesMax: 4096,
  queueBytesMax: 64 << 20,
  rateFramesPerS: 5_000,
  rateFramesBurst: 10_000,
  rateBytesPerS: 64 << 20,
  rateBytesBurst: 128 << 20,
  rateDropsBeforeCloseMax: 1_000,
  handshakeTimeoutMs: 5_000,
  reconnectBaseMs: 200,
  reconnectMaxMs: 10_000,
  reconnectJitter: 0.2,
  peersMax: 128,
  gossipSeenMax: 100_000,
  gossipProposersAhead: 3,
};
