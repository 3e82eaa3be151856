// npm run bench:sql — SQL over the index at 1,000,000 stored readings: a point query, a device
// range, aggregates and a verified range, through the API (HTTP POST /v1/sql on loopback: guard,
// runner process, JSON) beside the same reads on the raw SQLite file (better-sqlite3, prepared
// statements on the tables, in this process): the raw figures are this machine's ceiling.
//
// The store is built once (1,000 devices, blocks of 4,096 readings signed on a worker, as
// bench:chain does) and reused from BENCH_SQL_DIR (default <tmp>/mote-bench-sql) on later runs.
// Options (env): BENCH_READINGS (default 1000000), BENCH_SQL_DIR, BENCH_ROUNDS (default 200).
import Database from "better-sqlite3";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { attestBatch } from "../shared/attestation.ts";
import { toHex } from "../shared/ed25519.ts";
import { readingDigest } from "../shared/reading.ts";
import { decodeTx, signTx, txVersion, type DecodedTx, type TxBody } from "../shared/tx.ts";
import { createApiServer, SoloConsensusSource } from "../gateway/api/index.ts";
import { encodeCertificate, signSoloCertificate } from "../gateway/chain/certificate.ts";
import { Chain } from "../gateway/chain/chain.ts";
import { benchGenesis, benchIdentity } from "./bench-genesis.ts";
import { Mempool } from "../gateway/chain/mempool.ts";
import { ChainStore } from "../gateway/storage/chain-store.ts";
import { sqlDefaults } from "../gateway/sql/options.ts";
import { printTable } from "./table.ts";

const readingsWanted = Number(process.env.BENCH_READINGS ?? 1_000_000);
const dir = process.env.BENCH_SQL_DIR ?? join(tmpdir(), "mote-bench-sql");
const rounds = Number(process.env.BENCH_ROUNDS ?? 200);
const devicesN = 1000;
const batchReadings = 1024;
const batchesPerBlock = 4;
const log = (s: string): void => void process.stdout.write(s + "\n");

const identity = benchIdentity;
const gateway = identity("bench/gateway");
const devices = Array.from({ length: devicesN }, (_, i) => identity(`bench/device/${i}`)); // bench/chain-readings.ts signs as these
const owner = identity("bench/owner");
const genesis = benchGenesis({ chainId: "mote-bench-sql", gateway, owner, devices });

// ---- the store: built once, then reused --------------------------------------------------------

async function fill(chain: Chain): Promise<void> {
  const workerUrl = new URL("./chain-readings.ts", import.meta.url).href;
  const signer = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); });`, { eval: true, workerData: { devices: devicesN } });
  const waiting: ((r: { bytes: Uint8Array; receivedAtMs: number }[]) => void)[] = [];
  signer.on("message", (r) => waiting.shift()!(r));
  const sign = (count: number, receivedAtMs: number) => new Promise<{ bytes: Uint8Array; receivedAtMs: number }[]>((resolve) => (waiting.push(resolve), signer.postMessage({ count, receivedAtMs })));
  let nonce = Number(chain.state().account(gateway.id).nonce);
  let clockMs = chain.head().header.timeMs;
  const perBlock = batchesPerBlock * batchReadings;
  const started = performance.now();
  // The worker's sequence counters start at 0: a reused, partly filled store is not resumed.
  if (chain.store.indexes.readingCount() > 0) throw new Error(`${dir} holds a partly built store: remove it (or set BENCH_SQL_DIR) and run again`);
  let next = sign(perBlock, clockMs + 500);
  chain.signaturesVerified = () => true;
  for (let stored = 0; stored < readingsWanted; stored += perBlock) {
    const all = await next;
    clockMs += 1000;
    if (stored + perBlock < readingsWanted) next = sign(perBlock, clockMs + 500);
    const txs: DecodedTx[] = Array.from({ length: batchesPerBlock }, (_, b) => {
      const readings = all.slice(b * batchReadings, (b + 1) * batchReadings);
      const attestation = attestBatch(gateway.key, gateway.id, readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
      const body: TxBody = { kind: "readingBatch", attestation, readings };
      return decodeTx(signTx(gateway.key, genesis.chainId, { version: txVersion, author: gateway.publicKey, nonce: nonce++, fee: 1n, body }));
    });
    const { pending } = chain.build({ timeMs: clockMs, proposer: gateway.id, txs });
    chain.commit(pending, encodeCertificate(signSoloCertificate(gateway.key, gateway.id, chain.chainId, pending.block.header.height, pending.hash)));
    if ((stored / perBlock) % 16 === 15) log(`  filling: ${(stored + perBlock).toLocaleString("en-US")} readings stored, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  await signer.terminate();
}

