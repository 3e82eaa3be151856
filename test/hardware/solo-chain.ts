// A solo chain behind a test gateway (as test/api/net.ts builds one): the gateway's pending
// readings go into co-signed batch transactions and finalized blocks in a real SQLite chain, with
// the given devices registered in genesis.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { toHex } from "../../shared/ed25519.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import type { GenesisFile } from "../../gateway/chain/genesis.ts";
import { identityFromSeed, newIdentity } from "../../gateway/chain/keyfile.ts";
import { Mempool } from "../../gateway/chain/mempool.ts";
import { NodeSigner } from "../../gateway/chain/node-signer.ts";
import { SoloProducer } from "../../gateway/chain/producer.ts";
import { ReadingFeed } from "../../gateway/chain/reading-feed.ts";
import { TxOutbox } from "../../gateway/chain/tx-outbox.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import type { TestGateway } from "../support/gateway-fixtures.ts";

export interface SoloChain {
  store: ChainStore;
  chain: Chain;
  /** Produces blocks until every reading the gateway accepted is on chain. */
  drain(): void;
  close(): void;
}

export function startSoloChain(dir: string, gateway: TestGateway, devicePublicKeys: Uint8Array[]): SoloChain {
  const identity = identityFromSeed(new Uint8Array(32).map((_, i) => (i * 11 + 5) & 0xff));
  writeFileSync(join(dir, "gateway.key"), `${toHex(identity.seed)}\n`, { mode: 0o600 });
  const owner = newIdentity();
  const genesis: GenesisFile = {
    version: 1,
    chainId: "mote-qemu-test",
    genesisTimeMs: Date.now() - 1000,
    params: { blockIntervalMs: 200, epochBlocks: 1000, candidateStakeMin: "100", txFee: "1", blockReward: "5" },
    rewardPool: "1000000",
    accounts: [
      { publicKey: toHex(identity.publicKey), balance: "100000", stake: "5000", votes: [toHex(identity.id)] },
      { publicKey: toHex(owner.publicKey), balance: "100000" },
    ],
    candidates: [{ publicKey: toHex(identity.publicKey), endpoint: "127.0.0.1:7401" }],
    devices: devicePublicKeys.map((k, i) => ({ publicKey: toHex(k), owner: toHex(owner.id), metadata: { model: "mps2-an385", site: `qemu-${i}` }, ttlDays: 0 })),
  };
  const store = ChainStore.open(join(dir, "chain"));
  const chain = Chain.open(store, genesis);
  const mempool = new Mempool(chain);
  const log = pino({ level: "silent" });
  const outbox = TxOutbox.open(join(dir, "chain"), identity, chain.chainId);
  const signer = new NodeSigner(chain, mempool, outbox, () => {}, log);
  const feed = new ReadingFeed(chain, signer, gateway.gw.store, log);
  const producer = new SoloProducer({ chain, mempool, identity, clock: Date.now, signer, feed, options: { emptyBlockIntervalMs: 1000 }, onBlock: () => {} });
  return {
    store,
    chain,
    drain() {
      for (let i = 0; i < 20 && gateway.gw.store.counts().pending > 0; i++) producer.produce();
      if (gateway.gw.store.counts().pending > 0) throw new Error("readings still pending after 20 blocks");
    },
    close() {
      producer.stop();
      outbox.close();
      store.close();
    },
  };
}
