// bench:chain, contracts section: readings/s applied with 0, 1 and 10 contracts subscribed to every
// reading, and the contract VM's gas/s on one core. Each row is a fresh chain (SQLite file,
// contractsEnabled) where the example contracts (contracts/examples: threshold alarm, hourly
// aggregate, pay-per-reading, in turn) are deployed, funded and configured by transaction and
// subscribed to the devices' owner, so each reading runs every one of them.
//
//   apply    = build the block (signatures cached, as the producer after mempool admission) + commit
//   validate = re-execute it with every signature verified + commit (a validator receiving it)
//   gas/s    = gas the block's runs used ÷ the apply time they added over the same readings with
//              no contract: the VM's own rate (instrumented WebAssembly, host calls, state writes)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attestBatch } from "../shared/attestation.ts";
import { readingDigest } from "../shared/reading.ts";
import { decodeTx, signTx, txVersion, type DecodedTx, type TxBody } from "../shared/tx.ts";
import { minimumFee } from "../gateway/chain/apply-tx.ts";
import { Chain } from "../gateway/chain/chain.ts";
import type { GenesisFile } from "../gateway/chain/genesis.ts";
import type { Identity } from "../gateway/chain/keyfile.ts";
import { decodeTxResult } from "../gateway/chain/reading-outcome.ts";
import { buildContract } from "../gateway/contracts/build.ts";
import { contractIdOf } from "../gateway/contracts/records.ts";
import { ChainStore } from "../gateway/storage/chain-store.ts";
import { blockCycle } from "./block-cycle.ts";

export type SignReadings = (count: number, receivedAtMs: number) => Promise<{ bytes: Uint8Array; receivedAtMs: number }[]>;

export interface ContractBenchDeps {
  genesis: GenesisFile;
  gateway: Identity;
  /** Owner of every device: the contracts subscribe to it. */
  ownerId: Uint8Array;
  /** Funded in `genesis`: deploys, funds and configures the contracts. */
  deployer: Identity;
  signReadings: SignReadings;
  log: (s: string) => void;
}

export interface ContractRow {
  contracts: number;
  readingsApply: number;
  readingsValidate: number;
  gasPerReading: number;
  /** Gas per second of the apply time the contracts added; null without contracts. */
  gasPerS: number | null;
}

const examples = ["threshold-alarm", "hourly-aggregate", "pay-per-reading"] as const;
const readingsPerBlock = 1024; // one batch: 10 contracts × 1,024 runs stay well inside blockGasMax
const warmBlocks = 2;
const measuredBlocks = 8;
/** Each triggered run's gas limit: the examples use a few thousand. */
const readingGasLimit = 20_000;

const i64le = (...vs: bigint[]): Uint8Array => {
  const b = Buffer.alloc(8 * vs.length);
  vs.forEach((v, i) => b.writeBigInt64LE(v, 8 * i));
  return new Uint8Array(b);
};

export async function contractBench(deps: ContractBenchDeps, counts: number[] = [0, 1, 10]): Promise<ContractRow[]> {
  const code: Record<string, Uint8Array> = {};
  for (const name of examples) code[name] = (await buildContract(`contracts/examples/${name}.ts`)).code;
  const rows: ContractRow[] = [];
  let baseMsPerBlock = 0;
  for (const n of counts) {
    const row = await oneRow(deps, code, n, baseMsPerBlock);
    if (n === 0) baseMsPerBlock = (readingsPerBlock * 1000) / row.readingsApply;
    rows.push(row);
    deps.log(`  ${n} contract(s): ${Math.round(row.readingsApply).toLocaleString("en-US")} readings/s applied`);
  }
  return rows;
}