// ---- measuring -----------------------------------------------------------------------------------

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function timed(n: number, fn: (i: number) => unknown): Promise<{ p50: number; p99: number; rows: number }> {
  await fn(-1); // warm up
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = (await fn(i)) as { rows?: unknown[] } | unknown[];
    ms.push(performance.now() - t0);
    rows = Array.isArray(r) ? r.length : (r.rows?.length ?? 0);
  }
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), rows };
}

interface Case {
  name: string;
  view: string;
  raw: string;
  params: (i: number) => unknown[];
  verify?: { ranges: (i: number) => { device: string; from: number; to: number }[] };
  rounds: number;
}

const dev = (i: number) => devices[(i * 7919 + 13) % devicesN].id;
const perDevice = () => Math.floor(readingsWanted / devicesN);
const seqAt = (i: number, span: number) => ((i * 104_729) % Math.max(1, perDevice() - span)) >>> 0;

const cases: Case[] = [
  {
    name: "point: one reading by device and seq",
    view: "SELECT device, seq, received_ms, height, value, unit FROM readings WHERE device = ? AND seq = ?",
    raw: "SELECT r.device, r.seq, r.received_ms, r.height, v.value, v.unit FROM readings r LEFT JOIN reading_values v ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos AND v.rec = 0 WHERE r.device = ? AND r.seq = ?",
    params: (i) => [dev(i), seqAt(i, 1)],
    rounds,
  },
  {
    name: "device range: 100 readings by seq",
    view: "SELECT seq, received_ms, value FROM readings WHERE device = ? AND seq BETWEEN ? AND ? ORDER BY seq",
    raw: "SELECT r.seq, r.received_ms, v.value FROM readings r LEFT JOIN reading_values v ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos AND v.rec = 0 WHERE r.device = ? AND r.seq BETWEEN ? AND ? ORDER BY r.seq",
    params: (i) => [dev(i), seqAt(i, 100), seqAt(i, 100) + 99],
    rounds,
  },
  {
    name: "aggregate: one device's count/avg/min/max",
    view: "SELECT count(*), avg(value), min(value), max(value) FROM readings WHERE device = ?",
    raw: "SELECT count(*), avg(v.value), min(v.value), max(v.value) FROM readings r LEFT JOIN reading_values v ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos AND v.rec = 0 WHERE r.device = ?",
    params: (i) => [dev(i)],
    rounds,
  },
  {
    name: "aggregate: all readings, avg value per 100 blocks",
    view: "SELECT height / 100 AS bucket, count(*), avg(value) FROM readings GROUP BY bucket",
    raw: "SELECT r.height / 100 AS bucket, count(*), avg(v.value) FROM readings r LEFT JOIN reading_values v ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos AND v.rec = 0 GROUP BY bucket",
    params: () => [],
    rounds: 5,
  },
];

