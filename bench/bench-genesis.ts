// The one-gateway chain the storage benches build on (bench:chain, bench:chain-cpu, bench:sql,
// bench:expiry): identities derived from labels, so a worker or a later run signs as the same keys,
// and a genesis with that gateway as the only candidate, staked and voted for, and an owner's devices.
import { createHash } from "node:crypto";
import { toHex } from "../shared/ed25519.ts";
import type { GenesisFile } from "../gateway/chain/genesis.ts";
import { identityFromSeed, type Identity } from "../gateway/chain/keyfile.ts";

export const benchIdentity = (label: string): Identity => identityFromSeed(new Uint8Array(createHash("sha256").update(label).digest()));

export function benchGenesis(o: { chainId: string; gateway: Identity; owner: Identity; devices: Identity[]; epochBlocks?: number; accounts?: GenesisFile["accounts"] }): GenesisFile {
  return {
    version: 1,
    chainId: o.chainId,
    genesisTimeMs: 1_700_000_000_000,
    params: { batchReadingsMax: 4096, txFee: "1", readingFee: "0", blockTxsMax: 10_000, epochBlocks: o.epochBlocks ?? 1000 },
    rewardPool: "1000000000",
    accounts: [{ publicKey: toHex(o.gateway.publicKey), balance: "1000000000000", stake: "10000", votes: [toHex(o.gateway.id)] }, ...(o.accounts ?? [])],
    candidates: [{ publicKey: toHex(o.gateway.publicKey), endpoint: "127.0.0.1:7401" }],
    devices: o.devices.map((d) => ({ publicKey: toHex(d.publicKey), owner: toHex(o.owner.id) })),
  };
}
