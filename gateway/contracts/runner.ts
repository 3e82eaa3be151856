// One run of a contract: a fresh instance of its compiled module, the gas limit in its
// `__mote_gas` global, one exported function called, the outcome classified. The runner knows
// nothing of the chain: storage, balances and transfers go through the RunHost the caller gives
// (gateway/contracts/apply-contracts.ts backs it with a fork of the block's state, dropped when the
// run fails). Everything a run can observe comes from that host and from the block, so every
// validator sees the same thing and charges the same gas.
import type { GasSchedule } from "./instrument.ts";
import { faultCallDepth, faultGlobal, gasGlobal } from "./instrument.ts";
import { RunStop, type RunStopCode } from "./errors.ts";
import type { CompiledContract } from "./compile.ts";
import { hostApi, initializeEntry, type HostFunctionName } from "./host-api.ts";
import * as limits from "./limits.ts";
import { recordKindOf, recordValue, type ReadingView } from "./reading-values.ts";

export interface ContractEvent {
  topic: Uint8Array;
  data: Uint8Array;
}

/** What the chain provides to a run. Storage writes and transfers land in the caller's fork. */
export interface RunHost {
  contractId: Uint8Array;
  ownerId: Uint8Array;
  /** The calling transaction's author, or 16 zero bytes for a reading-triggered run. */
  callerId: Uint8Array;
  value: bigint;
  input: Uint8Array;
  block: { height: number; timeMs: number; parentHash: Uint8Array };
  reading?: ReadingView;
  storageGet(key: Uint8Array): Uint8Array | undefined;
  storageSet(key: Uint8Array, value: Uint8Array | null): void;
  balance(): bigint;
  /** Moves tokens from the contract; false when its balance is short. */
  transfer(to: Uint8Array, amount: bigint): boolean;
}

export interface RunOutcome {
  gasUsed: number;
  /** null when the function returned; else why it stopped (the caller reverts its writes). */
  failure: RunStopCode | null;
  /** Detail for logs and the CLI; not part of consensus. */
  message: string;
  events: ContractEvent[];
}

const i64Max = 2n ** 63n - 1n;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function hostError(message: string): never {
  throw new RunStop("CONTRACT_HOST_ERROR", message);
}

