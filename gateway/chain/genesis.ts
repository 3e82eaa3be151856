// Genesis: the file every gateway of a network starts from, and the block-0 state it defines.
// The state root (and so the genesis hash) commits to the whole file's meaning: two gateways with
// different files cannot share a chain.
//
// {
//   "version": 1, "chainId": "mote-local", "genesisTimeMs": 1700000000000,
//   "params": { "epochBlocks": 100, ... },                     (params.ts; missing ones default)
//   "rewardPool": "1000000",                                   (funds block rewards)
//   "accounts": [{ "publicKey" | "id": hex, "balance": "1000", "stake": "5000", "votes": [hex id] }],
//   "candidates": [{ "publicKey": hex, "endpoint": "127.0.0.1:7400" }],
//   "devices": [{ "publicKey": hex, "owner": hex id, "metadata": {...}, "ttlDays": 0 }],
//   "firmwarePublishers": [hex public key]                   (firmware manifest signers; genesis-only)
// }
// Amounts are decimal strings (JSON numbers lose precision past 2^53).
import { readFileSync } from "node:fs";
import { deviceIdFromPublicKey, fromHex } from "../../shared/ed25519.ts";
import { emptyRoot } from "../../shared/merkle.ts";
import { blockVersion, type BlockHeader } from "./block.ts";
import { addVoteWeight, electValidators, rewardPoolId } from "./dpos.ts";
import { GenesisError } from "./errors.ts";
import { validatorSetHash } from "./execute.ts";
import { keyHash, valueHash } from "./keys.ts";
import { paramsFromJson } from "./params.ts";
import { emptyWindow } from "./sequence-window.ts";
import { FirmwareState } from "./firmware-state.ts";
import { deviceStatus, type ValidatorSet } from "./records.ts";
import { MemoryNodeStore, smtApply, type SmtWrites } from "./smt.ts";
import { State, type StateWrites } from "./state.ts";

export interface GenesisFile {
  version: 1;
  chainId: string;
  genesisTimeMs: number;
  params?: Record<string, number | string>;
  rewardPool?: string;
  accounts?: { publicKey?: string; id?: string; balance?: string; stake?: string; votes?: string[] }[];
  candidates?: { publicKey: string; endpoint?: string }[];
  devices?: { publicKey: string; owner: string; metadata?: Record<string, string>; ttlDays?: number }[];
  /** Keys whose firmware manifests the chain accepts (apply-firmware.ts); no transaction changes them. */
  firmwarePublishers?: string[];
}

export interface GenesisBlock {
  header: BlockHeader;
  stateWrites: StateWrites;
  nodeWrites: SmtWrites;
  validators: ValidatorSet;
}

const fail = (message: string): never => {
  throw new GenesisError("GENESIS_INVALID", message);
};

function hexBytes(v: unknown, bytes: number, what: string): Uint8Array {
  if (typeof v !== "string" || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(v)) fail(`${what} must be ${bytes * 2} lowercase hex characters`);
  return fromHex(v as string);
}

function amount(v: unknown, what: string): bigint {
  if (v === undefined) return 0n;
  if (typeof v !== "string" || !/^[0-9]{1,20}$/.test(v) || BigInt(v) >= 2n ** 64n) fail(`${what} must be a decimal string below 2^64`);
  return BigInt(v as string);
}

export function readGenesisFile(path: string): GenesisFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new GenesisError("GENESIS_READ", `cannot read genesis file ${path}: ${(e as Error).message}`);
  }
  return json as GenesisFile;
}

