// bench:expiry — does the chain database stop growing under steady load once readings expire?
// Two chains on SQLite files take the same blocks (one per second of block time, the same signed
// readings): one whose owner set a retention (setRetention, tx 18), one that keeps everything. Every
// `sampleBlocks` blocks it prints, for each, the main file's size after a WAL checkpoint, its free
// pages, the readings and value rows, and the bytes the file grew per reading added since the last
// row. The retained file levels off where pruned pages are reused; what still grows is the part
// expiry keeps by design (digests, device-log nodes, headers, results). Ceiling: the same run's
// block commit time, beside the time the expiry slices took per block (off the commit path in a node).
//
//   BENCH_BLOCKS (900)  BENCH_DEVICES (100)  BENCH_PER_DEVICE (2 readings per block)  BENCH_RETENTION_S (120)
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attestBatch } from "../shared/attestation.ts";
import { toHex } from "../shared/ed25519.ts";
import { encodeReading, readingDigest } from "../shared/reading.ts";
import { decodeTx, signTx, txVersion, type DecodedTx, type TxBody } from "../shared/tx.ts";
import { Chain } from "../gateway/chain/chain.ts";
import type { Identity } from "../gateway/chain/keyfile.ts";
import { benchGenesis, benchIdentity } from "./bench-genesis.ts";
import { ChainStore } from "../gateway/storage/chain-store.ts";
import { blockCycle } from "./block-cycle.ts";
import { printTable } from "./table.ts";

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const blocks = env("BENCH_BLOCKS", 900);
const devicesN = env("BENCH_DEVICES", 100);
const perDevice = env("BENCH_PER_DEVICE", 2);
const retentionS = env("BENCH_RETENTION_S", 120);
const sampleBlocks = Math.max(1, Math.round(blocks / 15));

const identity = benchIdentity;
const gateway = identity("bench-expiry/gateway");
const owner = identity("bench-expiry/owner");
const devices = Array.from({ length: devicesN }, (_, i) => identity(`bench-expiry/device/${i}`));
const genesis = benchGenesis({ chainId: "mote-bench-expiry", gateway, owner, devices, epochBlocks: 100_000, accounts: [{ publicKey: toHex(owner.publicKey), balance: "1000000000" }] });
const sign = (who: Identity, nonce: number, body: TxBody): DecodedTx => decodeTx(signTx(who.key, genesis.chainId, { version: txVersion, author: who.publicKey, nonce, fee: 1n, body }));

interface Run {
  name: string;
  dir: string;
  store: ChainStore;
  chain: Chain;
  commitMs: number[];
  pruneMs: number[];
  lastBytes: number;
  lastReadings: number;
  rows: (string | number)[][];
}

function open(name: string): Run {
  const dir = mkdtempSync(join(tmpdir(), `mote-bench-expiry-${name}-`));
  const store = ChainStore.open(dir);
  return { name, dir, store, chain: Chain.open(store, genesis), commitMs: [], pruneMs: [], lastBytes: 0, lastReadings: 0, rows: [] };
}

const kept = open("kept");
const pruned = open("retained");
const seq = new Uint32Array(devicesN);
let clockMs = genesis.genesisTimeMs;
let gatewayNonce = 0;

function readingBlock(): DecodedTx {
  const receivedAtMs = clockMs - 100;
  const readings = [];
  for (let k = 0; k < perDevice; k++) {
    for (const [i, d] of devices.entries()) {
      const records = [
        { name: "temp", unit: "Cel", value: 20 + (seq[i] % 40) / 4 },
        { name: "hum", unit: "%RH", value: 40 + (seq[i] % 30) },
        { name: "bat", unit: "V", value: 3.3 - (seq[i] % 10) / 100 },
      ];
      readings.push({ bytes: encodeReading(d.key, d.id, seq[i]++, records), receivedAtMs });
    }
  }
  const attestation = attestBatch(gateway.key, gateway.id, readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
  return sign(gateway, gatewayNonce++, { kind: "readingBatch", attestation, readings });
}

function sample(r: Run, height: number): void {
  r.store.db.pragma("wal_checkpoint(TRUNCATE)");
  const bytes = statSync(join(r.dir, "chain.sqlite")).size;
  const readings = r.store.indexes.readingCount();
  const values = (r.store.db.prepare("SELECT count(*) AS n FROM reading_values").get() as { n: number }).n;
  const free = r.store.db.pragma("freelist_count", { simple: true }) as number;
  const perReading = readings > r.lastReadings ? (bytes - r.lastBytes) / (readings - r.lastReadings) : 0;
  r.rows.push([height, `${(bytes / 1048576).toFixed(1)}`, free, readings, values, Math.round(perReading)]);
  r.lastBytes = bytes;
  r.lastReadings = readings;
}

const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * q) / 100))];

console.log(`bench:expiry — ${blocks} blocks of 1 s block time, ${devicesN} devices × ${perDevice} readings (3 SenML records each) per block; retention ${retentionS} s vs none`);
// Block 1: the owner's retention on one chain; an empty block on the other keeps heights and times equal.
clockMs += 1000;
await blockCycle(pruned.chain, gateway, clockMs, [sign(owner, 0, { kind: "setRetention", deviceId: null, seconds: retentionS })], false);
await blockCycle(kept.chain, gateway, clockMs, [], false);
const started = performance.now();
for (let b = 2; b <= blocks + 1; b++) {
  clockMs += 1000;
  const tx = readingBlock();
  for (const r of [kept, pruned]) {
    r.commitMs.push((await blockCycle(r.chain, gateway, clockMs, [tx], false)).commitMs);
    // In a node the slices run on later event-loop turns, off the commit; timed apart here.
    const t0 = performance.now();
    r.chain.expiry.drain();
    r.pruneMs.push(performance.now() - t0);
  }
  if ((b - 1) % sampleBlocks === 0) for (const r of [kept, pruned]) sample(r, b);
}
const header = ["height", "file MiB", "free pages", "readings", "value rows", "bytes/reading added"];
for (const r of [kept, pruned]) printTable(`${r.name === "kept" ? "no retention" : `retention ${retentionS} s`} (block commit p50 ${p(r.commitMs, 50).toFixed(1)} ms, p99 ${p(r.commitMs, 99).toFixed(1)} ms; expiry slices per block p50 ${p(r.pruneMs, 50).toFixed(1)} ms, p99 ${p(r.pruneMs, 99).toFixed(1)} ms)`, header, r.rows);
const ex = pruned.chain.expiry.stats;
console.log(`\nexpiry: ${ex.readingsPruned.toLocaleString("en-US")} readings pruned in ${ex.passes} passes, ${ex.blocksRewritten} block bodies rewritten, ${ex.pagesReclaimed} pages handed back, ${ex.failures} failures; ${((performance.now() - started) / 1000).toFixed(0)} s wall`);
for (const r of [kept, pruned]) {
  r.store.close();
  if (!process.env.BENCH_KEEP) rmSync(r.dir, { recursive: true, force: true });
}
