// The contract transactions (deployContract, callContract) and the runs readings trigger, as
// state transitions. The block's contract environment carries what runs share: the parent hash
// they may read, the gas used so far against blockGasMax, the subscription index.
//
// Who pays gas: a call's fee covers its whole gas limit (minimumFee: ceil(gasLimit / gasPerToken)
// on top of txFee) and is paid whatever the run does. A reading-triggered run is paid by the
// contract from its balance: ceil(readingGasLimit / gasPerToken) is reserved before the run and
// what the run did not use is returned after it; the payment joins the block's fees.
//
// Failure: a run that stops (out of gas, trap, call depth, host error, abort) drops the fork its
// writes and transfers went to; the caller's fee and nonce stay spent (apply-tx.ts), and the code
// is the transaction's result `failure` and the run's own.
import { toHex } from "../../shared/ed25519.ts";
import type { DecodedTx, TxBody } from "../../shared/tx.ts";
import type { TxContext } from "../chain/context.ts";
import { reject } from "../chain/errors.ts";
import type { ChainParams } from "../chain/params.ts";
import type { State } from "../chain/state.ts";
import { codeHashOf, ContractCache, sharedContractCache, takesReadings, type CompiledContract } from "./compile.ts";
import { ContractState } from "./contract-state.ts";
import { ContractCodeError } from "./errors.ts";
import { initializeEntry, readingEntry } from "./host-api.ts";
import { gasScheduleOf } from "./instrument.ts";
import { subscribedContractsMax } from "./limits.ts";
import type { ReadingView } from "./reading-values.ts";
import { contractIdOf, type ContractRecord, type ContractRun } from "./records.ts";
import { runContract, type RunHost, type RunOutcome } from "./runner.ts";
import { SubscriptionIndex } from "./subscriptions.ts";

type Body<K extends TxBody["kind"]> = Extract<TxBody, { kind: K }>;

export interface ContractBlockEnv {
  parentHash: Uint8Array;
  gasUsed: number;
  /** Built on first use in the block; dropped by a deployment so the next reading sees it. */
  subscriptions?: SubscriptionIndex;
  cache: ContractCache;
}

export function newContractEnv(parentHash: Uint8Array, cache: ContractCache = sharedContractCache): ContractBlockEnv {
  return { parentHash, gasUsed: 0, cache };
}

const zeroId = new Uint8Array(16);

/** Tokens that pay for `gas`: ceil(gas / gasPerToken). */
export function gasCost(gas: number, params: ChainParams): bigint {
  return BigInt(Math.ceil(gas / params.gasPerToken));
}

function envOf(ctx: TxContext): ContractBlockEnv {
  return (ctx.contracts ??= newContractEnv(new Uint8Array(32)));
}

function compiled(cs: ContractState, env: ContractBlockEnv, record: ContractRecord, params: ChainParams): CompiledContract {
  const code = cs.code(record.codeHash);
  if (!code) throw new Error(`code ${toHex(record.codeHash)} of a deployed contract is missing from the state`);
  return env.cache.get(code, record.codeHash, gasScheduleOf(params));
}

export function applyDeploy(state: State, tx: DecodedTx, body: Body<"deployContract">, ctx: TxContext): void {
  const env = envOf(ctx);
  let contract: CompiledContract;
  try {
    contract = env.cache.get(body.code, codeHashOf(body.code), gasScheduleOf(ctx.params));
  } catch (e) {
    if (e instanceof ContractCodeError) reject("CONTRACT_CODE_INVALID", e.message);
    throw e;
  }
  if (body.criteria.length > 0 && !takesReadings(contract)) reject("CONTRACT_CODE_INVALID", `the contract subscribes to readings but exports no ${readingEntry} function`);
  if (body.readingGasLimit > ctx.params.contractGasMax) reject("CONTRACT_GAS_LIMIT", `readingGasLimit ${body.readingGasLimit} exceeds contractGasMax ${ctx.params.contractGasMax}`);
  const cs = new ContractState(state);
  const id = contractIdOf(tx.authorId, tx.nonce);
  if (cs.code(contract.codeHash) === undefined) cs.setCode(contract.codeHash, body.code);
  cs.setContract(id, { codeHash: contract.codeHash, owner: tx.authorId, criteria: body.criteria, readingGasLimit: body.readingGasLimit, deployedHeight: ctx.height });
  if (body.criteria.length > 0) {
    const subs = cs.subscriptions();
    if (subs.length >= subscribedContractsMax) reject("CONTRACT_SUBSCRIPTIONS_FULL", `the chain holds ${subscribedContractsMax} subscribed contracts already`);
    subs.push({ contractId: id, criteria: body.criteria });
    subs.sort((a, b) => Buffer.compare(a.contractId, b.contractId));
    cs.setSubscriptions(subs);
    env.subscriptions = undefined;
  }
}

