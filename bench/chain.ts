// npm run bench:chain — chain throughput (state + SQLite storage) for reading batches and for
// transfers, block commit latency, and how both move as the chain grows from empty to 1,000,000
// stored readings. Printed beside this machine's ceiling (Ed25519 verifications per second on one
// core), since a validator verifies one device signature per reading.
//
//   apply    = a block built from mempool-verified transactions (signatures cached): execution,
//              sparse Merkle update and the SQLite commit — the single-validator producer's path
//   validate = the same block re-executed with every signature verified, then committed — the path
//              of a validator receiving someone else's block
//   commit   = the SQLite transaction alone (block, state rows, tree nodes, indexes; fsync'd)
//
// A second table (bench/chain-contracts.ts): readings/s applied with 0, 1 and 10 contracts
// subscribed to every reading, and the contract VM's gas/s on one core.
//
// Options (env): BENCH_READINGS_MAX (default 1000000), BENCH_DIR (default a temp dir),
// BENCH_CONTRACTS=0 skips the contracts table.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attestBatch } from "../shared/attestation.ts";
import { publicKeyObject, toHex, verifyEd25519, signEd25519 } from "../shared/ed25519.ts";
import { readingDigest } from "../shared/reading.ts";
import { Worker } from "node:worker_threads";
import { decodeTx, signTx, txVersion, type DecodedTx, type TxBody } from "../shared/tx.ts";
import { Chain } from "../gateway/chain/chain.ts";
import type { Identity } from "../gateway/chain/keyfile.ts";
import { ChainStore } from "../gateway/storage/chain-store.ts";
import { contractBench, printContractRows } from "./chain-contracts.ts";
import { blockCycle, type BlockTiming } from "./block-cycle.ts";
import { contractVmReady } from "../gateway/contracts/binaryen.ts";
import { benchGenesis, benchIdentity } from "./bench-genesis.ts";

const readingsMax = Number(process.env.BENCH_READINGS_MAX ?? 1_000_000);
const checkpoints = [0, 250_000, 500_000, 1_000_000].filter((c) => c <= readingsMax);
const devicesN = 1000;
const usersN = 4000;
const batchReadings = 1024;
const batchesPerBlock = 4; // 4,096 readings per block
const transfersPerBlock = 2000;
const measuredBlocks = 12;

const identity = benchIdentity;
const log = (s: string): void => void process.stdout.write(s + "\n");

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function ed25519Ceiling(): number {
  const who = identity("bench/ceiling");
  const key = publicKeyObject(who.publicKey);
  const msg = new Uint8Array(100);
  const sig = signEd25519(who.key, msg);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 2000) {
    for (let i = 0; i < 500; i++) verifyEd25519(key, msg, sig);
    n += 500;
  }
  return n / ((performance.now() - start) / 1000);
}

// ---- workload ---------------------------------------------------------------------------------

const gateway = identity("bench/gateway");
const devices = Array.from({ length: devicesN }, (_, i) => identity(`bench/device/${i}`)); // same labels as the worker
const users = Array.from({ length: usersN }, (_, i) => identity(`bench/user/${i}`));
const owner = identity("bench/owner");
const contractDeployer = identity("bench/contracts");
const userNonce = new Uint32Array(usersN);
let gatewayNonce = 0;

