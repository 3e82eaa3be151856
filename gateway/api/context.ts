// What the API is built from (ApiDeps, filled by the gateway process) and what its route handlers
// share (ApiContext, built once by server.ts).
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import type { Mempool } from "../chain/mempool.ts";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import type { BlockReader } from "./block-reader.ts";
import type { ChainWatcher } from "./chain-watcher.ts";
import type { ConsensusSource } from "./consensus-source.ts";
import type { ApiOptions } from "./options.ts";
import type { ChainQueries } from "./queries.ts";
import type { SseHub } from "./sse.ts";
import type { FirmwareImageStore } from "../firmware/image-store.ts";
import type { PayloadService } from "../payloads/payload-service.ts";

/** The ingest gateway as the API sees it (IngestGateway fits; all optional). */
export interface IngestStatus {
  /** Flat counters: readingsAccepted, rejected<CODE>, ... (IngestGateway.snapshot()). */
  snapshot(): Record<string, number>;
  /** Readings accepted and not yet in a finalized block. */
  pendingReadings?(): number;
  /**
   * Why acknowledged readings are not reaching the chain, one "CODE: explanation" each (backlog
   * full, oldest pending too old, chain stalled while readings wait, readings lost; IngestGateway.healthReasons).
   */
  healthReasons?(chain: { headAgeMs: number; blockIntervalMs: number }): string[];
}

export interface ApiDeps {
  chain: Chain;
  mempool: Mempool;
  consensus: ConsensusSource;
  /**
   * Admits a transaction (throws the mempool's TxRejected). Default: this gateway's mempool only;
   * under PBFT pass ConsensusNode.submitTx, which also gossips it to the other validators.
   */
  submitTx?: (bytes: Uint8Array) => unknown;
  /** This gateway's validator / gateway id, shown by /v1/health. */
  nodeId?: Uint8Array;
  ingest?: IngestStatus;
  /** Shared with the rest of the gateway; created here when absent. */
  metrics?: GatewayMetrics;
  log?: Logger;
  /** The node's clock (Unix ms); tests inject one. */
  clock?: () => number;
  /** Firmware images this gateway keeps (gateway/firmware/image-store.ts); firmware upload/serving answer 503 without. */
  firmwareImages?: FirmwareImageStore;
  /** Off-chain payloads (gateway/payloads/payload-service.ts); the payload routes answer 503 without. */
  payloads?: PayloadService;
}

export interface ApiContext {
  chain: Chain;
  mempool: Mempool;
  consensus: ConsensusSource;
  submitTx: (bytes: Uint8Array) => unknown;
  nodeId: Uint8Array | undefined;
  ingest: IngestStatus | undefined;
  metrics: GatewayMetrics;
  queries: ChainQueries;
  reader: BlockReader;
  watcher: ChainWatcher;
  sse: SseHub;
  options: ApiOptions;
  clock: () => number;
  log: Logger;
  startedAtMs: number;
  firmwareImages: FirmwareImageStore | undefined;
  payloads: PayloadService | undefined;
}