/** Checks that depend on the body and the state, not on the run: a refusal leaves no trace. */
export function checkCall(state: State, tx: DecodedTx, body: Body<"callContract">, ctx: TxContext): ContractRecord {
  if (body.gasLimit > ctx.params.contractGasMax) reject("CONTRACT_GAS_LIMIT", `gasLimit ${body.gasLimit} exceeds contractGasMax ${ctx.params.contractGasMax}`);
  const cs = new ContractState(state);
  const record = cs.contract(body.contractId);
  if (!record) reject("CONTRACT_UNKNOWN", `no contract ${toHex(body.contractId)} on chain`);
  const contract = compiled(cs, envOf(ctx), record, ctx.params);
  if (!contract.functions.has(body.method) || body.method === readingEntry || body.method === initializeEntry) {
    reject("CONTRACT_METHOD_UNKNOWN", `contract ${toHex(body.contractId)} has no method "${body.method}"; it exports ${[...contract.functions].filter((f) => f !== readingEntry && f !== initializeEntry).join(", ") || "none"}`);
  }
  return record;
}

/** A call: amount to the contract, then the method, on a fork dropped if the run stops. */
export function applyCall(state: State, tx: DecodedTx, body: Body<"callContract">, ctx: TxContext): ContractRun {
  const env = envOf(ctx);
  const record = checkCall(state, tx, body, ctx);
  const sub = state.fork();
  if (body.amount > 0n) moveTokens(sub, tx.authorId, body.contractId, body.amount) || reject("TX_INSUFFICIENT_FUNDS", `the balance cannot pay the fee and an amount of ${body.amount}`);
  const outcome = run(sub, env, record, body.contractId, body.method, ctx, body.gasLimit, { callerId: tx.authorId, value: body.amount, input: body.input });
  env.gasUsed += outcome.gasUsed;
  if (outcome.failure === null) state.merge(sub);
  return { contractId: body.contractId, position: null, gasUsed: outcome.gasUsed, failure: outcome.failure, events: outcome.events };
}

function moveTokens(state: State, from: Uint8Array, to: Uint8Array, amount: bigint): boolean {
  const a = state.account(from);
  if (a.balance < amount) return false;
  a.balance -= amount;
  state.setAccount(from, a);
  const b = state.account(to);
  b.balance += amount;
  state.setAccount(to, b);
  return true;
}

function run(state: State, env: ContractBlockEnv, record: ContractRecord, id: Uint8Array, entry: string, ctx: TxContext, gasLimit: number, call: { callerId: Uint8Array; value: bigint; input: Uint8Array; reading?: ReadingView }): RunOutcome {
  const cs = new ContractState(state);
  const contract = compiled(cs, env, record, ctx.params);
  const host: RunHost = {
    contractId: id,
    ownerId: record.owner,
    ...call,
    block: { height: ctx.height, timeMs: ctx.timeMs, parentHash: env.parentHash },
    storageGet: (key) => cs.storageGet(id, key),
    storageSet: (key, value) => cs.storageSet(id, key, value),
    balance: () => state.account(id).balance,
    transfer: (to, amount) => moveTokens(state, id, to, amount),
  };
  return runContract(contract, entry, host, gasLimit, gasScheduleOf(ctx.params));
}

/** A recorded reading a batch hands to its subscribers. */
export interface TriggeringReading {
  position: number;
  view: ReadingView;
}

/**
 * Runs every subscribed contract for each reading, in reading order then contract id order.
 * Returns the runs (for the result) and the tokens contracts paid for gas (for the proposer).
 */
export function runReadingTriggers(state: State, ctx: TxContext, readings: TriggeringReading[]): { runs: ContractRun[]; gasFees: bigint } {
  const env = envOf(ctx);
  const runs: ContractRun[] = [];
  let gasFees = 0n;
  if (readings.length === 0) return { runs, gasFees };
  const cs = new ContractState(state);
  env.subscriptions ??= new SubscriptionIndex(cs.subscriptions());
  if (env.subscriptions.empty) return { runs, gasFees };
  for (const r of readings) {
    for (const id of env.subscriptions.match(r.view)) {
      const record = cs.contract(id)!;
      const paid = triggerOne(state, env, ctx, id, record, r, runs);
      gasFees += paid;
    }
  }
  return { runs, gasFees };
}

function triggerOne(state: State, env: ContractBlockEnv, ctx: TxContext, id: Uint8Array, record: ContractRecord, r: TriggeringReading, runs: ContractRun[]): bigint {
  const gasLimit = Math.min(record.readingGasLimit, ctx.params.contractGasMax);
  const skipped = (failure: string): bigint => (runs.push({ contractId: id, position: r.position, gasUsed: 0, failure, events: [] }), 0n);
  if (env.gasUsed + gasLimit > ctx.params.blockGasMax) return skipped("BLOCK_GAS_FULL");
  const reserve = gasCost(gasLimit, ctx.params);
  const account = state.account(id);
  if (account.balance < reserve) return skipped("CONTRACT_UNFUNDED");
  account.balance -= reserve;
  state.setAccount(id, account);
  const sub = state.fork();
  const outcome = run(sub, env, record, id, readingEntry, ctx, gasLimit, { callerId: zeroId, value: 0n, input: new Uint8Array(0), reading: r.view });
  if (outcome.failure === null) state.merge(sub);
  env.gasUsed += outcome.gasUsed;
  const paid = gasCost(outcome.gasUsed, ctx.params);
  const back = state.account(id);
  back.balance += reserve - paid;
  state.setAccount(id, back);
  runs.push({ contractId: id, position: r.position, gasUsed: outcome.gasUsed, failure: outcome.failure, events: outcome.events });
  return paid;
}
