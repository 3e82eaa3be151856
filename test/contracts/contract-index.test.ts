// The contract index (gateway/storage/contract-index.ts): runs, events and per-contract totals
// written with each block from its results, equal on a node that replayed the chain, queryable
// by contract and topic in pages, and rebuilt in place when a schema-2 file is opened.
import Database from "better-sqlite3";
import fc from "fast-check";
import { rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { contractRows } from "../../gateway/chain/index-rows.ts";
import { decodeBlockResults, encodeTxResult } from "../../gateway/chain/reading-outcome.ts";
import type { ContractRun } from "../../gateway/contracts/records.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { schemaVersion } from "../../gateway/storage/schema.ts";
import type { ContractIndex, EventPlace } from "../../gateway/storage/contract-index.ts";
import { signed } from "../chain/fixture.ts";
import { callTx, deployTx, examples, i64le, type ExampleName } from "./contract-fixture.ts";
import { Driver } from "./example-driver.ts";

let code: Record<ExampleName, Uint8Array>;
const dirs: string[] = [];
beforeAll(async () => {
  code = await examples();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const utf8 = (s: string) => new Uint8Array(Buffer.from(s));

/** A chain with the alarm contract: a refused call, two excursions, and readings that trigger nothing. */
function alarmChain(dir?: string): { d: Driver; id: Uint8Array } {
  const d = new Driver("index", dir);
  const [alice, bob] = d.f.users;
  const alarm = deployTx(d.chain, alice, 0, code["threshold-alarm"], [{ kind: "device", deviceId: d.f.devices[0].id }], 100_000);
  d.block([alarm.bytes]);
  d.block([signed(d.chain.chainId, alice, 1, { kind: "transfer", to: alarm.id, amount: 1000n }), callTx(d.chain, alice, 2, alarm.id, "configure", i64le(30_000n, 25_000n))]);
  d.block([callTx(d.chain, bob, 0, alarm.id, "configure", i64le(1n, 0n))]);
  d.readings([20, 31, 32, 29, 24].map((t, i) => [0, i, t] as [number, number, number]));
  d.readings([[0, 5, 35], [1, 0, 40], [0, 6, 10]]);
  return { d, id: alarm.id };
}

/** Every run of the chain, from the stored results (the consensus data the index derives from). */
function runsOnChain(chain: Chain): (ContractRun & { height: number })[] {
  const out: (ContractRun & { height: number })[] = [];
  for (let h = 1; h <= chain.head().height; h++) for (const r of decodeBlockResults(chain.store.block(h)!.results)) for (const run of r.runs ?? []) out.push({ ...run, height: h });
  return out;
}

const eventList = (ix: ContractIndex, id: Uint8Array) => ix.events(id, { order: "asc", limit: 1000 }).map((e) => [e.height, e.txIndex, e.runIndex, e.eventIndex, e.position, toHex(e.topic), toHex(e.data)]);

describe("contract index", () => {
  it("holds every run and event of the results, with totals, and a replaying node holds the same", () => {
    const { d, id } = alarmChain();
    const ix = d.chain.store.indexes.contracts;
    const runs = runsOnChain(d.chain);
    const events = ix.events(id, { order: "asc", limit: 1000 });
    expect(events.map((e) => Buffer.from(e.topic).toString())).toEqual(["alarm", "clear", "alarm", "clear"]);
    expect(events.map((e) => e.data)).toEqual(runs.flatMap((r) => r.events.map((e) => e.data)));
    expect(ix.events(id, { order: "asc", limit: 1000, topic: utf8("alarm") }).map((e) => e.position)).toEqual([1, 0]);
    expect(ix.events(id, { order: "asc", limit: 1000, topic: utf8("none") })).toEqual([]);
    const stats = ix.stats(id);
    expect(stats).toEqual({
      runs: runs.length,
      failed: runs.filter((r) => r.failure !== null).length,
      gasUsed: runs.reduce((s, r) => s + r.gasUsed, 0),
      events: 4,
      lastHeight: d.chain.head().height,
    });
    expect(stats.failed).toBe(1); // bob's configure aborted
    expect(ix.recentRuns(id, 3).map((r) => r.height)).toEqual([5, 5, 4]);
    const other = d.replay();
    expect(eventList(other.store.indexes.contracts, id)).toEqual(eventList(ix, id));
    expect(other.store.indexes.contracts.stats(id)).toEqual(stats);
    other.store.close();
  });

  it("pages through events in both orders, one at a time, without gaps or repeats", () => {
    const { d, id } = alarmChain();
    const ix = d.chain.store.indexes.contracts;
    const all = eventList(ix, id);
    for (const order of ["asc", "desc"] as const) {
      const seen: unknown[] = [];
      let from: EventPlace | undefined;
      for (;;) {
        const page = ix.events(id, { order, limit: 1, from });
        if (page.length === 0) break;
        seen.push(...page.map((e) => [e.height, e.txIndex, e.runIndex, e.eventIndex, e.position, toHex(e.topic), toHex(e.data)]));
        from = page[0];
      }
      expect(seen).toEqual(order === "asc" ? all : [...all].reverse());
    }
  });

  it("a schema-2 file is migrated on open: the contract tables are filled from the stored results", () => {
    const dir = mkdtempSync(join(tmpdir(), "mote-contract-index-"));
    dirs.push(dir);
    const { d, id } = alarmChain(dir);
    const before = eventList(d.chain.store.indexes.contracts, id);
    const stats = d.chain.store.indexes.contracts.stats(id);
    d.chain.store.close();
    // What a release before contract indexes left: no contract tables, version 2.
    const db = new Database(join(dir, "chain.sqlite"));
    db.exec("DROP TABLE contract_runs; DROP TABLE contract_events; DROP TABLE contract_stats; DELETE FROM meta WHERE key = 'contract_index_height'");
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(Buffer.of(2));
    db.close();
    const store = ChainStore.open(dir);
    expect(store.contractIndexHeight()).toBe(-1);
    const chain = Chain.open(store, d.f.genesis);
    expect(store.contractIndexHeight()).toBe(chain.head().height);
    expect(store.meta("schema_version")).toEqual(Uint8Array.of(schemaVersion));
    expect(eventList(store.indexes.contracts, id)).toEqual(before);
    expect(store.indexes.contracts.stats(id)).toEqual(stats);
    store.close();
  });

  it("contractRows: any runs encoded in results come back as rows, in order (property)", () => {
    const bytes = (max: number) => fc.uint8Array({ minLength: 1, maxLength: max });
    const run = fc.record({
      contractId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      position: fc.option(fc.nat(4095), { nil: null }),
      gasUsed: fc.nat(10_000_000),
      failure: fc.option(fc.constantFrom("CONTRACT_OUT_OF_GAS", "CONTRACT_TRAP", "BLOCK_GAS_FULL"), { nil: null }),
      events: fc.array(fc.record({ topic: bytes(32), data: fc.uint8Array({ maxLength: 256 }) }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(run, { maxLength: 4 }), { maxLength: 6 }), (perTx) => {
        const results = perTx.map((runs) => encodeTxResult({ failure: null, readings: [], runs }));
        const rows = contractRows(results);
        const flat = perTx.flatMap((runs, txIndex) => runs.map((r, runIndex) => ({ r, txIndex, runIndex })));
        expect(rows.runs.map((x) => [toHex(x.contractId), x.txIndex, x.runIndex, x.position, x.gasUsed, x.failure, x.events])).toEqual(
          flat.map(({ r, txIndex, runIndex }) => [toHex(r.contractId), txIndex, runIndex, r.position, r.gasUsed, r.failure, r.events.length]),
        );
        expect(rows.events.map((e) => [e.txIndex, e.runIndex, e.eventIndex, toHex(e.topic), toHex(e.data)])).toEqual(
          flat.flatMap(({ r, txIndex, runIndex }) => r.events.map((e, i) => [txIndex, runIndex, i, toHex(e.topic), toHex(e.data)])),
        );
      }),
      { numRuns: 300 },
    );
  });
});
