// One timed block for bench:chain and its contracts table (bench/chain-contracts.ts).
import type { DecodedTx } from "../shared/tx.ts";
import { encodeCertificate, signSoloCertificate } from "../gateway/chain/certificate.ts";
import type { Chain, PendingBlock } from "../gateway/chain/chain.ts";
import type { Identity } from "../gateway/chain/keyfile.ts";

export interface BlockTiming {
  /** Building the block from transactions whose signatures are cached (the producer's path). */
  applyMs: number;
  /** Re-executing it with every signature verified (a validator's path); 0 unless asked. */
  validateMs: number;
  /** The SQLite commit alone. */
  commitMs: number;
  gasUsed: number;
}

/**
 * One block at `timeMs`: build with cached signatures, refuse it unless every transaction was
 * included, `check` the built block, optionally re-validate it with full verification, commit it
 * under the proposer's solo certificate.
 */
export function blockCycle(chain: Chain, proposer: Identity, timeMs: number, txs: DecodedTx[], validate: boolean, check?: (pending: PendingBlock) => void): BlockTiming {
  chain.signaturesVerified = () => true;
  const t0 = performance.now();
  let { pending } = chain.build({ timeMs, proposer: proposer.id, txs });
  const applyMs = performance.now() - t0;
  if (pending.execution.txs.length !== txs.length) throw new Error(`bench workload rejected: ${pending.execution.txs.length}/${txs.length} (${pending.execution.rejected.map((r) => r.error.code).join(",")})`);
  check?.(pending);
  let validateMs = 0;
  if (validate) {
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
