// npm run bench:chain-pages — where a reading block's commit writes: SQLite pages written to the
// WAL per table and index (each dirtied page is one WAL frame), the pages read from the file, and
// the commit's CPU time, for blocks of bench:chain-cpu's workload (4,096 readings, 1,000 devices).
// Automatic checkpoints are off while measuring so the WAL holds exactly one block's frames; the
// checkpoint is then run and timed on its own.
//
// Options (env): PAGES_BLOCKS (default 4), PAGES_CHECKPOINT_EVERY (checkpoint after every Nth block,
// default 1: the WAL then holds N blocks, and a page dirtied by several of them is copied back once), BENCH_DIR (a store built by bench:chain-cpu or
// bench:chain; default a new empty one), PAGES_CACHE_KIB (page cache, default the store's).
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Chain } from "../gateway/chain/chain.ts";
import { encodeCertificate, signSoloCertificate } from "../gateway/chain/certificate.ts";
import { ChainStore } from "../gateway/storage/chain-store.ts";
import { cpuUs } from "./table.ts";
import { blockReadings, gateway, genesis, readingBlocks } from "./reading-blocks.ts";

// The first block is a warm-up: at least one more is measured.
const blocksN = Math.max(2, Number(process.env.PAGES_BLOCKS ?? 4));
const checkpointEvery = Number(process.env.PAGES_CHECKPOINT_EVERY ?? 1);
const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), "mote-chain-pages-"));
const store = ChainStore.open(dir, process.env.PAGES_CACHE_KIB ? { pageCacheKiB: Number(process.env.PAGES_CACHE_KIB) } : {});
const chain = Chain.open(store, genesis);
let clockMs = Math.max(genesis.genesisTimeMs, chain.head().header.timeMs);
const blockTxs = readingBlocks(chain);

/** Bytes this process read through read/pread (the OS cache included): SQLite's page reads. */
const readBytes = (): number => Number(/rchar: (\d+)/.exec(readFileSync("/proc/self/io", "utf8"))![1]);

const db = store.db;
db.pragma("wal_autocheckpoint = 0");
db.pragma("wal_checkpoint(TRUNCATE)");
const pageSize = db.pragma("page_size", { simple: true }) as number;
const walPath = `${store.path}-wal`;

/** Page number → table or index name (SQLite's dbstat: every page of the file). */
function pageOwners(): Map<number, string> {
  const m = new Map<number, string>();
  for (const r of db.prepare<[], { name: string; pageno: number }>("SELECT name, pageno FROM dbstat").iterate()) m.set(r.pageno, r.name);
  return m;
}

/** Frames in the WAL by page: one block's pages written (autocheckpoint off). */
function walPages(): number[] {
  const wal = readFileSync(walPath);
  const pages: number[] = [];
  for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) pages.push(wal.readUInt32BE(off));
  return pages;
}

chain.signaturesVerified = () => true;
const pending = blockTxs(clockMs + 900);
process.stdout.write(`chain-pages: ${store.indexes.readingCount().toLocaleString("en-US")} readings stored, file ${(statSync(store.path).size / 2 ** 20).toFixed(0)} MiB, page ${pageSize} B, cache ${-(db.pragma("cache_size", { simple: true }) as number)} KiB\n`);
let txs = pending;
const totals = new Map<string, number>();
let commitUsSum = 0;
let checkpointUsSum = 0;
let readSum = 0;
let framesSum = 0;
let framesInWal = 0;
for (let b = 0; b < blocksN; b++) {
  clockMs += 1000;
  const { pending: p } = chain.build({ timeMs: clockMs, proposer: gateway.id, txs });
  const validated = chain.validate(p.block);
  const cert = encodeCertificate(signSoloCertificate(gateway.key, gateway.id, chain.chainId, validated.block.header.height, validated.hash));
  const r0 = readBytes();
  const c0 = process.cpuUsage();
  chain.commit(validated, cert);
  const commitUs = cpuUs(c0);
  const read = readBytes() - r0;
  const frames = walPages().slice(framesInWal);
  const owners = pageOwners();
  const perTree = new Map<string, number>();
  for (const pg of new Set(frames)) perTree.set(owners.get(pg) ?? "(free/new)", (perTree.get(owners.get(pg) ?? "(free/new)") ?? 0) + 1);
  const k0 = process.cpuUsage();
  framesInWal += frames.length;
  if ((b + 1) % checkpointEvery === 0) {
    db.pragma("wal_checkpoint(TRUNCATE)");
    framesInWal = 0;
  }
  const checkpointUs = cpuUs(k0);
  if (b > 0) {
    commitUsSum += commitUs;
    checkpointUsSum += checkpointUs;
    readSum += read;
    framesSum += frames.length;
    for (const [k, v] of perTree) totals.set(k, (totals.get(k) ?? 0) + v);
  }
  process.stdout.write(`  block ${validated.block.header.height}: ${frames.length} frames, commit ${(commitUs / 1000).toFixed(0)} ms CPU, read ${(read / 2 ** 20).toFixed(1)} MiB, checkpoint ${(checkpointUs / 1000).toFixed(0)} ms CPU\n`);
  txs = blockTxs(clockMs + 900);
}
const n = blocksN - 1;
process.stdout.write(`per block (mean of ${n} after a warm-up): ${(framesSum / n).toFixed(0)} pages written, read ${(readSum / n / 2 ** 20).toFixed(1)} MiB; CPU us/reading commit ${(commitUsSum / n / blockReadings).toFixed(1)}, checkpoint ${(checkpointUsSum / n / blockReadings).toFixed(1)}\n`);
for (const [k, v] of [...totals].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${k.padEnd(28)} ${(v / n).toFixed(0).padStart(6)} pages\n`);
store.close();
if (!process.env.BENCH_DIR) rmSync(dir, { recursive: true, force: true });
