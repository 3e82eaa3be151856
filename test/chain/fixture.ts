// Shared fixtures for the chain tests: deterministic identities, a genesis with gateways, users,
// an owner and enrolled devices, and helpers that sign transactions and device readings.
import { createHash } from "node:crypto";
import { attestBatch } from "../../shared/attestation.ts";
import { toHex } from "../../shared/ed25519.ts";
import { encodeReading, readingDigest } from "../../shared/reading.ts";
import { signTx, txVersion, type AttachedReading, type DecodedTx, type TxBody } from "../../shared/tx.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import type { GenesisFile } from "../../gateway/chain/genesis.ts";
import { identityFromSeed, type Identity } from "../../gateway/chain/keyfile.ts";
import { Mempool } from "../../gateway/chain/mempool.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { NodeSigner } from "../../gateway/chain/node-signer.ts";
import { ReadingFeed, readingFeedDefaults, type PendingReadingSource, type ReadingFeedOptions } from "../../gateway/chain/reading-feed.ts";
import { TxOutbox } from "../../gateway/chain/tx-outbox.ts";
import { pino } from "pino";

export function seedIdentity(label: string): Identity {
  return identityFromSeed(new Uint8Array(createHash("sha256").update(label).digest()));
}

export interface Fixture {
  genesis: GenesisFile;
  gateways: Identity[];
  users: Identity[];
  owner: Identity;
  devices: Identity[];
}

export interface FixtureOptions {
  gateways?: number;
  users?: number;
  devices?: number;
  params?: Record<string, number | string>;
  chainId?: string;
  label?: string;
}

export function makeFixture(o: FixtureOptions = {}): Fixture {
  const label = o.label ?? "fixture";
  const gateways = Array.from({ length: o.gateways ?? 1 }, (_, i) => seedIdentity(`${label}/gateway/${i}`));
  const users = Array.from({ length: o.users ?? 4 }, (_, i) => seedIdentity(`${label}/user/${i}`));
  const owner = seedIdentity(`${label}/owner`);
  const devices = Array.from({ length: o.devices ?? 4 }, (_, i) => seedIdentity(`${label}/device/${i}`));
  const genesis: GenesisFile = {
    version: 1,
    chainId: o.chainId ?? "mote-test",
    genesisTimeMs: 1_700_000_000_000,
    params: { epochBlocks: 10, unbondingBlocks: 3, candidateStakeMin: "100", txFee: "1", blockReward: "5", ...o.params },
    rewardPool: "1000000",
    accounts: [
      ...gateways.map((g) => ({ publicKey: toHex(g.publicKey), balance: "100000", stake: "1000", votes: [toHex(g.id)] })),
      ...users.map((u) => ({ publicKey: toHex(u.publicKey), balance: "100000" })),
      { publicKey: toHex(owner.publicKey), balance: "100000" },
    ],
    candidates: gateways.map((g, i) => ({ publicKey: toHex(g.publicKey), endpoint: `127.0.0.1:${7401 + i}` })),
    devices: devices.map((d) => ({ publicKey: toHex(d.publicKey), owner: toHex(owner.id), metadata: { model: "test" }, ttlDays: 0 })),
  };
  return { genesis, gateways, users, owner, devices };
}

/** Signs a transaction of any kind. */
export function signed(chainId: string, who: Identity, nonce: number, body: TxBody, fee = 1n): Uint8Array {
  return signTx(who.key, chainId, { version: txVersion, author: who.publicKey, nonce, fee, body });
}

export function deviceReading(device: Identity, sequence: number, value = 21.5): Uint8Array {
  return encodeReading(device.key, device.id, sequence, [{ name: "temp", unit: "Cel", value }]);
}

/** A reading-batch body co-signed by `gateway`. */
export function batchBody(gateway: Identity, readings: AttachedReading[]): TxBody {
  const attestation = attestBatch(gateway.key, gateway.id, readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
  return { kind: "readingBatch", attestation, readings };
}

export function openChain(f: Fixture, dir = ":memory:"): { store: ChainStore; chain: Chain; mempool: Mempool } {
  const store = ChainStore.open(dir);
  const chain = Chain.open(store, f.genesis);
  const mempool = new Mempool(chain);
  return { store, chain, mempool };
}

/** Co-signs `readings` as one batch by `gateway` at its next nonce and adds it to the mempool. */
export function addBatch(mempool: Mempool, gateway: Identity, readings: AttachedReading[], nowMs: number): DecodedTx {
  return mempool.add(signed(mempool.chain.chainId, gateway, mempool.nextNonce(gateway.id), batchBody(gateway, readings), BigInt(readings.length) * mempool.chain.params().readingFee + mempool.chain.params().txFee), nowMs);
}

/** This gateway's signer and reading feed over `source`, as a node wires them (outbox in memory unless `dir`). */
export function feedFor(chain: Chain, mempool: Mempool, gateway: Identity, source: PendingReadingSource, options: Partial<ReadingFeedOptions> = {}, dir = ":memory:"): { signer: NodeSigner; feed: ReadingFeed; outbox: TxOutbox } {
  const log = pino({ level: "silent" });
  const outbox = TxOutbox.open(dir, gateway, chain.chainId);
  const signer = new NodeSigner(chain, mempool, outbox, () => {}, log);
  const feed = new ReadingFeed(chain, signer, source, log, { ...readingFeedDefaults, ...options });
  return { signer, feed, outbox };
}
