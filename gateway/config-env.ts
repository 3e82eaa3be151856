// Environment overrides for a gateway's config, applied after the config file and before flags
// (containers and service managers set environment, not argv). Each variable maps to one key;
// values are validated by mergeConfig like any other source.
//
//   MOTE_DATA_DIR  MOTE_LOG_LEVEL  MOTE_UDP_HOST  MOTE_UDP_PORT  MOTE_GENESIS  MOTE_KEY
//   MOTE_CONSENSUS  MOTE_P2P_HOST  MOTE_P2P_PORT  MOTE_PEERS (comma-separated host:port)
//   MOTE_API_HOST  MOTE_API_PORT
import type { GatewayConfig } from "./config.ts";

const port = (v: string) => (/^\d+$/.test(v) ? Number(v) : v); // a non-number is left for mergeConfig to refuse

/** The config fragment the environment asks for ({} when no MOTE_ variable is set). */
export function configFromEnv(env: NodeJS.ProcessEnv, base: GatewayConfig): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (env.MOTE_DATA_DIR) o.dataDir = env.MOTE_DATA_DIR;
  if (env.MOTE_LOG_LEVEL) o.log = { level: env.MOTE_LOG_LEVEL };
  if (env.MOTE_UDP_HOST || env.MOTE_UDP_PORT) o.udp = { ...(env.MOTE_UDP_HOST ? { host: env.MOTE_UDP_HOST } : {}), ...(env.MOTE_UDP_PORT ? { port: port(env.MOTE_UDP_PORT) } : {}) };
  const network: Record<string, unknown> = {};
  if (env.MOTE_GENESIS) network.genesis = env.MOTE_GENESIS;
  if (env.MOTE_KEY) network.key = env.MOTE_KEY;
  if (env.MOTE_CONSENSUS) network.consensus = env.MOTE_CONSENSUS;
  if (env.MOTE_P2P_HOST || env.MOTE_P2P_PORT) network.p2p = { ...(env.MOTE_P2P_HOST ? { host: env.MOTE_P2P_HOST } : {}), ...(env.MOTE_P2P_PORT ? { port: port(env.MOTE_P2P_PORT) } : {}) };
  if (env.MOTE_PEERS !== undefined) network.peers = env.MOTE_PEERS.split(",").map((p) => p.trim()).filter(Boolean);
  if (Object.keys(network).length > 0) o.network = base.network ? network : { genesis: "", key: "", ...network };
  if (env.MOTE_API_HOST || env.MOTE_API_PORT) o.api = { ...(env.MOTE_API_HOST ? { host: env.MOTE_API_HOST } : {}), ...(env.MOTE_API_PORT ? { port: port(env.MOTE_API_PORT) } : {}) };
  return o;
}
