// One timed block for bench:chain and its contracts table (bench/chain-contracts.ts).
import { decodedReadings } from "../shared/decoded-readings.ts";
import type { DecodedTx } from "../shared/tx.ts";
import { verifiedReadings } from "../shared/verified-readings.ts";
import { verifiedTxs } from "../gateway/chain/verified-txs.ts";
import { batchReadings, verifyReadingsAsync } from "../gateway/consensus/reading-preverify.ts";
import { encodeCertificate, signSoloCertificate } from "../gateway/chain/certificate.ts";
import type { Chain, PendingBlock } from "../gateway/chain/chain.ts";
import type { Identity } from "../gateway/chain/keyfile.ts";

export interface BlockTiming {
  /** Building the block from transactions admitted earlier, their signatures verified then (the producer's path). */
  applyMs: number;
  /** Re-executing it in a process that has verified and decoded none of it (a validator's path); 0 unless asked. */
  validateMs: number;
  /** The SQLite commit alone. */
  commitMs: number;
  gasUsed: number;
}

/**
 * One block at `timeMs`: its readings verified first, untimed, on the thread pool as admission does
 * (gateway/consensus/reading-preverify.ts: a device signature is verified once per process, so block
 * execution finds it done); build it, refuse it unless every transaction was included, `check` the
 * built block, optionally re-validate it with the process's caches emptied (every signature verified
 * and every reading decoded again), commit it under the proposer's solo certificate.
 */
export async function blockCycle(chain: Chain, proposer: Identity, timeMs: number, txs: DecodedTx[], validate: boolean, check?: (pending: PendingBlock) => void): Promise<BlockTiming> {
  for (const tx of txs) await verifyReadingsAsync(batchReadings(chain, tx).unverified);
  chain.signaturesVerified = () => true; // envelopes and attestations: checked at admission
  const t0 = performance.now();
  let { pending } = chain.build({ timeMs, proposer: proposer.id, txs });
  const applyMs = performance.now() - t0;
  if (pending.execution.txs.length !== txs.length) throw new Error(`bench workload rejected: ${pending.execution.txs.length}/${txs.length} (${pending.execution.rejected.map((r) => r.error.code).join(",")})`);
  check?.(pending);
  let validateMs = 0;
  if (validate) {
    verifiedReadings.clear();
    verifiedTxs.clear();
    decodedReadings.clear();
    chain.signaturesVerified = () => false;
    const v0 = performance.now();
    pending = chain.validate(pending.block);
    validateMs = performance.now() - v0;
  }
  const cert = encodeCertificate(signSoloCertificate(proposer.key, proposer.id, chain.chainId, pending.block.header.height, pending.hash));
  const c0 = performance.now();
  chain.commit(pending, cert);
  return { applyMs, validateMs, commitMs: performance.now() - c0, gasUsed: pending.execution.gasUsed };
}