async function oneRow(deps: ContractBenchDeps, code: Record<string, Uint8Array>, n: number, baseMsPerBlock: number): Promise<ContractRow> {
  const dir = mkdtempSync(join(tmpdir(), "mote-bench-contracts-"));
  const genesis: GenesisFile = { ...deps.genesis, chainId: `mote-bench-contracts-${n}`, params: { ...deps.genesis.params, contractsEnabled: 1 } };
  const store = ChainStore.open(dir);
  const chain = Chain.open(store, genesis);
  let timeMs = genesis.genesisTimeMs;
  let gatewayNonce = 0;
  let deployerNonce = 0;
  const sign = (who: Identity, nonce: number, body: TxBody): DecodedTx => decodeTx(signTx(who.key, genesis.chainId, { version: txVersion, author: who.publicKey, nonce, fee: minimumFee(body, chain.params()), body }));
  const cycle = async (txs: DecodedTx[], validate: boolean): Promise<{ applyMs: number; validateMs: number; gas: number }> => {
    timeMs += 1000;
    const t = await blockCycle(chain, deps.gateway, timeMs, txs, validate, (pending) => {
      for (const r of pending.execution.results.map(decodeTxResult)) {
        if (r.failure !== null) throw new Error(`bench transaction failed: ${r.failure}`);
        const stopped = (r.runs ?? []).find((x) => x.failure !== null);
        if (stopped) throw new Error(`a contract run stopped: ${stopped.failure}; the bench measures completed runs`);
      }
    });
    return { applyMs: t.applyMs + t.commitMs, validateMs: t.validateMs + t.commitMs, gas: t.gasUsed };
  };

  // Deploy n contracts subscribed to the owner's devices, fund them, configure those that need it.
  const setup: DecodedTx[] = [];
  for (let i = 0; i < n; i++) {
    const name = examples[i % examples.length];
    const nonce = deployerNonce++;
    const id = contractIdOf(deps.deployer.id, nonce);
    setup.push(sign(deps.deployer, nonce, { kind: "deployContract", code: code[name], criteria: [{ kind: "owner", ownerId: deps.ownerId }], readingGasLimit }));
    setup.push(sign(deps.deployer, deployerNonce++, { kind: "transfer", to: id, amount: 100_000_000n }));
    const call = (method: string, input: Uint8Array): DecodedTx => sign(deps.deployer, deployerNonce++, { kind: "callContract", contractId: id, method, input, gasLimit: 200_000, amount: 0n });
    if (name === "threshold-alarm") setup.push(call("configure", i64le(30_000n, 25_000n)));
    if (name === "pay-per-reading") setup.push(call("configure", i64le(1n)));
  }
  if (setup.length) await cycle(setup, false);

  const readingBlock = async (): Promise<DecodedTx[]> => {
    const readings = await deps.signReadings(readingsPerBlock, timeMs + 900);
    const attestation = attestBatch(deps.gateway.key, deps.gateway.id, readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
    return [sign(deps.gateway, gatewayNonce++, { kind: "readingBatch", attestation, readings })];
  };
  for (let i = 0; i < warmBlocks; i++) await cycle(await readingBlock(), false);
  // Workload first, then the clock: the signing worker is idle while blocks are timed.
  const blocks: DecodedTx[][] = [];
  for (let i = 0; i < measuredBlocks; i++) blocks.push(await readingBlock());
  const timings = [];
  for (const txs of blocks) timings.push(await cycle(txs, true));
  store.close();
  rmSync(dir, { recursive: true, force: true });

  const applyMs = timings.reduce((s, t) => s + t.applyMs, 0);
  const validateMs = timings.reduce((s, t) => s + t.validateMs, 0);
  const gas = timings.reduce((s, t) => s + t.gas, 0);
  const readings = measuredBlocks * readingsPerBlock;
  const addedMs = applyMs - baseMsPerBlock * measuredBlocks;
  return {
    contracts: n,
    readingsApply: (readings * 1000) / applyMs,
    readingsValidate: (readings * 1000) / validateMs,
    gasPerReading: gas / readings,
    gasPerS: n === 0 || addedMs <= 0 ? null : (gas * 1000) / addedMs,
  };
}

export function printContractRows(rows: ContractRow[], log: (s: string) => void): void {
  const f0 = (x: number): string => Math.round(x).toLocaleString("en-US");
  log("");
  log(`subscribed contracts | readings/s apply | validate | gas per reading | VM gas/s (one core)`);
  log(`-------------------- | ---------------- | -------- | --------------- | -------------------`);
  for (const r of rows) {
    log(`${String(r.contracts).padStart(20)} | ${f0(r.readingsApply).padStart(16)} | ${f0(r.readingsValidate).padStart(8)} | ${f0(r.gasPerReading).padStart(15)} | ${(r.gasPerS === null ? "-" : f0(r.gasPerS)).padStart(19)}`);
  }
  log(`each reading runs every subscribed contract (the examples in turn); blocks of ${readingsPerBlock} readings, ${measuredBlocks} measured per row on a fresh chain.`);
  log("VM gas/s = gas used ÷ the apply time the contracts added over the 0-contract row: instrumented WebAssembly, host calls and state writes together.");
}
