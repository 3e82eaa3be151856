// JSON shapes of contracts, their runs, events and storage (schemas.ts Contract, ContractEvent,
// ContractRun, ContractStorageEntry), shared by the contract routes, GET /v1/txs/:id and the event
// stream. Byte strings are hex; an event topic is also given as text when it is printable UTF-8
// (the examples' topics are words: "alarm", "paid").
import { toHex as hex } from "../../shared/ed25519.ts";
import type { ContractCriterion } from "../../shared/tx.ts";
import type { SmtProof } from "../chain/smt-proof.ts";
import { initializeEntry, readingEntry } from "../contracts/host-api.ts";
import type { ContractRecord, ContractRun } from "../contracts/records.ts";
import type { ContractEvent } from "../contracts/runner.ts";
import { LruMap } from "../ingest/lru.ts";
import type { ContractEventRow, ContractRunRow, ContractStats } from "../storage/contract-index.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The topic as text when it is printable UTF-8 without control characters, else null. */
export function topicText(topic: Uint8Array): string | null {
  try {
    const s = utf8.decode(topic);
    return /^[^\p{Cc}]+$/u.test(s) ? s : null;
  } catch {
    return null;
  }
}

export function criterionView(c: ContractCriterion) {
  switch (c.kind) {
    case "device":
      return { kind: c.kind, deviceId: hex(c.deviceId) };
    case "owner":
      return { kind: c.kind, ownerId: hex(c.ownerId) };
    case "metadata":
      return { kind: c.kind, key: c.key, value: c.value };
  }
}

export function eventView(e: ContractEvent) {
  return { topic: hex(e.topic), topicText: topicText(e.topic), data: hex(e.data) };
}

/** A run inside a transaction's result (GET /v1/txs/:id). */
export function runView(r: ContractRun) {
  return { contractId: hex(r.contractId), position: r.position, gasUsed: r.gasUsed, failure: r.failure, events: r.events.map(eventView) };
}

/** An indexed event with its place in the chain; `cursor` resumes a page after (or before) it. */
export function indexedEventView(e: ContractEventRow) {
  return {
    contractId: hex(e.contractId),
    height: e.height,
    txIndex: e.txIndex,
    runIndex: e.runIndex,
    eventIndex: e.eventIndex,
    position: e.position,
    ...eventView(e),
    cursor: eventCursor(e),
  };
}

export function indexedRunView(r: ContractRunRow) {
  return { height: r.height, txIndex: r.txIndex, runIndex: r.runIndex, position: r.position, gasUsed: r.gasUsed, failure: r.failure, events: r.events };
}

/** "height.tx.run.event": a cursor of the events index (contract-index.ts EventPlace). */
export function eventCursor(p: { height: number; txIndex: number; runIndex: number; eventIndex: number }): string {
  return `${p.height}.${p.txIndex}.${p.runIndex}.${p.eventIndex}`;
}

export const eventCursorPattern = "^[0-9]{1,15}\\.[0-9]{1,6}\\.[0-9]{1,6}\\.[0-9]{1,3}$";

/** Parses a cursor made by eventCursor; undefined when it is not one (the route says 400). */
export function parseEventCursor(s: string): { height: number; txIndex: number; runIndex: number; eventIndex: number } | undefined {
  if (!new RegExp(eventCursorPattern).test(s)) return undefined;
  const [height, txIndex, runIndex, eventIndex] = s.split(".").map(Number);
  if (![height, txIndex, runIndex, eventIndex].every(Number.isSafeInteger)) return undefined;
  return { height, txIndex, runIndex, eventIndex };
}

/** A sparse Merkle proof of a state key against the head (like the provenance's state link). */
export function stateProofView(key: string, value: Uint8Array | undefined, proof: SmtProof, valid: boolean) {
  return {
    key,
    value: value ? hex(value) : null,
    siblings: proof.siblings.map(hex),
    terminal: proof.terminal ? { keyHash: hex(proof.terminal.keyHash), valueHash: hex(proof.terminal.valueHash) } : null,
    valid,
  };
}

/** Exported functions of deployed code, cached by code hash (codes are immutable). */
const exportsCache = new LruMap<string, string[]>(256);

/** `codeHash` is the record's (the SHA-256 of `code`, the key it is stored under): not hashed again per view. */
export function exportedFunctions(codeHash: Uint8Array, code: Uint8Array): string[] {
  const key = hex(codeHash);
  let names = exportsCache.get(key);
  if (!names) {
    // The code passed the deploy checks; V8 only parses it here, nothing runs.
    names = WebAssembly.Module.exports(new WebAssembly.Module(code as Uint8Array<ArrayBuffer>))
      .filter((e) => e.kind === "function")
      .map((e) => e.name)
      .sort();
    exportsCache.set(key, names);
  }
  return names;
}

export function contractView(id: Uint8Array, c: ContractRecord, o: { balance: bigint; code: Uint8Array | undefined; stats: ContractStats }) {
  const functions = o.code ? exportedFunctions(c.codeHash, o.code) : [];
  return {
    id: hex(id),
    codeHash: hex(c.codeHash),
    codeBytes: o.code?.length ?? 0,
    owner: hex(c.owner),
    criteria: c.criteria.map(criterionView),
    readingGasLimit: c.readingGasLimit,
    deployedHeight: c.deployedHeight,
    balance: o.balance.toString(),
    methods: functions.filter((f) => f !== readingEntry && f !== initializeEntry),
    onReading: functions.includes(readingEntry),
    runs: o.stats.runs,
    failedRuns: o.stats.failed,
    gasUsed: o.stats.gasUsed,
    events: o.stats.events,
    lastRunHeight: o.stats.lastHeight,
  };
}
