// Gateway configuration: defaults, a JSON config file, then command-line flags, in that order.
// Unknown keys are refused (a typo must not silently fall back to a default), and every error
// names the key and what it should be.
//
//   {
//     "dataDir": ".moteledger/gateway",
//     "udp": { "host": "0.0.0.0", "port": 5683 },          // null: no UDP
//     "serial": [{ "path": "/dev/ttyUSB0", "baudRate": 115200 }],
//     "log": { "level": "info" },
//     "enrollment": { "trustedOwners": ["<64 hex digits>"], "open": false },
//     "ingest": { "rateReadingsPerS": 10, "rateBurst": 20, … },   // gateway/ingest/options.ts
//     "coap": { "piggybackReplyMs": 500, … },
//     "statsIntervalMs": 60000,
//     "network": {                                          // null: ingest only, no chain
//       "genesis": "net/genesis.json", "key": "net/gateway-1.key.json",
//       "consensus": "pbft",                                // or "solo" (single validator)
//       "p2p": { "host": "127.0.0.1", "port": 7401 }, "peers": ["127.0.0.1:7402"]
//     },
//     "api": { "host": "127.0.0.1", "port": 8080 },         // HTTP API, dashboard, /metrics; needs network
//     "payloads": { "bytesMax": 4194304, "peers": ["http://10.0.0.2:8080"], … }   // off-chain payloads (docs/payloads.md)
//   }
import { readFileSync } from "node:fs";
import type { LevelWithSilent } from "pino";
import { MoteError } from "../shared/errors.ts";
import { ingestDefaults, type IngestOptions } from "./ingest/options.ts";

export class ConfigError extends MoteError {}

export interface SerialConfig {
  path: string;
  baudRate: number;
}

export interface NetworkConfig {
  genesis: string;
  /** The gateway's key file: its validator, account and co-signing identity. */
  key: string;
  consensus: "pbft" | "solo";
  p2p: { host: string; port: number };
  /** Bootstrap peers as host:port; validators' registered endpoints are dialled as well. */
  peers: string[];
}

export interface GatewayConfig {
  dataDir: string;
  udp: { host: string; port: number } | null;
  serial: SerialConfig[];
  log: { level: LevelWithSilent };
  enrollment: { trustedOwners: string[]; open: boolean };
  ingest: IngestOptions;
  coap: {
    piggybackReplyMs: number;
    udpReceiveBufferBytes: number;
    serialFrameBytesMax: number;
    serialWriteQueueBytesMax: number;
  };
  /** How often counters are logged (0: never). */
  statsIntervalMs: number;
  /** The chain this gateway runs with the others (null: ingest only; readings wait in the pending store). */
  network: NetworkConfig | null;
  /** HTTP API, dashboard and /metrics (null: none). Needs `network`. */
  api: { host: string; port: number } | null;
  /** Off-chain payloads (gateway/payloads/): upload limits and the gateways to fetch missing ones from. */
  payloads: PayloadsConfig;
}

export interface PayloadsConfig {
  /** Largest payload kept (uploads answer 4.13 with Size1 above it; larger anchored payloads are not fetched). */
  bytesMax: number;
  /** All payloads kept together, at most (uploads answer 5.03 past it, fetches wait). */
  storeBytesMax: number;
  uploadsPerSourceMax: number;
  uploadsMax: number;
  /** A Block1 upload without a block for this long is dropped with its temporary file. */
  uploadIdleMs: number;
  /** Longest wait between two fetch rounds of a missing payload (back-off doubles from 1 s up to this). */
  fetchRetryMaxMs: number;
  /** Other gateways' API base URLs, asked for anchored payloads this gateway lacks. */
  peers: string[];
}

export const defaultCoapPort = 5683; // RFC 7252 §6.1

export function defaultConfig(): GatewayConfig {
  return {
    dataDir: ".moteledger/gateway",
    udp: { host: "0.0.0.0", port: defaultCoapPort },
    serial: [],
    log: { level: "info" },
    enrollment: { trustedOwners: [], open: false },
    ingest: { ...ingestDefaults },
    // 500 ms: well inside the device's ACK_TIMEOUT (2 s), so a slow commit never causes a retransmission.
    coap: { piggybackReplyMs: 500, udpReceiveBufferBytes: 4 << 20, serialFrameBytesMax: 1280, serialWriteQueueBytesMax: 64 << 10 },
    statsIntervalMs: 60_000,
    network: null,
    api: null,
    payloads: { bytesMax: 4 << 20, storeBytesMax: 1 << 30, uploadsPerSourceMax: 2, uploadsMax: 32, uploadIdleMs: 60_000, fetchRetryMaxMs: 60_000, peers: [] },
  };
}

