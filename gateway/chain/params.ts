// On-chain parameters: part of the state (so every node agrees on them and the state root commits
// to them), set by the genesis file and, for the governable ones, changed by the validators'
// votes at epoch boundaries (dpos.ts). Integers only: amounts are bigint, counts and durations are
// safe integers with explicit ranges.
import type { CborValue } from "../../shared/cbor.ts";
import { batchReadingsMax as attestationReadingsMax } from "../../shared/attestation.ts";
import { votesPerVoterMax } from "../../shared/tx.ts";
import { GenesisError, invariantFailed } from "./errors.ts";

export interface ChainParams {
  /** Target time between blocks; the producer's pace (governable). */
  blockIntervalMs: number;
  /** Most readings one batch transaction may carry (governable, ≤ the attestation's 4,096). */
  batchReadingsMax: number;
  /** Least fee of any transaction (governable). */
  txFee: bigint;
  /** Least extra fee per reading in a batch (governable). */
  readingFee: bigint;
  /** Paid to the proposer from the reward pool each block, while the pool lasts (governable). */
  blockReward: bigint;
  /** Blocks per epoch: the validator set changes only after heights that are multiples of this. */
  epochBlocks: number;
  /** K: size of the elected validator set. */
  validatorsMax: number;
  /** N: candidates one voter may back. */
  votesMax: number;
  /** Blocks an unstaked amount stays locked before it returns to the balance. */
  unbondingBlocks: number;
  /** Least self-stake for a candidate to register and to stay electable. */
  candidateStakeMin: bigint;
  /** How far a header's time may run ahead of a validator's clock, and a reading's receipt ahead of the header. */
  blockTimeDriftMaxMs: number;
  blockTxsMax: number;
  blockBytesMax: number;
  // ---- contracts: the gas schedule and its limits (gateway/contracts/README.md), all governable.
  // Stored apart from the fields above, in the `params/gas` record (absent while every value is
  // its default), so the `params` record and chains made before contracts keep their encoding.
  /** Gas charged on entering a metered region (function body, loop iteration, if arm). */
  gasPerRegion: number;
  /** Gas per WebAssembly instruction of a metered region, charged on entering it. */
  gasPerInstruction: number;
  /** Gas per host API call, before its per-byte costs. */
  gasPerHostCall: number;
  /** Gas per byte of contract storage written (key + value) and per byte of an event. */
  gasPerByteStored: number;
  /** Gas per byte copied between the host and the contract's memory. */
  gasPerByteCopied: number;
  /** Gas per page (64 KiB) of linear memory a run starts with. */
  gasPerMemoryPage: number;
  /** Gas one token buys: a run's gas is paid as ceil(gas / gasPerToken) tokens. */
  gasPerToken: number;
  /** Most gas one call or one reading-triggered run may be given. */
  contractGasMax: number;
  /** Most gas all runs of one block may use together. */
  blockGasMax: number;
  /** Fee per byte of contract code deployed, on top of txFee. */
  codeByteFee: bigint;
  /**
   * 1 when the genesis enables contracts (not governable): its gateways load the contract VM at
   * start, before they apply any block, so a block with a contract never finds a node unready.
   * 0: contract transactions are refused (CONTRACTS_DISABLED) and the VM is never loaded.
   */
  contractsEnabled: number;
}

type IntRange = { min: bigint; max: bigint };
const range = (min: number | bigint, max: number | bigint): IntRange => ({ min: BigInt(min), max: BigInt(max) });

/** Fixed order: this is the CBOR encoding order of the `params` state record. */
export const paramRanges: Record<keyof ChainParams, IntRange> = {
  blockIntervalMs: range(50, 600_000),
  batchReadingsMax: range(1, attestationReadingsMax),
  txFee: range(0, 10n ** 15n),
  readingFee: range(0, 10n ** 15n),
  blockReward: range(0, 10n ** 15n),
  epochBlocks: range(1, 1_000_000),
  validatorsMax: range(1, 100),
  votesMax: range(1, votesPerVoterMax),
  unbondingBlocks: range(0, 10_000_000),
  candidateStakeMin: range(0, 10n ** 18n),
  blockTimeDriftMaxMs: range(0, 3_600_000),
  blockTxsMax: range(1, 100_000),
  blockBytesMax: range(1 << 16, 64 << 20),
  gasPerRegion: range(0, 1_000_000),
  gasPerInstruction: range(0, 1_000_000),
  gasPerHostCall: range(0, 1_000_000),
  gasPerByteStored: range(0, 1_000_000),
  gasPerByteCopied: range(0, 1_000_000),
  gasPerMemoryPage: range(0, 10_000_000),
  gasPerToken: range(1, 10n ** 12n),
  contractGasMax: range(10_000, 10n ** 12n),
  blockGasMax: range(10_000, 10n ** 13n),
  codeByteFee: range(0, 10n ** 12n),
  contractsEnabled: range(0, 1),
};