async function main(): Promise<void> {
  log(`bench:sql — ${readingsWanted.toLocaleString("en-US")} readings from ${devicesN} devices; store ${dir}`);
  mkdirSync(dir, { recursive: true });
  const fresh = !existsSync(join(dir, "chain.sqlite"));
  const store = ChainStore.open(dir);
  const chain = Chain.open(store, genesis);
  const stored = store.indexes.readingCount();
  if (stored < readingsWanted) {
    log(`building the store (${fresh ? "new" : `${stored} readings found`}); about 1 M readings in several minutes on this machine...`);
    await fill(chain);
  } else log(`reusing ${stored.toLocaleString("en-US")} stored readings at height ${chain.head().height}`);
  log(`${store.indexes.readingCount().toLocaleString("en-US")} readings, head ${chain.head().height}`);

  const api = await createApiServer({ chain, mempool: new Mempool(chain), consensus: new SoloConsensusSource(chain, gateway.id) });
  const { url } = await api.listen({ host: "127.0.0.1", port: 0 });
  // The raw aggregate blocks this process for seconds; a keep-alive socket the server closed meanwhile
  // can reset the next request: that one is sent again on a fresh connection.
  const send = async (body: object): Promise<Response> => {
    const init = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    return fetch(`${url}/v1/sql`, init).catch(() => fetch(`${url}/v1/sql`, { ...init, headers: { ...init.headers, connection: "close" } }));
  };
  const post = async (body: object) => {
    const res = await send(body);
    const json = (await res.json()) as { rows: unknown[]; error?: { code: string; message: string } };
    if (!res.ok) throw new Error(`${res.status} ${json.error?.code}: ${json.error?.message}`);
    return json;
  };
  const raw = new Database(store.path, { readonly: true });
  const wire = (params: unknown[]) => params.map((p) => (p instanceof Uint8Array ? { hex: toHex(p) } : p));
  const rawParams = (params: unknown[]) => params.map((p) => (p instanceof Uint8Array ? Buffer.from(p) : p));

  const rows: (string | number)[][] = [];
  const overhead = await timed(rounds, () => post({ sql: "SELECT 1" }));
  rows.push(["round trip: SELECT 1", overhead.p50, overhead.p99, "-", "-", 1]);
  for (const c of cases) {
    // A statement past the API's time limit is stopped there (SQL_TIMEOUT): shown as such, not as a figure.
    let timeouts = 0;
    const viaApi = await timed(c.rounds, (i) =>
      post({ sql: c.view, params: wire(c.params(Math.max(0, i))) }).catch((e: Error) => {
        if (!e.message.includes("SQL_TIMEOUT")) throw e;
        timeouts++;
        return { rows: [] };
      }),
    );
    const stmt = raw.prepare(c.raw);
    const viaRaw = await timed(c.rounds, (i) => stmt.all(...rawParams(c.params(Math.max(0, i)))));
    if (timeouts === 0 && viaApi.rows !== viaRaw.rows) throw new Error(`${c.name}: ${viaApi.rows} rows via the API, ${viaRaw.rows} raw`);
    const limit = `> ${sqlDefaults.timeMs} (SQL_TIMEOUT ${timeouts}/${c.rounds + 1})`;
    rows.push([c.name, timeouts > 0 ? limit : viaApi.p50, timeouts > 0 ? "-" : viaApi.p99, viaRaw.p50, viaRaw.p99, viaRaw.rows]);
  }
  // A verified range: proofs for 100 rows and the completeness of their sequence range (about 2,100 log leaves).
  const vq = "SELECT device, seq, received_ms, value FROM readings WHERE device = ? AND seq BETWEEN ? AND ? ORDER BY seq";
  let proofBytes = 0;
  const verified = await timed(Math.min(rounds, 50), async (i) => {
    const k = Math.max(0, i);
    const [d, from] = [dev(k), seqAt(k, 100)];
    const a = await send({ sql: vq, params: [{ hex: toHex(d) }, from, from + 99], verify: true, ranges: [{ device: toHex(d), from, to: from + 99 }] });
    const text = await a.text();
    proofBytes = text.length;
    return JSON.parse(text);
  });
  rows.push(["device range, verify + completeness proof", verified.p50, verified.p99, "-", "-", verified.rows]);

  printTable(`SQL latency at ${store.indexes.readingCount().toLocaleString("en-US")} stored readings (ms; API = HTTP POST /v1/sql on loopback; raw = better-sqlite3 on the file, the ceiling)`, ["query", "API p50", "API p99", "raw p50", "raw p99", "rows"], rows);
  log(`\nverified answer: ${(proofBytes / 1024).toFixed(0)} KiB of JSON for 100 rows with a completeness proof`);
  raw.close();
  await api.close();
  store.close();
}

await main();
