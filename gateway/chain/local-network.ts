// `mote net init`: a genesis file and key files for a local network of n gateways. Each gateway
// gets an account with a balance and a self-stake, registers as a candidate and votes for itself,
// so all n (up to validatorsMax) are validators from epoch 0. An optional owner account is funded
// to enroll devices.
//
//   <dir>/genesis.json
//   <dir>/gateway-<i>.key.json     (i = 1..n; mode 0600)
//   <dir>/owner.key.json           (with devicesOwner)
//   <dir>/publisher.key.json       (with firmwarePublisher: the key genesis trusts for firmware manifests)
//
// Example: initLocalNetwork({ dir: "net", gateways: 4, devicesOwner: true })
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../../shared/ed25519.ts";
import { ChainError } from "./errors.ts";
import { genesisBlock, type GenesisFile } from "./genesis.ts";
import { newIdentity, writeKeyFile, type Identity } from "./keyfile.ts";

export const localGatewaysMax = 100;

export interface LocalNetworkOptions {
  dir: string;
  gateways: number;
  chainId?: string;
  /** Genesis time; defaults to now (a configuration time, not part of any state transition). */
  genesisTimeMs?: number;
  /** Also create and fund an account that owns devices (owner.key.json). */
  devicesOwner?: boolean | { balance?: string };
  /** Also create a firmware publisher key (publisher.key.json), trusted by genesis (firmwarePublishers). */
  firmwarePublisher?: boolean;
  params?: Record<string, number | string>;
  gatewayBalance?: string;
  gatewayStake?: string;
  rewardPool?: string;
  /** Gateway i listens on 127.0.0.1:(basePort + i). */
  basePort?: number;
  /** Replace an existing genesis.json in `dir`. */
  force?: boolean;
}

export interface LocalNetwork {
  genesisPath: string;
  genesis: GenesisFile;
  gateways: { index: number; id: string; publicKey: string; keyPath: string; endpoint: string; identity: Identity }[];
  owner?: { id: string; publicKey: string; keyPath: string; identity: Identity };
  publisher?: { publicKey: string; keyPath: string; identity: Identity };
}

export function initLocalNetwork(o: LocalNetworkOptions): LocalNetwork {
  if (!Number.isInteger(o.gateways) || o.gateways < 1 || o.gateways > localGatewaysMax) {
    throw new ChainError("NET_GATEWAYS", `a local network has 1 to ${localGatewaysMax} gateways, got ${o.gateways}`);
  }
  const genesisPath = join(o.dir, "genesis.json");
  if (existsSync(genesisPath) && !o.force) throw new ChainError("NET_EXISTS", `${genesisPath} exists; pick another directory or pass force to overwrite it`);
  mkdirSync(o.dir, { recursive: true });
  const basePort = o.basePort ?? 7400;
  const gateways = Array.from({ length: o.gateways }, (_, i) => {
    const identity = newIdentity();
    const index = i + 1;
    return { index, id: toHex(identity.id), publicKey: toHex(identity.publicKey), keyPath: join(o.dir, `gateway-${index}.key.json`), endpoint: `127.0.0.1:${basePort + index}`, identity };
  });
  const ownerIdentity = o.devicesOwner ? newIdentity() : undefined;
  const publisherIdentity = o.firmwarePublisher ? newIdentity() : undefined;
  const ownerBalance = typeof o.devicesOwner === "object" && o.devicesOwner.balance ? o.devicesOwner.balance : "1000000";
  const genesis: GenesisFile = {
    version: 1,
    chainId: o.chainId ?? "mote-local",
    genesisTimeMs: o.genesisTimeMs ?? Date.now(),
    params: o.params ?? {},
    rewardPool: o.rewardPool ?? "100000000",
    accounts: [
      ...gateways.map((g) => ({ publicKey: g.publicKey, balance: o.gatewayBalance ?? "1000000", stake: o.gatewayStake ?? "10000", votes: [g.id] })),
      ...(ownerIdentity ? [{ publicKey: toHex(ownerIdentity.publicKey), balance: ownerBalance }] : []),
    ],
    candidates: gateways.map((g) => ({ publicKey: g.publicKey, endpoint: g.endpoint })),
    ...(publisherIdentity ? { firmwarePublishers: [toHex(publisherIdentity.publicKey)] } : {}),
  };
  genesisBlock(genesis); // refuse to write a file that cannot start a chain
  writeFileSync(genesisPath, JSON.stringify(genesis, null, 2) + "\n");
  for (const g of gateways) writeKeyFile(g.keyPath, g.identity, `gateway ${g.index}`);
  let owner: LocalNetwork["owner"];
  if (ownerIdentity) {
    const keyPath = join(o.dir, "owner.key.json");
    writeKeyFile(keyPath, ownerIdentity, "device owner");
    owner = { id: toHex(ownerIdentity.id), publicKey: toHex(ownerIdentity.publicKey), keyPath, identity: ownerIdentity };
  }
  let publisher: LocalNetwork["publisher"];
  if (publisherIdentity) {
    const keyPath = join(o.dir, "publisher.key.json");
    writeKeyFile(keyPath, publisherIdentity, "firmware publisher");
    publisher = { publicKey: toHex(publisherIdentity.publicKey), keyPath, identity: publisherIdentity };
  }
  return { genesisPath, genesis, gateways, owner, publisher };
}
