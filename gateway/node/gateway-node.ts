// One gateway process, assembled: CoAP ingest (UDP and serial) verifying and co-signing readings,
// the chain on its SQLite file, consensus (PBFT with the other validators, or solo for
// development) turning accepted readings into finalized blocks, and the HTTP API with the
// dashboard and /metrics. `mote gateway start` runs this; without a `network` section in the
// config only ingest runs and readings wait in the pending store.
//
// Start order follows the data: chain first (everything reads it), then ingest (it needs the
// chain's registry), then consensus (it drains ingest), then the API (it shows all three).
// Shutdown is the reverse, so nothing is still writing when its store closes.
import type { Logger } from "pino";
import { toHex } from "../../shared/ed25519.ts";
import { Chain } from "../chain/chain.ts";
import { contractVmReady } from "../contracts/binaryen.ts";
import { readGenesisFile } from "../chain/genesis.ts";
import { readKeyFile, type Identity } from "../chain/keyfile.ts";
import { Mempool } from "../chain/mempool.ts";
import { SoloProducer } from "../chain/producer.ts";
import { ChainStore } from "../storage/chain-store.ts";
import { startConsensusNode, type ConsensusNode } from "../consensus/node.ts";
import { feedCommitMarginMs } from "../consensus/feed-timing.ts";
import { NodeSigner } from "../chain/node-signer.ts";
import { ReadingFeed } from "../chain/reading-feed.ts";
import { MisbehaviourReporter } from "../chain/misbehaviour-reporter.ts";
import { TxOutbox } from "../chain/tx-outbox.ts";
import type { GatewayConfig, NetworkConfig } from "../config.ts";
import { IngestGateway } from "../ingest/ingest-gateway.ts";
import type { ChainProgress } from "../ingest/backlog.ts";
import { createApiServer, GatewayMetrics, PbftConsensusSource, SoloConsensusSource, type ApiServer } from "../api/index.ts";
import { ChainDeviceRegistry } from "./chain-registry.ts";
import { FirmwareImageStore } from "../firmware/image-store.ts";
import { FirmwareService } from "../firmware/firmware-service.ts";
import { Block1Uploads } from "../payloads/block1-upload.ts";
import { PayloadService, payloadServiceDefaults } from "../payloads/payload-service.ts";
import { PayloadStore } from "../payloads/payload-store.ts";
import { uploadHandler } from "../payloads/upload-resource.ts";

export interface ChainParts {
  identity: Identity;
  store: ChainStore;
  chain: Chain;
  mempool: Mempool;
  consensus: ConsensusNode | undefined;
  producer: SoloProducer | undefined;
  /** Closes the solo producer's outbox (PBFT's consensus node closes its own). */
  closeOutbox?: () => void;
  /** The solo producer's reading feed (PBFT's is the consensus node's). */
  feed?: ReadingFeed;
}

export class GatewayNode {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly log: Logger,
    readonly ingest: IngestGateway,
    readonly chainParts: ChainParts | undefined,
    readonly api: ApiServer | undefined,
    readonly apiUrl: string | undefined,
    readonly payloads?: { service: PayloadService; uploads: Block1Uploads; close(): void },
  ) {}

  static async start(config: GatewayConfig, log: Logger): Promise<GatewayNode> {
    if (!config.network) return new GatewayNode(config, log, await IngestGateway.start(config, log), undefined, undefined, undefined);
    const network = config.network;
    const identity = readKeyFile(network.key);
    const store = ChainStore.open(config.dataDir);
    const cleanup: (() => Promise<void> | void)[] = [() => store.close()];
    try {
      const chain = Chain.open(store, readGenesisFile(network.genesis));
      // A chain with contracts: the VM is loaded before any block is applied (gateway/chain/params.ts contractsEnabled).
      if (chain.params().contractsEnabled) await contractVmReady();
      const mempool = new Mempool(chain);
      const firmwareImages = new FirmwareImageStore(config.dataDir);
      const ingest = await IngestGateway.start(config, log, {
        identity: { privateKey: identity.key, publicKey: identity.publicKey, gatewayId: identity.id },
        registry: new ChainDeviceRegistry(chain),
        firmware: new FirmwareService(chain, firmwareImages, log.child({ subsystem: "firmware" })),
        blockIntervalMs: () => chain.params().blockIntervalMs,
      });
      cleanup.unshift(() => ingest.close());
      const payloads = startPayloads(config, chain, ingest, log);
      cleanup.unshift(() => payloads.close());
      const parts: ChainParts = { identity, store, chain, mempool, consensus: undefined, producer: undefined };
      const { source, submitTx } = await startConsensus(network, config, log, parts, ingest);
      cleanup.unshift(() => parts.producer?.stop(), () => parts.consensus?.close());
      let api: ApiServer | undefined;
      let apiUrl: string | undefined;
      if (config.api) {
        const ingestStatus = {
          snapshot: () => ingest.snapshot() as unknown as Record<string, number>,
          pendingReadings: () => ingest.backlog.pending(),
          // Read by /v1/health and /metrics: the acknowledged-but-not-on-chain backlog (ingest/backlog.ts).
          backlog: () => ingest.backlogStatus(),
          healthReasons: (chain: ChainProgress) => ingest.healthReasons(chain),
        };
        const feed = parts.feed ?? parts.consensus?.feed;
        const metrics = new GatewayMetrics({ mempool, chain, consensus: source, ingest: ingestStatus, custody: feed });
        store.timed = (operation, fn) => metrics.timeSqlite(operation, fn);
        api = await createApiServer({
          metrics,
          chain,
          mempool,
          consensus: source,
          submitTx,
          nodeId: identity.id,
          ingest: ingestStatus,
          firmwareImages,
          payloads: payloads.service,
          log: log.child({ subsystem: "api" }),
        });
        cleanup.unshift(() => api!.close());
        apiUrl = (await api.listen(config.api)).url;
      }
      log.info({ gatewayId: toHex(identity.id), chain: chain.chainId, height: chain.head().height, consensus: network.consensus, api: apiUrl }, "gateway node started");
      return new GatewayNode(config, log, ingest, parts, api, apiUrl, payloads);
    } catch (e) {
      for (const c of cleanup) await c();
      throw e;
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.api?.close();
      this.payloads?.close();
      this.chainParts?.producer?.stop();
      this.chainParts?.closeOutbox?.();
      await this.chainParts?.consensus?.close();
      await this.ingest.close();
      this.chainParts?.store.close();
      this.log.info("gateway node stopped");
    })();
    return this.closing;
  }
}

