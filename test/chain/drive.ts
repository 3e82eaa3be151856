// Drives a chain the way consensus would, without the network: a round-robin proposer among the
// validators builds a block from candidate transaction bytes, and every validator of the set
// signs its certificate (the test knows all keys), so blocks replay through Chain.validate.
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx, TxError, type DecodedTx } from "../../shared/tx.ts";
import type { Chain, PendingBlock } from "../../gateway/chain/chain.ts";
import { commitMessage, encodeCertificate } from "../../gateway/chain/certificate.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { signEd25519 } from "../../shared/ed25519.ts";
import { decodeTxResult, readingOutcomeNames } from "../../gateway/chain/reading-outcome.ts";

export interface Outcome {
  pending: PendingBlock;
  /** Rejection code per input transaction (undefined when included), in input order. */
  codes: (string | undefined)[];
  /** Soft failure of an included transaction's body (its result), per input; null when it applied. */
  failures: (string | null | undefined)[];
  /** Each reading's outcome name (reading-outcome.ts) per input transaction; [] when not included. */
  outcomes: string[][];
}

export function certify(chain: Chain, signers: Map<string, Identity>, height: number, hash: Uint8Array): Uint8Array {
  const set = chain.validators(); // the set that executed this block is the set in force before commit
  const message = commitMessage(chain.chainId, height, 0, hash);
  const signatures = set.validators
    .map((v) => ({ validatorId: v.id, signature: signEd25519(signers.get(toHex(v.id))!.key, message) }))
    .sort((a, b) => Buffer.compare(a.validatorId, b.validatorId));
  return encodeCertificate({ height, round: 0, blockHash: hash, signatures });
}

/** Builds, certifies and commits one block from raw transaction bytes. */
export function buildAndCommit(chain: Chain, signers: Map<string, Identity>, txBytes: Uint8Array[], timeMs: number, beforeCommit?: () => void): Outcome {
  const codes: (string | undefined)[] = new Array(txBytes.length).fill(undefined);
  const decoded: { i: number; tx: DecodedTx }[] = [];
  txBytes.forEach((b, i) => {
    try {
      decoded.push({ i, tx: decodeTx(b) });
    } catch (e) {
      if (!(e instanceof TxError)) throw e;
      codes[i] = e.code;
    }
  });
  const set = chain.validators().validators;
  const proposer = set[(chain.head().height + 1) % set.length].id;
  const { pending, rejected } = chain.build({ timeMs, proposer, txs: decoded.map((d) => d.tx) });
  for (const r of rejected) codes[decoded.find((d) => d.tx === r.tx)!.i] = r.error.code;
  const certificate = certify(chain, signers, pending.block.header.height, pending.hash);
  beforeCommit?.();
  chain.commit(pending, certificate);
  const failures: (string | null | undefined)[] = new Array(txBytes.length).fill(undefined);
  const outcomes: string[][] = txBytes.map(() => []);
  pending.execution.txs.forEach((tx, k) => {
    const i = decoded.find((d) => d.tx === tx)!.i;
    const result = decodeTxResult(pending.execution.results[k]);
    failures[i] = result.failure;
    outcomes[i] = result.readings.map((o) => readingOutcomeNames[o]);
  });
  return { pending, codes, failures, outcomes };
}
