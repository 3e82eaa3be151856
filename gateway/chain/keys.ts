// Typed keys of the authenticated state. A key is a readable path ("device/<hex id>") so the SQLite
// state table can be inspected by hand; its position in the sparse Merkle tree is SHA-256 of the
// UTF-8 path, which spreads keys uniformly and keeps the tree shallow (≈ log2 of the key count).
import { sha256, toHex } from "../../shared/ed25519.ts";

const utf8 = new TextEncoder();

export const stateKey = {
  /** Chain identity: [chainId, genesisTimeMs]. */
  chain: () => "chain",
  params: () => "params",
  /** The contracts' gas schedule (params.ts gasParamNames); absent while it is at its defaults. */
  gasParams: () => "params/gas",
  /** Pending parameter votes of the validators (cleared at each epoch boundary). */
  governance: () => "governance",
  /** The validator set in force, with its epoch. */
  validators: () => "validators",
  /** The set that was in force before the last epoch boundary: it certifies the boundary block. */
  previousValidators: () => "validators/previous",
  /**
   * The set of a past epoch, written when that epoch ends (dpos.ts endEpoch) and kept for good:
   * the chain's history of sets, each provable against any later state root, so a reading's
   * certificate from any epoch can still be checked (the current set is `validators`).
   */
  epochValidators: (epoch: number) => `validators/epoch/${epoch}`,
  /** Registered candidate ids, ascending: elections iterate this list, never the whole state. */
  candidates: () => "candidates",
  account: (id: Uint8Array) => `account/${toHex(id)}`,
  candidate: (id: Uint8Array) => `candidate/${toHex(id)}`,
  device: (id: Uint8Array) => `device/${toHex(id)}`,
  /** Short kids assigned so far: the next device's number (apply-devices.ts, shared/short-kid.ts). */
  shortKids: () => "device-kids",
  /** Short kid → the device id it stands for, so a compact reading's device is provable on chain. */
  deviceByKid: (kid: Uint8Array) => `device-kid/${toHex(kid)}`,
  /** Stakes that unbond at the start of block `height`. */
  unbonding: (height: number) => `unbonding/${height}`,
  evidence: (deviceId: Uint8Array, index: number) => `evidence/${toHex(deviceId)}/${index}`,
  /** Gateways' recent reports of what they observed of a device, and whether they quarantined it (quarantine.ts). */
  deviceReports: (deviceId: Uint8Array) => `device-reports/${toHex(deviceId)}`,
  /** A validator's double signature at (height, round) already on chain (apply-evidence.ts). */
  validatorEvidence: (validatorId: Uint8Array, height: number, round: number) => `validator-evidence/${toHex(validatorId)}/${height}/${round}`,
  /** A contract: its code hash, deployer, subscriptions (gateway/contracts/records.ts). */
  contract: (id: Uint8Array) => `contract/${toHex(id)}`,
  /** One entry of a contract's own storage; the contract chooses the key bytes. */
  contractStorage: (id: Uint8Array, key: Uint8Array) => `contract/${toHex(id)}/s/${toHex(key)}`,
  /** Deployed WebAssembly code by SHA-256, as submitted (instrumented by each node, see instrument.ts). */
  code: (hash: Uint8Array) => `code/${toHex(hash)}`,
  /** Every contract subscribed to readings, with its criteria, ascending by id (triggers.ts). */
  subscriptions: () => "contract-subscriptions",
  /** Firmware publisher keys (32-byte Ed25519), from the genesis file only (firmware-state.ts). */
  firmwarePublishers: () => "firmware/publishers",
  /** A release by its image id (8 bytes): manifest, location, author, height, version. */
  firmwareRelease: (imageId: Uint8Array) => `firmware/release/${toHex(imageId)}`,
  /** Image ids of every release, in publication order. */
  firmwareReleases: () => "firmware/releases",
  /** Rollout number n (1, 2, ...). */
  firmwareRollout: (n: number) => `firmware/rollout/${n}`,
  /** [rollouts ever started, running rollout numbers]. */
  firmwareRollouts: () => "firmware/rollouts",
  /** What a device's readings reported: running version, its reading, failed attempts. */
  deviceFirmware: (deviceId: Uint8Array) => `firmware/device/${toHex(deviceId)}`,
  /** An owner's retention (seconds) for one device, and for all its devices (retention.ts); absent at the enrollment default. */
  deviceRetention: (deviceId: Uint8Array) => `retention/device/${toHex(deviceId)}`,
  ownerRetention: (ownerId: Uint8Array) => `retention/owner/${toHex(ownerId)}`,
} as const;

/** Position of a key in the sparse Merkle tree. */
export function keyHash(key: string): Uint8Array {
  return sha256(utf8.encode(key));
}

/** The tree commits to values through their hash, so a proof carries the value, not the tree. */
export function valueHash(value: Uint8Array): Uint8Array {
  return sha256(value);
}