// Device readings are signed by a worker on the other core, one block ahead of the chain.
type Signed = { bytes: Uint8Array; receivedAtMs: number }[];
// A worker does not inherit tsx's loader: it registers it, then imports the TypeScript module.
const workerUrl = new URL("./chain-readings.ts", import.meta.url).href;
const bootstrap = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); });`;
let signer!: Worker;
const signedQueue: ((r: Signed) => void)[] = [];
/** Started after the ceiling is measured, so the two do not share the cores. */
function startSigner(firstSequences: number[]): void {
  signer = new Worker(bootstrap, { eval: true, workerData: { devices: devicesN, firstSequences } });
  signer.on("message", (r: Signed) => signedQueue.shift()!(r));
}
const signReadings = (count: number, receivedAtMs: number): Promise<Signed> =>
  new Promise((resolve) => {
    signedQueue.push(resolve);
    signer.postMessage({ count, receivedAtMs });
  });
let prefetched: Promise<Signed> | undefined;
/** The next block's readings; while filling, the one after is already being signed meanwhile. */
async function nextReadings(receivedAtMs: number, prefetch: boolean): Promise<Signed> {
  const count = batchesPerBlock * batchReadings;
  const current = prefetched ?? signReadings(count, receivedAtMs);
  prefetched = prefetch ? signReadings(count, receivedAtMs + 1000) : undefined;
  return current;
}

const genesis = benchGenesis({
  chainId: "mote-bench",
  gateway,
  owner,
  devices,
  accounts: [...users.map((u) => ({ publicKey: toHex(u.publicKey), balance: "1000000000" })), { publicKey: toHex(contractDeployer.publicKey), balance: "1000000000000" }],
});

const sign = (who: Identity, nonce: number, body: TxBody): DecodedTx => decodeTx(signTx(who.key, genesis.chainId, { version: txVersion, author: who.publicKey, nonce, fee: BigInt(1 + (body.kind === "readingBatch" ? 0 : 0)), body }));

async function readingBlockTxs(timeMs: number, prefetch = true): Promise<DecodedTx[]> {
  const all = await nextReadings(timeMs - 100, prefetch);
  return Array.from({ length: batchesPerBlock }, (_, b) => {
    const readings = all.slice(b * batchReadings, (b + 1) * batchReadings);
    const attestation = attestBatch(gateway.key, gateway.id, readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
    return sign(gateway, gatewayNonce++, { kind: "readingBatch", attestation, readings });
  });
}

function transferBlockTxs(): DecodedTx[] {
  return Array.from({ length: transfersPerBlock }, (_, k) => {
    const from = (k * 2) % usersN;
    return sign(users[from], userNonce[from]++, { kind: "transfer", to: users[(from + 1 + k) % usersN].id, amount: 1n + BigInt(k % 7) });
  });
}

// ---- block cycle --------------------------------------------------------------------------------

let clockMs = genesis.genesisTimeMs;

/** One block: build with cached signatures; optionally re-validate with full verification; commit. */
function cycle(chain: Chain, txs: DecodedTx[], validate: boolean): Promise<BlockTiming> {
  clockMs += 1000;
  return blockCycle(chain, gateway, clockMs, txs, validate);
}

interface Row {
  stored: number;
  readingsApply: number;
  readingsValidate: number;
  readingCommitP50: number;
  readingCommitP99: number;
  transfersApply: number;
  transfersValidate: number;
  transferCommitP50: number;
  transferCommitP99: number;
}

async function measure(chain: Chain, stored: number): Promise<Row> {
  const r: BlockTiming[] = [];
  const t: BlockTiming[] = [];
  // All workload is generated before the clock runs, so the signing worker is idle while timing.
  const readingBlocks: DecodedTx[][] = [];
  for (let i = 0; i < measuredBlocks; i++) readingBlocks.push(await readingBlockTxs(clockMs + 1000 * (i + 1), false));
  for (const txs of readingBlocks) r.push(await cycle(chain, txs, true));
  const transferBlocks = Array.from({ length: measuredBlocks }, () => transferBlockTxs());
  for (const txs of transferBlocks) t.push(await cycle(chain, txs, true));
  const rate = (n: number, ms: number): number => (n * 1000) / ms;
  const sum = (xs: BlockTiming[], f: (x: BlockTiming) => number): number => xs.reduce((s, x) => s + f(x), 0);
  const readings = measuredBlocks * batchesPerBlock * batchReadings;
  const transfers = measuredBlocks * transfersPerBlock;
  return {
    stored,
    readingsApply: rate(readings, sum(r, (x) => x.applyMs + x.commitMs)),
    readingsValidate: rate(readings, sum(r, (x) => x.validateMs + x.commitMs)),
    readingCommitP50: percentile(r.map((x) => x.commitMs), 50),
    readingCommitP99: percentile(r.map((x) => x.commitMs), 99),
    transfersApply: rate(transfers, sum(t, (x) => x.applyMs + x.commitMs)),
    transfersValidate: rate(transfers, sum(t, (x) => x.validateMs + x.commitMs)),
    transferCommitP50: percentile(t.map((x) => x.commitMs), 50),
    transferCommitP99: percentile(t.map((x) => x.commitMs), 99),
  };
}

// ---- main ---------------------------------------------------------------------------------------

const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), "mote-bench-chain-"));
log(`bench:chain — ${devicesN} devices, ${usersN} accounts; reading blocks of ${batchesPerBlock}×${batchReadings} readings, transfer blocks of ${transfersPerBlock}`);
log(`database: ${join(dir, "chain.sqlite")} (WAL, synchronous=FULL)`);
const ceiling = ed25519Ceiling();
log(`ceiling: ${Math.round(ceiling).toLocaleString("en-US")} Ed25519 verifications/s on one core (node:crypto, cached keys)`);
const store = ChainStore.open(dir);
const chain = Chain.open(store, genesis);
// A BENCH_DIR that holds a chain already (a store built by an earlier run: 1 M readings take a
// quarter of an hour) is continued: clock, nonces and device sequences pick up from its head.
const resumed = chain.state();
clockMs = Math.max(clockMs, chain.head().header.timeMs);
gatewayNonce = resumed.account(gateway.id).nonce;
users.forEach((u, i) => (userNonce[i] = resumed.account(u.id).nonce));
startSigner(devices.map((d) => (resumed.device(d.id)?.readings ? resumed.device(d.id)!.lastSequence + 1 : 0)));
if (chain.head().height > 0) log(`continuing the chain in ${dir} at height ${chain.head().height}`);
const rows: Row[] = [];
const started = performance.now();
for (const checkpoint of checkpoints) {
  while (store.indexes.readingCount() < checkpoint) {
    await cycle(chain, await readingBlockTxs(clockMs + 1000), false);
    const n = store.indexes.readingCount();
    if (n % 65_536 < batchesPerBlock * batchReadings) log(`  filling: ${n.toLocaleString("en-US")} readings stored, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  log(`measuring at ${store.indexes.readingCount().toLocaleString("en-US")} stored readings...`);
  rows.push(await measure(chain, store.indexes.readingCount()));
}