/** Runs export `entry` of `contract` with at most `gasLimit` gas. Never throws for anything the contract does. */
export function runContract(contract: CompiledContract, entry: string, host: RunHost, gasLimit: number, schedule: GasSchedule): RunOutcome {
  const events: ContractEvent[] = [];
  const startCost = contract.initialPages * schedule.gasPerMemoryPage;
  if (startCost > gasLimit) return { gasUsed: gasLimit, failure: "CONTRACT_OUT_OF_GAS", message: "the gas limit does not cover the module's initial memory", events };
  let exports: WebAssembly.Exports | undefined;
  const gas = (): WebAssembly.Global => exports![gasGlobal] as WebAssembly.Global;
  const charge = (units: number): void => {
    const left = (gas().value as bigint) - BigInt(units);
    if (left < 0n) {
      gas().value = -1n;
      throw new RunStop("CONTRACT_OUT_OF_GAS", "out of gas in a host call");
    }
    gas().value = left;
  };
  const memory = (): Uint8Array => new Uint8Array((exports![contract.memoryName] as WebAssembly.Memory).buffer);
  const view = (ptr: number, len: number): Uint8Array => {
    const p = ptr >>> 0;
    const mem = memory();
    if (len < 0 || p + len > mem.length) hostError(`pointer ${p}+${len} is outside the contract's memory`);
    return mem.subarray(p, p + len);
  };
  const read = (ptr: number, len: number, max: number, what: string): Uint8Array => {
    if (len < 0 || len > max) hostError(`${what} is ${len} bytes; at most ${max}`);
    charge(len * schedule.gasPerByteCopied);
    return Uint8Array.from(view(ptr, len));
  };
  const write = (ptr: number, bytes: Uint8Array, cap = bytes.length): void => {
    const n = Math.min(bytes.length, Math.max(cap, 0));
    charge(n * schedule.gasPerByteCopied);
    view(ptr, n).set(bytes.subarray(0, n));
  };
  const reading = (): ReadingView => host.reading ?? hostError("this run was not triggered by a reading");
  const record = (i: number) => reading().records[i] ?? hostError(`record ${i} is out of range`);
  const clamp = (v: bigint): bigint => (v > i64Max ? i64Max : v);

  const impl: { [K in HostFunctionName]: (...args: never[]) => number | bigint | void } = {
    abort: (_msg: number, _file: number, line: number, column: number) => {
      throw new RunStop("CONTRACT_ABORT", `the contract aborted at line ${line}, column ${column}`);
    },
    input_size: () => host.input.length,
    input_read: (ptr: number) => write(ptr, host.input),
    caller: (ptr: number) => write(ptr, host.callerId),
    self: (ptr: number) => write(ptr, host.contractId),
    owner: (ptr: number) => write(ptr, host.ownerId),
    value: () => host.value,
    balance: () => clamp(host.balance()),
    transfer: (ptr: number, amount: bigint) => {
      const to = read(ptr, 16, 16, "recipient");
      if (amount <= 0n) return 2;
      charge(schedule.gasPerByteStored * 64); // two account records rewritten
      return host.transfer(to, amount) ? 0 : 1;
    },
    block_height: () => BigInt(host.block.height),
    block_time_ms: () => BigInt(host.block.timeMs),
    block_parent_hash: (ptr: number) => write(ptr, host.block.parentHash),
    storage_read: (kp: number, kl: number, vp: number, cap: number) => {
      const value = host.storageGet(read(kp, kl, limits.storageKeyBytesMax, "storage key"));
      if (value === undefined) return -1;
      write(vp, value, cap);
      return value.length;
    },
    storage_write: (kp: number, kl: number, vp: number, vl: number) => {
      const key = read(kp, kl, limits.storageKeyBytesMax, "storage key");
      const value = read(vp, vl, limits.storageValueBytesMax, "storage value");
      charge((key.length + value.length) * schedule.gasPerByteStored);
      host.storageSet(key, value);
    },
    storage_remove: (kp: number, kl: number) => {
      const key = read(kp, kl, limits.storageKeyBytesMax, "storage key");
      charge(key.length * schedule.gasPerByteStored);
      host.storageSet(key, null);
    },
    emit: (tp: number, tl: number, dp: number, dl: number) => {
      if (events.length >= limits.eventsPerRunMax) hostError(`a run emits at most ${limits.eventsPerRunMax} events`);
      const topic = read(tp, tl, limits.eventTopicBytesMax, "event topic");
      const data = read(dp, dl, limits.eventDataBytesMax, "event data");
      charge((topic.length + data.length) * schedule.gasPerByteStored);
      events.push({ topic, data });
    },
    reading_device: (ptr: number) => write(ptr, reading().deviceId),
    reading_owner: (ptr: number) => write(ptr, reading().ownerId),
    reading_sequence: () => BigInt(reading().sequence),
    reading_received_ms: () => BigInt(reading().receivedAtMs),
    reading_records: () => reading().records.length,
    reading_find: (ptr: number, len: number) => {
      const name = fromUtf8.decode(read(ptr, len, 256, "record name"));
      return reading().records.findIndex((r) => r.name === name);
    },
    reading_name: (i: number, ptr: number, cap: number) => {
      const name = utf8.encode(record(i).name);
      write(ptr, name, cap);
      return name.length;
    },
    reading_kind: (i: number) => recordKindOf(record(i)),
    reading_value: (i: number) => recordValue(record(i)),
    reading_metadata: (kp: number, kl: number, vp: number, cap: number) => {
      const key = fromUtf8.decode(read(kp, kl, 64, "metadata key"));
      const value = reading().metadata.get(key);
      if (value === undefined) return -1;
      const bytes = utf8.encode(value);
      write(vp, bytes, cap);
      return bytes.length;
    },
  };
  const env: Record<string, (...args: never[]) => unknown> = {};
  for (const name of Object.keys(hostApi) as HostFunctionName[]) {
    const f = impl[name] as (...args: never[]) => unknown;
    env[name] = (...args: never[]) => {
      charge(schedule.gasPerHostCall);
      return f(...args);
    };
  }

  let message = "";
  let failure: RunStopCode | null = null;
  try {
    exports = new WebAssembly.Instance(contract.module, { env }).exports;
    gas().value = BigInt(gasLimit - startCost);
    const fn = exports[entry];
    if (typeof fn !== "function" || entry === initializeEntry) hostError(`the contract exports no function "${entry}"`);
    const init = exports[initializeEntry];
    if (typeof init === "function") (init as () => unknown)();
    (fn as () => unknown)();
  } catch (e) {
    ({ failure, message } = classify(e, exports));
  }
  const left = exports ? (gas().value as bigint) : 0n;
  const gasUsed = left < 0n ? gasLimit : gasLimit - Number(left);
  return { gasUsed, failure, message, events: failure === null ? events : [] };
}

function classify(e: unknown, exports: WebAssembly.Exports | undefined): { failure: RunStopCode; message: string } {
  if (e instanceof RunStop) return { failure: e.code, message: e.message };
  const gasLeft = exports ? ((exports[gasGlobal] as WebAssembly.Global).value as bigint) : 0n;
  const fault = exports ? ((exports[faultGlobal] as WebAssembly.Global).value as number) : 0;
  if (e instanceof WebAssembly.RuntimeError || e instanceof WebAssembly.LinkError) {
    if (gasLeft < 0n) return { failure: "CONTRACT_OUT_OF_GAS", message: "out of gas" };
    if (fault === faultCallDepth) return { failure: "CONTRACT_CALL_DEPTH", message: `more than ${limits.callDepthMax} calls in progress` };
    return { failure: "CONTRACT_TRAP", message: `trap: ${e.message}` };
  }
  // The limits (callDepthMax × frame bounds) keep a run far below V8's stack; should it still
  // overflow, the run fails like a trap rather than taking the node down.
  if (e instanceof RangeError) return { failure: "CONTRACT_TRAP", message: `native stack exhausted: ${e.message}` };
  throw e;
}
