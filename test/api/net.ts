// A one-gateway network with real parts, for the API and dashboard tests: firmware boards (the
// real firmware.wasm in the board emulator) send signed readings over loopback UDP to a real
// IngestGateway; a SoloProducer drains its pending store into co-signed batch transactions and
// finalized blocks in a real SQLite chain; the API serves it all.
//
// The gateway's ingest key and its validator key are one seed (gateway.key), as in production.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeEnrollment } from "../../shared/enrollment.ts";
import { toHex } from "../../shared/ed25519.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import type { GenesisFile } from "../../gateway/chain/genesis.ts";
import { identityFromSeed, newIdentity, type Identity } from "../../gateway/chain/keyfile.ts";
import { Mempool } from "../../gateway/chain/mempool.ts";
import type { MempoolOptions } from "../../gateway/chain/options.ts";
import { pino } from "pino";
import { GatewayMetrics } from "../../gateway/metrics/gateway-metrics.ts";
import { NodeSigner } from "../../gateway/chain/node-signer.ts";
import { SoloProducer } from "../../gateway/chain/producer.ts";
import { ReadingFeed } from "../../gateway/chain/reading-feed.ts";
import { TxOutbox } from "../../gateway/chain/tx-outbox.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { createApiServer, SoloConsensusSource, type ApiOptions, type ApiServer } from "../../gateway/api/index.ts";
import { Board } from "../../hardware/emulator/board.ts";
import { startTestGateway, tempDir, type TestGateway } from "../support/gateway-fixtures.ts";

/** The ingest pending store as the producer's source; readings the chain refused are not offered again. */

export interface TestNetOptions {
  boards?: number;
  /** Start the producer's timer (blockIntervalMs) and the API listener. */
  live?: boolean;
  /** Start the API listener only (tests produce blocks by hand). */
  listen?: boolean;
  blockIntervalMs?: number;
  emptyBlockIntervalMs?: number;
  api?: Partial<ApiOptions>;
  /** Chain parameters for genesis (params.ts names). */
  params?: Record<string, number | string>;
  mempool?: Partial<MempoolOptions>;
}

export interface TestNet {
  gateway: TestGateway;
  identity: Identity;
  users: Identity[];
  owner: Identity;
  boards: Board[];
  genesis: GenesisFile;
  store: ChainStore;
  chain: Chain;
  mempool: Mempool;
  producer: SoloProducer;
  consensus: SoloConsensusSource;
  api: ApiServer;
  /** http://127.0.0.1:<port> when live. */
  url: string;
  /** Each board signs one reading per value; resolves when the gateway acknowledged them all. */
  send(values: number[], sensor?: number): Promise<{ board: Board; sequence: number; value: number }[]>;
  /** Produces blocks until every reading accepted by ingest is on chain (not live mode). */
  drain(): void;
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTestNet(o: TestNetOptions = {}): Promise<TestNet> {
  const dir = tempDir("mote-api-");
  const seed = identityFromSeed(new Uint8Array(32).map((_, i) => (i * 7 + 3) & 0xff)).seed;
  writeFileSync(join(dir.path, "gateway.key"), `${toHex(seed)}\n`, { mode: 0o600 });
  const identity = identityFromSeed(seed);
  const gateway = await startTestGateway({}, { dataDir: dir.path });
  const boards = await Promise.all(Array.from({ length: o.boards ?? 3 }, (_, i) => Board.boot({ dataDir: join(dir.path, `board-${i}`), link: { kind: "udp", host: "127.0.0.1", port: gateway.port } })));
  for (const b of boards) gateway.gw.enrollment.enroll(encodeEnrollment(gateway.owner.privateKey, gateway.owner.publicKey, b.publicKey));
  const users = [newIdentity(), newIdentity()];
  const owner = newIdentity();
  const genesis: GenesisFile = {
    version: 1,
    chainId: "mote-api-test",
    genesisTimeMs: Date.now() - 1000,
    params: { blockIntervalMs: o.blockIntervalMs ?? 200, epochBlocks: 1000, candidateStakeMin: "100", txFee: "1", blockReward: "5", ...o.params },
    rewardPool: "1000000",
    accounts: [
      { publicKey: toHex(identity.publicKey), balance: "100000", stake: "5000", votes: [toHex(identity.id)] },
      ...users.map((u) => ({ publicKey: toHex(u.publicKey), balance: "100000", stake: "0" })),
      { publicKey: toHex(owner.publicKey), balance: "100000" },
    ],
    candidates: [{ publicKey: toHex(identity.publicKey), endpoint: "127.0.0.1:7401" }],
    devices: boards.map((b, i) => ({ publicKey: toHex(b.publicKey), owner: toHex(owner.id), metadata: { model: "emulator", site: `bench-${i}` }, ttlDays: 0 })),
  };
  const store = ChainStore.open(join(dir.path, "chain"));
  const chain = Chain.open(store, genesis);
  const mempool = new Mempool(chain, o.mempool);
  const consensus = new SoloConsensusSource(chain, identity.id);
  const chainLog = pino({ level: "silent" });
  const outbox = TxOutbox.open(join(dir.path, "chain"), identity, chain.chainId);
  const signer = new NodeSigner(chain, mempool, outbox, () => {}, chainLog);
  const feed = new ReadingFeed(chain, signer, gateway.gw.store, chainLog);
  const producer = new SoloProducer({
    chain,
    mempool,
    identity,
    clock: Date.now,
    signer,
    feed,
    options: { emptyBlockIntervalMs: o.emptyBlockIntervalMs ?? 1000 },
    onBlock: (b) => consensus.finalized(b.head.height),
  });
  const ingest = { snapshot: () => gateway.gw.snapshot(), pendingReadings: () => gateway.gw.store.counts().pending };
  const metrics = new GatewayMetrics({ mempool, chain, consensus, ingest, custody: feed });
  const api = await createApiServer({ chain, mempool, consensus, nodeId: identity.id, ingest, metrics }, o.api);
  let url = "";
  if (o.live || o.listen) url = (await api.listen({ host: "127.0.0.1", port: 0 })).url;
  if (o.live) producer.start();

  const waitFor = async (predicate: () => boolean, timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`condition not met after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  return {
    gateway,
    identity,
    users,
    owner,
    boards,
    genesis,
    store,
    chain,
    mempool,
    producer,
    consensus,
    api,
    url,
    async send(values, sensor = 0) {
      const sent = boards.flatMap((board) => values.map((value) => ({ board, value, sequence: board.reading(sensor, value) })));
      await Promise.all(boards.map((b) => b.idle(20_000)));
      return sent;
    },
    drain() {
      // Block times must increase: a block per call, each at least 1 ms after the last.
      for (let i = 0; i < 20 && gateway.gw.store.counts().pending > 0; i++) producer.produce();
      if (gateway.gw.store.counts().pending > 0) throw new Error("readings still pending after 20 blocks");
    },
    waitFor,
    async close() {
      producer.stop();
      await api.close();
      await Promise.all(boards.map((b) => b.close()));
      outbox.close();
      store.close();
      await gateway.stop();
      dir.remove();
    },
  };
}