/** What the delegates may change by vote (BRIEF §7, clause 7.1.1.2: "parameters tuned via delegates"). */
export const governableParams: readonly (keyof ChainParams)[] = [
  "blockIntervalMs", "batchReadingsMax", "txFee", "readingFee", "blockReward",
  "gasPerRegion", "gasPerInstruction", "gasPerHostCall", "gasPerByteStored", "gasPerByteCopied", "gasPerMemoryPage", "gasPerToken", "contractGasMax", "blockGasMax", "codeByteFee",
];

const bigintParams = new Set<keyof ChainParams>(["txFee", "readingFee", "blockReward", "candidateStakeMin", "codeByteFee"]);
const allParamNames = Object.keys(paramRanges) as (keyof ChainParams)[];
/** The gas schedule: the `params/gas` record, in this order. */
export const gasParamNames: readonly (keyof ChainParams)[] = allParamNames.slice(allParamNames.indexOf("gasPerRegion"));
/** The `params` record, in this order (unchanged since before contracts). */
const paramNames = allParamNames.slice(0, allParamNames.indexOf("gasPerRegion"));

export const paramsDefault: ChainParams = {
  blockIntervalMs: 1000,
  batchReadingsMax: 4096,
  txFee: 1n,
  readingFee: 0n,
  blockReward: 10n,
  epochBlocks: 100,
  validatorsMax: 21,
  votesMax: 5,
  unbondingBlocks: 1000,
  candidateStakeMin: 1000n,
  blockTimeDriftMaxMs: 10_000,
  blockTxsMax: 10_000,
  blockBytesMax: 8 << 20,
  // A metered region costs about its instruction count; a host call about a hundred instructions.
  gasPerRegion: 2,
  gasPerInstruction: 1,
  gasPerHostCall: 100,
  gasPerByteStored: 20,
  gasPerByteCopied: 1,
  gasPerMemoryPage: 1_000,
  gasPerToken: 100_000,
  contractGasMax: 10_000_000,
  blockGasMax: 200_000_000,
  codeByteFee: 1n,
  contractsEnabled: 0,
};

export function isParamName(name: string): name is keyof ChainParams {
  return Object.hasOwn(paramRanges, name);
}

export function paramInRange(name: keyof ChainParams, value: bigint): boolean {
  const r = paramRanges[name];
  return value >= r.min && value <= r.max;
}

/** Returns a copy with one parameter set; the value must be in range. */
export function withParam(p: ChainParams, name: keyof ChainParams, value: bigint): ChainParams {
  if (!paramInRange(name, value)) invariantFailed(`parameter ${name}=${value} out of range`);
  return { ...p, [name]: bigintParams.has(name) ? value : Number(value) };
}

export function paramsToCbor(p: ChainParams): CborValue {
  return paramNames.map((n) => p[n]);
}

/** The `params/gas` record, or null while the whole schedule is at its defaults (no record). */
export function gasParamsToCbor(p: ChainParams): CborValue | null {
  if (gasParamNames.every((n) => p[n] === paramsDefault[n])) return null;
  return gasParamNames.map((n) => p[n]);
}

function paramsFrom(p: ChainParams, names: readonly (keyof ChainParams)[], v: CborValue, what: string): ChainParams {
  if (!(Array.isArray(v) && v.length === names.length)) invariantFailed(`${what} record has the wrong shape`);
  names.forEach((n, i) => {
    const x = v[i];
    if (!(typeof x === "number" || typeof x === "bigint")) invariantFailed(`${what} record: ${n} is not an integer`);
    p = withParam(p, n, BigInt(x));
  });
  return p;
}

/** Decodes the `params` record and, if present, the `params/gas` record (else the default schedule). */
export function paramsFromCbor(v: CborValue, gas?: CborValue): ChainParams {
  const p = paramsFrom({ ...paramsDefault }, paramNames, v, "params");
  return gas === undefined ? p : paramsFrom(p, gasParamNames, gas, "params/gas");
}

/** Parameters from a genesis file's JSON (integers as numbers or decimal strings); missing ones take the defaults. */
export function paramsFromJson(json: Record<string, unknown> | undefined): ChainParams {
  let p = { ...paramsDefault };
  for (const [name, raw] of Object.entries(json ?? {})) {
    if (!isParamName(name)) throw new GenesisError("GENESIS_PARAM", `unknown parameter "${name}"; known: ${allParamNames.join(", ")}`);
    if (typeof raw !== "number" && typeof raw !== "string") throw new GenesisError("GENESIS_PARAM", `parameter ${name} must be an integer`);
    let value: bigint;
    try {
      value = BigInt(raw);
    } catch {
      throw new GenesisError("GENESIS_PARAM", `parameter ${name} must be an integer, got "${raw}"`);
    }
    const r = paramRanges[name];
    if (!paramInRange(name, value)) throw new GenesisError("GENESIS_PARAM", `parameter ${name}=${value} must be within ${r.min}..${r.max}`);
    p = withParam(p, name, value);
  }
  return p;
}

export function paramsToJson(p: ChainParams): Record<string, number | string> {
  return Object.fromEntries(allParamNames.map((n) => [n, typeof p[n] === "bigint" ? String(p[n]) : (p[n] as number)]));
}