/** Builds the genesis state into `state`; throws GenesisError on anything inconsistent. */
function buildState(state: State, g: GenesisFile): void {
  if (g.version !== 1) fail(`genesis version ${String(g.version)} is not supported (expected 1)`);
  if (typeof g.chainId !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(g.chainId)) fail("chainId must be 1 to 64 characters of [A-Za-z0-9._-]");
  if (!Number.isSafeInteger(g.genesisTimeMs) || g.genesisTimeMs < 0) fail("genesisTimeMs must be a non-negative integer (Unix ms)");
  const params = paramsFromJson(g.params);
  state.setChainInfo({ chainId: g.chainId, genesisTimeMs: g.genesisTimeMs });
  state.setParams(params);
  const pool = state.account(rewardPoolId);
  pool.balance = amount(g.rewardPool, "rewardPool");
  state.setAccount(rewardPoolId, pool);
  const accounts = (g.accounts ?? []).map((a, i) => {
    const id = a.publicKey !== undefined ? deviceIdFromPublicKey(hexBytes(a.publicKey, 32, `accounts[${i}].publicKey`)) : hexBytes(a.id, 16, `accounts[${i}].id`);
    if (Buffer.compare(id, rewardPoolId) === 0) fail(`accounts[${i}] is the reward pool's id; use "rewardPool"`);
    const acc = state.account(id);
    if (acc.balance !== 0n || acc.staked !== 0n) fail(`accounts[${i}] appears twice`);
    acc.balance = amount(a.balance, `accounts[${i}].balance`);
    acc.staked = amount(a.stake, `accounts[${i}].stake`);
    state.setAccount(id, acc);
    return { id, votes: a.votes ?? [] };
  });
  const candidateIds = (g.candidates ?? []).map((c, i) => {
    const publicKey = hexBytes(c.publicKey, 32, `candidates[${i}].publicKey`);
    const id = deviceIdFromPublicKey(publicKey);
    if (state.candidate(id)) fail(`candidates[${i}] appears twice`);
    if (state.account(id).staked < params.candidateStakeMin) fail(`candidates[${i}] needs an account with at least ${params.candidateStakeMin} staked`);
    state.setCandidate(id, { publicKey, endpoint: c.endpoint ?? "", votes: 0n, jailedUntilEpoch: 0, blocksProduced: 0, registeredHeight: 0 });
    return id;
  });
  state.setCandidateIds(candidateIds.sort(Buffer.compare));
  accounts.forEach(({ id, votes }, i) => {
    if (votes.length > params.votesMax) fail(`accounts[${i}] votes for more than ${params.votesMax} candidates`);
    const ids = votes.map((v, j) => hexBytes(v, 16, `accounts[${i}].votes[${j}]`)).sort(Buffer.compare);
    for (const [j, id] of ids.entries()) if (!state.candidate(id)) fail(`accounts[${i}].votes[${j}] is not a candidate`);
    const acc = state.account(id);
    acc.votes = ids;
    state.setAccount(id, acc);
    addVoteWeight(state, ids, acc.staked);
  });
  (g.devices ?? []).forEach((d, i) => {
    const publicKey = hexBytes(d.publicKey, 32, `devices[${i}].publicKey`);
    const id = deviceIdFromPublicKey(publicKey);
    if (state.device(id)) fail(`devices[${i}] appears twice`);
    const metadata = new Map(Object.entries(d.metadata ?? {}).map(([k, v]) => [k, String(v)]));
    state.setDevice(id, { owner: hexBytes(d.owner, 16, `devices[${i}].owner`), publicKey, status: deviceStatus.active, lastSequence: -1, metadata, ttlDays: d.ttlDays ?? 0, enrolledHeight: 0, readings: 0, evidence: 0, logFrontier: [], window: emptyWindow(), statusSinceMs: 0 });
  });
  const publishers = (g.firmwarePublishers ?? []).map((k, i) => hexBytes(k, 32, `firmwarePublishers[${i}]`));
  if (new Set(publishers.map((k) => Buffer.from(k).toString("hex"))).size !== publishers.length) fail("firmwarePublishers has a key twice");
  new FirmwareState(state).setPublishers(publishers);
  const validators = electValidators(state, params, 0);
  if (validators.length === 0) fail("no candidate is electable: give at least one candidate stake and votes");
  state.setValidators({ epoch: 0, validators });
}

/** Block 0 and its state, from a genesis file. Deterministic: same file, same hash, on every node. */
export function genesisBlock(g: GenesisFile): GenesisBlock {
  const nodes = new MemoryNodeStore();
  const state = new State({ get: () => undefined });
  buildState(state, g);
  const updates = [...state.overlay.flush()].map(([k, v]) => ({ keyHash: keyHash(k), valueHash: v === null ? null : valueHash(v) }));
  const { root, writes } = smtApply(nodes, updates);
  const validators = state.validators();
  const setHash = validatorSetHash(validators);
  const header: BlockHeader = {
    version: blockVersion,
    chainId: g.chainId,
    height: 0,
    previousHash: new Uint8Array(32),
    timeMs: g.genesisTimeMs,
    proposer: new Uint8Array(16),
    validatorSetHash: setHash,
    nextValidatorSetHash: setHash,
    txRoot: emptyRoot,
    stateRoot: root,
    lastCommitHash: new Uint8Array(32),
    resultsRoot: emptyRoot,
  };
  return { header, stateWrites: state.overlay.writes, nodeWrites: writes, validators };
}