const f0 = (x: number): string => Math.round(x).toLocaleString("en-US");
const f1 = (x: number): string => x.toFixed(1);
log("");
log("stored readings | reading batches: readings/s apply | validate | commit p50 / p99 ms | transfers: tx/s apply | validate | commit p50 / p99 ms");
log("--------------- | ---------------------------------- | -------- | ------------------- | --------------------- | -------- | -------------------");
for (const r of rows) {
  log(
    `${f0(r.stored).padStart(15)} | ${f0(r.readingsApply).padStart(34)} | ${f0(r.readingsValidate).padStart(8)} | ${`${f1(r.readingCommitP50)} / ${f1(r.readingCommitP99)}`.padStart(19)} | ${f0(r.transfersApply).padStart(21)} | ${f0(r.transfersValidate).padStart(8)} | ${`${f1(r.transferCommitP50)} / ${f1(r.transferCommitP99)}`.padStart(19)}`,
  );
}
const last = rows[rows.length - 1];
log("");
log(`ratios: reading validate ${f0(last.readingsValidate)}/s = ${((100 * last.readingsValidate) / ceiling).toFixed(0)}% of the one-core Ed25519 ceiling (1 device signature per reading); reading batch tx = ${batchReadings} readings`);
log(`reading-batch transactions/s = readings/s ÷ ${batchReadings}; every figure includes the SQLite commit. Total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
store.close();
if (process.env.BENCH_CONTRACTS !== "0") {
  log("");
  log("contracts: building the examples and measuring 0, 1 and 10 subscribed contracts...");
  await contractVmReady();
  printContractRows(await contractBench({ genesis, gateway, ownerId: owner.id, deployer: contractDeployer, signReadings, log }), log);
}
await signer.terminate();
if (!process.env.BENCH_DIR) rmSync(dir, { recursive: true, force: true });
