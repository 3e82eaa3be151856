// Defaults of the HTTP API in one place. Every limit is named with its unit; a request that
// exceeds one gets a 4xx with a JSON error body, never a slow answer.

export interface ApiOptions {
  /** Largest request body on any route but transaction submission. */
  bodyBytesMax: number;
  /**
   * Largest body of POST /v1/txs (hex or base64 in JSON). A transaction is verified synchronously
   * on admission; 64 KiB bounds that to a few hundred signatures (a few tens of ms).
   */
  submitBodyBytesMax: number;
  /** Items per page on every list endpoint, and the default when `limit` is absent. */
  pageItemsMax: number;
  pageItemsDefault: number;
  /** Widest time range a readings query may span, and the default window ending now. */
  readingsRangeMsMax: number;
  readingsRangeMsDefault: number;
  /** Open SSE streams at most; the next one gets 503. */
  sseClientsMax: number;
  /**
   * Open SSE streams from one remote address (fastify's req.ip) at most; the next one gets 429.
   * A dashboard tab holds one; browsers open at most 6 HTTP/1.1 connections per host anyway.
   * Behind a reverse proxy every client shares its address: raise this, or set trustProxy.
   */
  sseClientsPerAddressMax: number;
  /** Bytes queued to one SSE client before it is dropped as too slow. */
  sseClientBufferBytesMax: number;
  /** Comment line sent to keep idle SSE connections (and proxies) alive. */
  sseHeartbeatMs: number;
  /** Blocks replayed to a client reconnecting with Last-Event-ID, and caught up after a stall. */
  sseReplayBlocksMax: number;
  /** How often the chain head is polled when the consensus source does not push finalizations. */
  headPollMs: number;
  /** A head older than this makes /v1/health answer "degraded". */
  headStaleMs: number;
  /** Time to receive a whole request (headers and body): slow-loris bodies are cut off. */
  requestTimeoutMs: number;
  /** Decoded reading-batch transactions kept for reading lookups (each holds ≤ 4,096 readings). */
  batchCacheTxsMax: number;
  /** Readings of one batch transaction listed inline in GET /v1/txs/:id. */
  txReadingsListedMax: number;
  /** Least time between two GET /v1/snapshot copies (each reads the whole chain file). */
  snapshotIntervalMinMs: number;
}

export const apiDefaults: ApiOptions = {
  bodyBytesMax: 16 << 10,
  submitBodyBytesMax: 64 << 10,
  pageItemsMax: 500,
  pageItemsDefault: 100,
  readingsRangeMsMax: 31 * 24 * 3600_000,
  readingsRangeMsDefault: 24 * 3600_000,
  sseClientsMax: 64,
  sseClientsPerAddressMax: 8,
  sseClientBufferBytesMax: 1 << 20,
  sseHeartbeatMs: 15_000,
  sseReplayBlocksMax: 100,
  headPollMs: 250,
  headStaleMs: 60_000,
  requestTimeoutMs: 10_000,
  batchCacheTxsMax: 64,
  txReadingsListedMax: 100,
  snapshotIntervalMinMs: 10_000,
};
