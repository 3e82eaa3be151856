// Proposals' readings, verified off the consensus thread before the replica sees the proposal.
// A validator that was not among the proposers a batch was gossiped to (gossip goes to the next few
// proposers: gateway/p2p/gossip.ts) meets its readings first in a proposal, and app.validate used to
// verify them there, synchronously, with every vote waiting behind it (at 7 validators, most of them
// for most batches). Here such a proposal's unverified readings are verified on libuv's thread pool
// first (reading-preverify.ts), so block execution finds them in the process's verified set
// (shared/verified-readings.ts). The envelope and attestation signatures of transactions this process
// has not admitted are verified here too, synchronously (the thread pool's hand-off costs the main
// thread about a quarter of a verification: gateway/chain/verified-txs.ts), and remembered, so
// execution, a later round's proposal and the batch's late gossip find them there.
//
// Frames reach the replica in arrival order regardless: while a proposal waits for its readings,
// every later frame waits behind it (InOrderFrames). A delay is all the replica sees, as if the
// network had been slower; nothing is decided or voted on before the replica itself does so.
import type { Logger } from "pino";
import { decodeConsensusMessage } from "../../shared/consensus-messages.ts";
import { decodeTx } from "../../shared/tx.ts";
import { decodeBlock } from "../chain/block.ts";
import type { Chain } from "../chain/chain.ts";
import { decodeEnvelope } from "../p2p/envelope.ts";
import { verifyTxSignatures } from "../chain/verified-txs.ts";
import { batchReadings, verifyReadingsAsync, type UnverifiedReading } from "./reading-preverify.ts";

/**
 * The readings of a proposal frame that this process has not verified, verified on the thread
 * pool; undefined when there is nothing to wait for (not a proposal, undecodable — the replica
 * refuses it with its reason — or every reading verified already). `admitted`: whether this
 * node's mempool holds a transaction (by id), whose readings are then not looked at again: at 4
 * validators most of a proposal's batches came by gossip first, and looking each of their readings
 * up once more was about a twelfth of a validator's main thread (bench:net, saturated).
 */
export function preverifyProposal(chain: Chain, frame: Uint8Array, frameBytesMax: number, admitted: (txId: Uint8Array) => boolean = () => false): Promise<unknown> | undefined {
  let txs: Uint8Array[];
  try {
    const e = decodeEnvelope(frame, frameBytesMax);
    if (e.kind !== "consensus") return undefined;
    const m = decodeConsensusMessage(e.bytes, frameBytesMax);
    if (m.type !== "proposal") return undefined;
    txs = decodeBlock(m.block).txs;
  } catch {
    return undefined;
  }
  const unverified: UnverifiedReading[] = [];
  for (const bytes of txs) {
    try {
      const tx = decodeTx(bytes);
      // Admitted to the mempool: its envelope and attestation are in verified-txs.ts, and each of
      // its readings was verified then or could not be (device unknown or inactive, a bad
      // signature, received in the future), which execution settles alike: nothing to wait for.
      if (admitted(tx.id)) continue;
      unverified.push(...batchReadings(chain, tx).unverified);
      // Envelope and attestation of a transaction this process has not admitted (verified-txs.ts);
      // one that does not verify is refused by app.validate with its reason.
      verifyTxSignatures(chain.chainId, chain.keys, tx);
    } catch {
      // An undecodable transaction makes the block invalid: app.validate says so.
    }
  }
  return unverified.length > 0 ? verifyReadingsAsync(unverified) : undefined;
}

/** Frames delivered in arrival order, each after what it waits for; at most `queuedMax` waiting. */
export class InOrderFrames {
  private tail: Promise<void> | undefined;
  private queued = 0;

  constructor(
    readonly queuedMax: number,
    private readonly log: Logger,
  ) {}

  /** Delivers now when nothing waits, else after everything before it and after `wait`. */
  push(wait: Promise<unknown> | undefined, deliver: () => void): void {
    if (!wait && !this.tail) return deliver();
    if (this.queued >= this.queuedMax) {
      // Like a lost frame: peers resend their round's messages (options.ts resendIntervalMs).
      this.log.warn({ queued: this.queued }, "consensus frames waiting for pre-verification at their limit; frame dropped");
      return;
    }
    this.queued++;
    const before = this.tail;
    // Settled either way: a failed verification only means the block will be refused by validate.
    const waited = wait?.then(
      () => undefined,
      () => undefined,
    );
    const next = (async () => {
      await before;
      await waited;
      this.queued--;
      deliver();
    })();
    this.tail = next;
    void next.finally(() => {
      if (this.tail === next) this.tail = undefined;
    });
  }
}