const levels = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

type Json = unknown;

function fail(key: string, what: string): never {
  throw new ConfigError("CONFIG_INVALID", `config "${key}": ${what}`);
}

function object(v: Json, key: string): Record<string, Json> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(key, "must be an object");
  return v as Record<string, Json>;
}

function onlyKeys(o: Record<string, Json>, allowed: object, key: string): void {
  for (const k of Object.keys(o)) if (!(k in allowed)) fail(key ? `${key}.${k}` : k, `unknown key; known: ${Object.keys(allowed).join(", ")}`);
}

function int(v: Json, key: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(key, `must be an integer from ${min} to ${max}`);
  return v;
}

function str(v: Json, key: string): string {
  if (typeof v !== "string" || v.length === 0) fail(key, "must be a non-empty string");
  return v;
}

function ownerKey(v: Json, key: string): string {
  if (typeof v !== "string" || !/^[0-9a-fA-F]{64}$/.test(v)) fail(key, "must be an Ed25519 public key as 64 hex digits");
  return v.toLowerCase();
}

/** Merges a parsed config object over `base`, validating every key. */
export function mergeConfig(base: GatewayConfig, raw: Json): GatewayConfig {
  const o = object(raw, "(root)");
  onlyKeys(o, base, "");
  const c: GatewayConfig = structuredClone(base);
  if (o.dataDir !== undefined) c.dataDir = str(o.dataDir, "dataDir");
  if (o.udp === null) c.udp = null;
  else if (o.udp !== undefined) {
    const u = object(o.udp, "udp");
    onlyKeys(u, { host: 0, port: 0 }, "udp");
    c.udp = { host: u.host === undefined ? (c.udp?.host ?? "0.0.0.0") : str(u.host, "udp.host"), port: u.port === undefined ? (c.udp?.port ?? defaultCoapPort) : int(u.port, "udp.port", 0, 65535) };
  }
  if (o.serial !== undefined) {
    if (!Array.isArray(o.serial)) fail("serial", "must be an array of { path, baudRate }");
    c.serial = o.serial.map((s, i) => {
      const so = object(s, `serial[${i}]`);
      onlyKeys(so, { path: 0, baudRate: 0 }, `serial[${i}]`);
      return { path: str(so.path, `serial[${i}].path`), baudRate: so.baudRate === undefined ? 115_200 : int(so.baudRate, `serial[${i}].baudRate`, 50, 4_000_000) };
    });
  }
  if (o.log !== undefined) {
    const l = object(o.log, "log");
    onlyKeys(l, c.log, "log");
    if (l.level !== undefined) {
      if (typeof l.level !== "string" || !levels.has(l.level)) fail("log.level", `must be one of ${[...levels].join(", ")}`);
      c.log.level = l.level as LevelWithSilent;
    }
  }
  if (o.enrollment !== undefined) {
    const e = object(o.enrollment, "enrollment");
    onlyKeys(e, c.enrollment, "enrollment");
    if (e.trustedOwners !== undefined) {
      if (!Array.isArray(e.trustedOwners)) fail("enrollment.trustedOwners", "must be an array of hex public keys");
      c.enrollment.trustedOwners = e.trustedOwners.map((k, i) => ownerKey(k, `enrollment.trustedOwners[${i}]`));
    }
    if (e.open !== undefined) {
      if (typeof e.open !== "boolean") fail("enrollment.open", "must be true or false");
      c.enrollment.open = e.open;
    }
  }
  if (o.ingest !== undefined) c.ingest = mergeInts(c.ingest, object(o.ingest, "ingest"), "ingest");
  if (o.coap !== undefined) c.coap = mergeInts(c.coap, object(o.coap, "coap"), "coap");
  if (o.statsIntervalMs !== undefined) c.statsIntervalMs = int(o.statsIntervalMs, "statsIntervalMs", 0, 86_400_000);
  if (o.network === null) c.network = null;
  else if (o.network !== undefined) c.network = mergeNetwork(c.network, object(o.network, "network"));
  if (o.payloads !== undefined) c.payloads = mergePayloads(c.payloads, object(o.payloads, "payloads"));
  if (o.api === null) c.api = null;
  else if (o.api !== undefined) c.api = hostPort(o.api, "api", c.api ?? { host: "127.0.0.1", port: 8080 });
  return validate(c);
}

function hostPort(v: Json, key: string, base: { host: string; port: number }): { host: string; port: number } {
  const o = object(v, key);
  onlyKeys(o, { host: 0, port: 0 }, key);
  return { host: o.host === undefined ? base.host : str(o.host, `${key}.host`), port: o.port === undefined ? base.port : int(o.port, `${key}.port`, 0, 65535) };
}