/** Off-chain payloads: the store, Block1 uploads on the CoAP endpoint (PUT /p/...), and the fetcher. */
function startPayloads(config: GatewayConfig, chain: Chain, ingest: IngestGateway, log: Logger) {
  const p = config.payloads;
  const store = new PayloadStore(config.dataDir, p.storeBytesMax);
  const service = new PayloadService(chain, store, log.child({ subsystem: "payloads" }), { ...payloadServiceDefaults, peers: p.peers, payloadBytesMax: p.bytesMax, retryMaxMs: Math.max(p.fetchRetryMaxMs, 1) });
  const uploads = new Block1Uploads(store, { payloadBytesMax: p.bytesMax, uploadsPerSourceMax: p.uploadsPerSourceMax, uploadsMax: p.uploadsMax, idleMs: p.uploadIdleMs, retryAfterS: 10 }, Date.now, (hex) => service.stored(hex));
  ingest.endpoint.uploadHandler = uploadHandler(uploads);
  uploads.startSweeper();
  service.start();
  let closed = false;
  return {
    service,
    uploads,
    close() {
      if (closed) return;
      closed = true;
      ingest.endpoint.uploadHandler = undefined;
      uploads.close();
      service.close();
    },
  };
}

async function startConsensus(network: NetworkConfig, config: GatewayConfig, log: Logger, parts: ChainParts, ingest: IngestGateway) {
  const readings = ingest.store;
  if (network.consensus === "solo") {
    const source = new SoloConsensusSource(parts.chain, parts.identity.id);
    const outbox = TxOutbox.open(config.dataDir, parts.identity, parts.chain.chainId);
    const chainLog = log.child({ subsystem: "chain" });
    const signer = new NodeSigner(parts.chain, parts.mempool, outbox, () => {}, chainLog);
    const feed = new ReadingFeed(parts.chain, signer, readings, chainLog);
    feed.attachReporter(new MisbehaviourReporter(parts.chain, signer, readings, parts.identity.id, chainLog));
    feed.recover();
    parts.closeOutbox = () => outbox.close();
    parts.feed = feed;
    parts.producer = new SoloProducer({
      chain: parts.chain,
      mempool: parts.mempool,
      identity: parts.identity,
      clock: Date.now,
      signer,
      feed,
      onBlock: (b) => source.finalized(b.head.height),
      onError: (e) => log.error({ err: e }, "block production failed"),
    });
    parts.producer.start();
    // Ingest's group commits close in time for the producer's next tick, where the feed takes them.
    const producer = parts.producer;
    ingest.commits.commitBy = () => (producer.nextTickAtMs === undefined ? undefined : producer.nextTickAtMs - feedCommitMarginMs);
    return { source, submitTx: undefined };
  }
  let source: PbftConsensusSource | undefined;
  const node = await startConsensusNode({
    dataDir: config.dataDir,
    identity: parts.identity,
    chain: parts.chain,
    mempool: parts.mempool,
    listen: network.p2p,
    peers: network.peers.map((p) => {
      const i = p.lastIndexOf(":");
      return { host: p.slice(0, i), port: Number(p.slice(i + 1)) };
    }),
    log,
    readings,
    onDecided: (height) => source?.finalized(height),
  });
  parts.consensus = node;
  // Ingest's group commits close in time for the feed's next flush (gateway/ingest/group-commit.ts).
  ingest.commits.commitBy = () => node.readingsDurableBy();
  source = new PbftConsensusSource(node, parts.chain);
  return { source, submitTx: (bytes: Uint8Array) => node.submitTx(bytes) };
}
