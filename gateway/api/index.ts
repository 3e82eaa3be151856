// The API's public surface: what the gateway process imports to mount the HTTP API, the
// dashboard and /metrics (see server.ts for the example).
export { createApiServer, type ApiServer } from "./server.ts";
export type { ApiDeps, IngestStatus } from "./context.ts";
export { SoloConsensusSource, type ConsensusSource, type ConsensusSnapshot, type ConsensusVote } from "./consensus-source.ts";
export { PbftConsensusSource, type PbftNodeStatus } from "./pbft-source.ts";
export { apiDefaults, type ApiOptions } from "./options.ts";
export { openApiDocument } from "./openapi.ts";
export { GatewayMetrics, type MetricsSources } from "../metrics/gateway-metrics.ts";
