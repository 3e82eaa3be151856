// npx tsx bench/chain-cpu.ts — CPU time per reading of the validator's path for reading blocks:
// gossip admission of each batch with its device signatures already verified (the thread pool's
// share, which is the Ed25519 ceiling's: decode, look-ups, the attestation, the mempool's checks),
// Chain.validate (checks, sequence window, device logs, state and tree writes), then
// ChainStore.commitBlock (SQLite, fsync'd). Measured with
// process.cpuUsage() (user + system of this process), so the figures hold on a loaded machine
// where wall-clock rates (bench:chain) do not.
//
// Options (env): CPU_BLOCKS (measured blocks, default 8), CPU_FILL (readings stored before
// measuring, default 0), BENCH_DIR (continue a store built earlier, as bench:chain does).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../shared/ed25519.ts";
import { decodeReading, readingDigest, verifyReading } from "../shared/reading.ts";
import { verifiedReadings } from "../shared/verified-readings.ts";
import type { DecodedTx } from "../shared/tx.ts";
import { Chain } from "../gateway/chain/chain.ts";
import { encodeCertificate, signSoloCertificate } from "../gateway/chain/certificate.ts";
import { ChainStore } from "../gateway/storage/chain-store.ts";
import { Mempool } from "../gateway/chain/mempool.ts";
import { OrderedAdmission } from "../gateway/consensus/reading-preverify.ts";
import { cpuUs } from "./table.ts";
import { blockReadings, devices, devicesN, gateway, genesis, readingBlocks } from "./reading-blocks.ts";

const measuredBlocks = Number(process.env.CPU_BLOCKS ?? 8);
const fill = Number(process.env.CPU_FILL ?? 0);
const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), "mote-chain-cpu-"));
const store = ChainStore.open(dir);
const chain = Chain.open(store, genesis);
let clockMs = Math.max(genesis.genesisTimeMs, chain.head().header.timeMs);
const blockTxs = readingBlocks(chain);
const mempool = new Mempool(chain, { txsMax: 64, bytesMax: 64 << 20 });
const deviceKeys = new Map(devices.map((d) => [toHex(d.id), d]));

/**
 * What the thread pool does when a batch is gossiped (reading-preverify.ts), untimed: each device
 * signature verified and remembered. Decoded here without the process's decoded-readings cache, so
 * admission below still meets each reading for the first time, as a validator does.
 */
function verifyOnPoolsBehalf(txs: DecodedTx[]): void {
  for (const tx of txs) {
    if (tx.body.kind !== "readingBatch") continue;
    for (const { bytes } of tx.body.readings) {
      const reading = decodeReading(bytes);
      const device = deviceKeys.get(toHex(reading.deviceId))!;
      if (!verifyReading(reading, chain.keys.get(device.publicKey))) throw new Error("workload reading does not verify");
      verifiedReadings.add(readingDigest(bytes), device.publicKey);
    }
  }
}

/**
 * Admits the block's batches as gossip would (their bytes, in order), builds the block from the
 * mempool as its proposer, validates it as a validator (signatures cached), commits it.
 */
async function cycle(txs: DecodedTx[]): Promise<{ admitUs: number; validateUs: number; commitUs: number }> {
  clockMs += 1000;
  verifyOnPoolsBehalf(txs);
  const a0 = process.cpuUsage();
  const admission = new OrderedAdmission(chain, mempool);
  const admitted = await Promise.all(txs.map((tx) => admission.admit(tx.bytes)));
  const admitUs = cpuUs(a0);
  if (!admitted.every(Boolean)) throw new Error("workload refused by the mempool");
  const taken = mempool.take(txs.length);
  const { pending } = chain.build({ timeMs: clockMs, proposer: gateway.id, txs: taken });
  if (pending.execution.txs.length !== txs.length) throw new Error(`workload rejected: ${pending.execution.rejected.map((r) => r.error.code).join(",")}`);
  const v0 = process.cpuUsage();
  const validated = chain.validate(pending.block);
  const validateUs = cpuUs(v0);
  const cert = encodeCertificate(signSoloCertificate(gateway.key, gateway.id, chain.chainId, validated.block.header.height, validated.hash));
  const c0 = process.cpuUsage();
  chain.commit(validated, cert);
  const commitUs = cpuUs(c0);
  mempool.onCommit(validated.execution.txs);
  return { admitUs, validateUs, commitUs };
}

while (store.indexes.readingCount() < fill) {
  await cycle(blockTxs(clockMs + 900));
  const n = store.indexes.readingCount();
  if (n % 65_536 < blockReadings) process.stdout.write(`  filling: ${n.toLocaleString("en-US")} readings stored\n`);
}
const stored = store.indexes.readingCount();
const blocks: DecodedTx[][] = [];
for (let i = 0; i < measuredBlocks + 1; i++) blocks.push(blockTxs(clockMs + 1000 * (i + 1) - 100));
await cycle(blocks.shift()!); // warm-up: JIT and statement caches
let admitUs = 0;
let validateUs = 0;
let commitUs = 0;
for (const txs of blocks) {
  const r = await cycle(txs);
  admitUs += r.admitUs;
  validateUs += r.validateUs;
  commitUs += r.commitUs;
}
const n = measuredBlocks * blockReadings;
const f = (us: number): string => (us / n).toFixed(1).padStart(6);
process.stdout.write(`chain-cpu: ${stored.toLocaleString("en-US")} readings stored; ${measuredBlocks} blocks of ${blockReadings} readings, ${devicesN} devices\n`);
process.stdout.write(`CPU us/reading: admit ${f(admitUs)} | validate ${f(validateUs)} | commit ${f(commitUs)} | total ${f(admitUs + validateUs + commitUs)}\n`);
// The same workload gives the same chain on every build: compare this line across versions.
process.stdout.write(`head: height ${chain.head().height}, hash ${toHex(chain.head().hash)}, state root ${toHex(chain.head().header.stateRoot)}\n`);
store.close();
if (!process.env.BENCH_DIR) rmSync(dir, { recursive: true, force: true });