function mergeNetwork(base: NetworkConfig | null, o: Record<string, Json>): NetworkConfig {
  onlyKeys(o, { genesis: 0, key: 0, consensus: 0, p2p: 0, peers: 0 }, "network");
  const n: NetworkConfig = base ? structuredClone(base) : { genesis: "", key: "", consensus: "pbft", p2p: { host: "127.0.0.1", port: 7401 }, peers: [] };
  if (o.genesis !== undefined) n.genesis = str(o.genesis, "network.genesis");
  if (o.key !== undefined) n.key = str(o.key, "network.key");
  if (o.consensus !== undefined) {
    if (o.consensus !== "pbft" && o.consensus !== "solo") fail("network.consensus", 'must be "pbft" or "solo"');
    n.consensus = o.consensus;
  }
  if (o.p2p !== undefined) n.p2p = hostPort(o.p2p, "network.p2p", n.p2p);
  if (o.peers !== undefined) {
    if (!Array.isArray(o.peers)) fail("network.peers", 'must be an array of "host:port"');
    n.peers = o.peers.map((p, i) => {
      if (typeof p !== "string" || !/^[^\s:]+:\d{1,5}$/.test(p)) fail(`network.peers[${i}]`, 'must be "host:port"');
      return p;
    });
  }
  if (!n.genesis) fail("network.genesis", "the network's genesis file is required");
  if (!n.key) fail("network.key", "this gateway's key file is required");
  return n;
}

function mergeInts<T extends object>(base: T, o: Record<string, Json>, key: string): T {
  onlyKeys(o, base, key);
  const out = { ...base } as Record<string, number>;
  for (const [k, v] of Object.entries(o)) out[k] = int(v, `${key}.${k}`, 0, 1 << 30);
  return out as T;
}

function mergePayloads(base: PayloadsConfig, o: Record<string, Json>): PayloadsConfig {
  const { peers, storeBytesMax, ...ints } = o;
  const out = { ...base, ...mergeInts({ bytesMax: base.bytesMax, uploadsPerSourceMax: base.uploadsPerSourceMax, uploadsMax: base.uploadsMax, uploadIdleMs: base.uploadIdleMs, fetchRetryMaxMs: base.fetchRetryMaxMs }, ints, "payloads") };
  if (peers !== undefined) {
    if (!Array.isArray(peers)) fail("payloads.peers", 'must be an array of "http://host:port"');
    out.peers = peers.map((p, i) => {
      if (typeof p !== "string" || !/^https?:\/\/[^\s/]+$/.test(p)) fail(`payloads.peers[${i}]`, 'must be "http://host:port" (no path)');
      return p;
    });
  }
  // Past mergeInts' 2^30: a store is often larger than a gibibyte.
  if (storeBytesMax !== undefined) out.storeBytesMax = int(storeBytesMax, "payloads.storeBytesMax", 1, 2 ** 50);
  if (out.bytesMax < 1) fail("payloads.bytesMax", "must be at least 1");
  return out;
}

/** Cross-field checks that a merge of valid pieces can still break. */
function validate(c: GatewayConfig): GatewayConfig {
  const i = c.ingest;
  if (i.replayWindowSize < 1 || i.replayWindowSize > 64) fail("ingest.replayWindowSize", "must be 1 to 64");
  if (i.batchReadingsMax < 1 || i.batchReadingsMax > 4096) fail("ingest.batchReadingsMax", "must be 1 to 4096 (shared/attestation.ts batchReadingsMax)");
  if (!Number.isInteger(i.commitDelayMs) || i.commitDelayMs < 0 || i.commitDelayMs > 1000) fail("ingest.commitDelayMs", "must be 0 to 1000 ms (how long a group commit waits for more readings)");
  if (!Number.isInteger(i.commitGroupReadings) || i.commitGroupReadings < 1) fail("ingest.commitGroupReadings", "must be a whole number of readings, at least 1");
  if (i.rateReadingsPerS < 1 || i.rateBurst < 1) fail("ingest.rateReadingsPerS", "rate and burst must be at least 1");
  if (i.devicesCachedMax < 1) fail("ingest.devicesCachedMax", "must be at least 1");
  if (i.countersFlushMs < 10) fail("ingest.countersFlushMs", "must be at least 10");
  if (!c.udp && c.serial.length === 0) fail("udp", "the gateway needs UDP or at least one serial port to listen on");
  if (c.api && !c.network) fail("api", "the API serves the chain: configure network too (or set api to null)");
  return c;
}

export function loadConfigFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError("CONFIG_UNREADABLE", `cannot read config file ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError("CONFIG_INVALID", `${path} is not valid JSON: ${(e as Error).message}`);
  }
}
