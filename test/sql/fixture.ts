// A chain in a SQLite file with signed readings from a few devices, built block by block through
// the chain's own build/commit with solo commit certificates (as bench/chain.ts does): what SQL
// over the index reads, and what its proofs are checked against.
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attestBatch } from "../../shared/attestation.ts";
import { toHex } from "../../shared/ed25519.ts";
import { encodeReading, readingDigest } from "../../shared/reading.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import { decodeTx, signTx, txVersion, type DecodedTx, type TxBody } from "../../shared/tx.ts";
import { BlockReader } from "../../gateway/api/block-reader.ts";
import { encodeCertificate, signSoloCertificate } from "../../gateway/chain/certificate.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { genesisBlock, type GenesisFile } from "../../gateway/chain/genesis.ts";
import { identityFromSeed, type Identity } from "../../gateway/chain/keyfile.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";

export const identity = (label: string): Identity => identityFromSeed(new Uint8Array(createHash("sha256").update(label).digest()));

export interface SqlChain {
  dir: string;
  chain: Chain;
  reader: BlockReader;
  genesis: GenesisFile;
  devices: Identity[];
  /** The client's trust: header and set of block 0, from the genesis file alone. */
  trust: () => ReturnType<typeof genesisBlock>;
  /** Adds a block holding these readings (device index, sequence, records). */
  block(readings: { device: number; seq: number; records?: SenmlRecord[] }[]): void;
}

export function sqlChain(o: { devices: number; epochBlocks?: number; dir?: string }): SqlChain {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "mote-sql-"));
  const gateway = identity("sql/gateway");
  const owner = identity("sql/owner");
  const devices = Array.from({ length: o.devices }, (_, i) => identity(`sql/device/${i}`));
  const genesis: GenesisFile = {
    version: 1,
    chainId: "mote-sql-test",
    genesisTimeMs: 1_700_000_000_000,
    params: { batchReadingsMax: 4096, txFee: "1", readingFee: "0", blockTxsMax: 10_000, epochBlocks: o.epochBlocks ?? 1000 },
    rewardPool: "1000000000",
    accounts: [{ publicKey: toHex(gateway.publicKey), balance: "1000000000000", stake: "10000", votes: [toHex(gateway.id)] }],
    candidates: [{ publicKey: toHex(gateway.publicKey), endpoint: "127.0.0.1:7401" }],
    devices: devices.map((d, i) => ({ publicKey: toHex(d.publicKey), owner: toHex(owner.id), metadata: { site: `lab-${i}` } })),
  };
  const store = ChainStore.open(dir);
  const chain = Chain.open(store, genesis);
  // From the state: a fixture reopened on its directory (o.dir) carries on.
  let nonce = chain.state().account(gateway.id).nonce;
  let clockMs = genesis.genesisTimeMs + chain.head().height * 1000;
  const sign = (body: TxBody): DecodedTx => decodeTx(signTx(gateway.key, genesis.chainId, { version: txVersion, author: gateway.publicKey, nonce: nonce++, fee: 1n, body }));
  const commit = (txs: DecodedTx[]) => {
    clockMs += 1000;
    const { pending } = chain.build({ timeMs: clockMs, proposer: gateway.id, txs });
    if (pending.execution.txs.length !== txs.length) throw new Error("fixture block refused a transaction");
    chain.commit(pending, encodeCertificate(signSoloCertificate(gateway.key, gateway.id, chain.chainId, pending.block.header.height, pending.hash)));
  };
  return {
    dir,
    chain,
    reader: new BlockReader(chain, 64),
    genesis,
    devices,
    trust: () => genesisBlock(genesis),
    block(list) {
      const receivedAtMs = clockMs + 500;
      const readings = list.map((r) => ({ bytes: encodeReading(devices[r.device].key, devices[r.device].id, r.seq, r.records ?? [{ name: "temp", unit: "Cel", value: 20 + r.seq / 4 }]), receivedAtMs }));
      const attestation = attestBatch(gateway.key, gateway.id, readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
      commit(list.length ? [sign({ kind: "readingBatch", attestation, readings })] : []);
    },
  };
}
