// One gateway's consensus side, still without I/O: the PBFT core, block sync, status exchange and
// the evidence pool behind one event interface that speaks p2p frames (gateway/p2p/envelope.ts).
// The simulator (test/consensus/sim/) and the TCP node (node.ts) drive this same object; they only
// deliver frames and timers and carry out the actions, in order.
import type { Logger } from "pino";
import { checkCertificate, type SignatureCheck } from "../../shared/consensus-certificate.ts";
import { decodeConsensusMessage } from "../../shared/consensus-messages.ts";
import { toHex, verifyEd25519 } from "../../shared/ed25519.ts";
import { decodeEnvelope, encodeEnvelope, syncBlocksPerResponseMax, type Envelope, type SyncedBlock } from "../p2p/envelope.ts";
import { syncDefaults, type SyncOptions } from "../sync/options.ts";
import { BlockSyncer } from "../sync/syncer.ts";
import type { ConsensusApp } from "./app.ts";
import { PbftCore, type CoreAction, type Signer, type TimerName } from "./core.ts";
import { EvidencePool, type ConsensusEvidence } from "./evidence.ts";
import { consensusDefaults, type ConsensusOptions } from "./options.ts";
import { ConsensusValidators } from "./validators.ts";
import { encodeWal, type WalRecord } from "./wal.ts";

export type ReplicaTimer = TimerName | "tick";

export type ReplicaAction =
  | { kind: "persist"; bytes: Uint8Array }
  | { kind: "broadcast"; bytes: Uint8Array }
  | { kind: "send"; to: string; bytes: Uint8Array }
  | { kind: "timer"; timer: ReplicaTimer; atMs: number; height: number; round: number }
  | { kind: "decided"; height: number; round: number; blockHash: Uint8Array; via: "consensus" | "sync" }
  | { kind: "evidence"; evidence: ConsensusEvidence };

export interface ReplicaConfig {
  app: ConsensusApp;
  signer: Signer | null;
  log: Logger;
  check?: SignatureCheck;
  consensus?: Partial<ConsensusOptions>;
  sync?: Partial<SyncOptions>;
  /** Status frames (our tip) go out this often; sync is polled on the same tick. */
  statusIntervalMs?: number;
  /** Evidence older than this many heights is dropped from the pool unproposed. */
  evidenceAgeMaxHeights?: number;
}

export class Replica {
  readonly core: PbftCore;
  readonly syncer: BlockSyncer;
  readonly evidence: EvidencePool;
  private readonly options: ConsensusOptions;
  private readonly syncOptions: SyncOptions;
  private readonly statusIntervalMs: number;
  private readonly check: SignatureCheck;
  private readonly statusSentMs = new Map<string, number>();
  private out: ReplicaAction[] = [];
  /** A peer answered that it pruned the next block this node needs (cleared once the tip passes it). */
  private prunedAhead: { height: number; peer: string } | undefined;
  private nowMs = 0;

  constructor(private readonly cfg: ReplicaConfig) {
    this.options = { ...consensusDefaults, ...cfg.consensus };
    this.syncOptions = { ...syncDefaults, ...cfg.sync };
    this.statusIntervalMs = cfg.statusIntervalMs ?? 1000;
    this.check = cfg.check ?? verifyEd25519;
    this.syncer = new BlockSyncer(this.syncOptions);
    this.evidence = new EvidencePool(this.options.evidencePoolMax);
    this.core = new PbftCore({ app: cfg.app, signer: cfg.signer, check: this.check, options: this.options, log: cfg.log, pendingEvidence: () => this.evidence.pending() });
  }

  start(nowMs: number, restored?: WalRecord): ReplicaAction[] {
    this.nowMs = nowMs;
    this.take(this.core.start(nowMs, restored));
    this.out.push({ kind: "timer", timer: "tick", atMs: nowMs, height: 0, round: 0 });
    return this.flush();
  }

  /** A frame from an authenticated peer. Bad frames are dropped and logged, never thrown. */
  receive(peer: string, frame: Uint8Array, nowMs: number): ReplicaAction[] {
    this.nowMs = nowMs;
    let e: Envelope;
    try {
      e = decodeEnvelope(frame, this.options.blockBytesMax + 65_536);
      if (e.kind === "consensus") this.take(this.core.receive(peer, decodeConsensusMessage(e.bytes, this.options.blockBytesMax), nowMs));
    } catch (err) {
      this.cfg.log.debug({ peer, code: (err as { code?: string }).code, err: (err as Error).message }, "frame dropped");
      return this.flush();
    }
    if (e.kind === "status") this.onStatus(peer, e.height, nowMs);
    else if (e.kind === "syncRequest") this.serve(peer, e.from, e.count);
    else if (e.kind === "syncResponse") this.apply(peer, e.blocks, nowMs);
    else if (e.kind === "syncPruned") this.onPruned(peer, e.height, nowMs);
    return this.flush();
  }

  timer(timer: ReplicaTimer, height: number, round: number, nowMs: number): ReplicaAction[] {
    this.nowMs = nowMs;
    if (timer !== "tick") {
      this.take(this.core.timer(timer, height, round, nowMs));
      return this.flush();
    }
    const tip = this.cfg.app.tip();
    this.out.push({ kind: "broadcast", bytes: encodeEnvelope({ kind: "status", height: tip.height, hash: tip.hash }) });
    this.pollSync(nowMs);
    this.out.push({ kind: "timer", timer: "tick", atMs: nowMs + this.statusIntervalMs, height: 0, round: 0 });
    return this.flush();
  }

  peerConnected(peer: string, nowMs: number): ReplicaAction[] {
    this.nowMs = nowMs;
    this.sendStatus(peer, nowMs, true);
    return this.flush();
  }

  peerDisconnected(peer: string): void {
    this.syncer.forget(peer);
    this.statusSentMs.delete(peer);
  }

  // ---- sync -----------------------------------------------------------------------------------

  private onStatus(peer: string, height: number, nowMs: number): void {
    this.syncer.notePeerTip(peer, height);
    this.pollSync(nowMs);
  }

  private pollSync(nowMs: number): void {
    const request = this.syncer.poll(this.cfg.app.tip().height, nowMs);
    if (request) this.out.push({ kind: "send", to: request.peer, bytes: encodeEnvelope({ kind: "syncRequest", from: request.from, count: request.count }) });
  }

  private serve(peer: string, from: number, count: number): void {
    const blocks: SyncedBlock[] = [];
    let bytes = 0;
    const last = Math.min(from + Math.min(count, syncBlocksPerResponseMax) - 1, this.cfg.app.tip().height);
    if (from <= last && this.cfg.app.pruned?.(Math.max(1, from))) {
      this.out.push({ kind: "send", to: peer, bytes: encodeEnvelope({ kind: "syncPruned", height: Math.max(1, from) }) });
      return;
    }
    for (let h = Math.max(1, from); h <= last; h++) {
      const c = this.cfg.app.committed(h);
      if (!c || (blocks.length > 0 && bytes + c.block.length > this.syncOptions.responseBytesMax)) break;
      blocks.push(c);
      bytes += c.block.length;
    }
    this.out.push({ kind: "send", to: peer, bytes: encodeEnvelope({ kind: "syncResponse", blocks }) });
  }

  /**
   * Behind the pruning horizon: the block this node needs next is gone at `peer`. Once per height,
   * one log line says what to do; `behindRetention` feeds /v1/health (SYNC_BEHIND_RETENTION).
   */
  private onPruned(peer: string, height: number, nowMs: number): void {
    if (!this.syncer.answered(peer, 0, nowMs)) return; // unasked: ignore (and a 0-block answer backs the peer off)
    if (height !== this.cfg.app.tip().height + 1) return;
    if (this.prunedAhead?.height !== height) {
      this.cfg.log.warn({ peer, height, code: "SYNC_BEHIND_RETENTION" }, `peers pruned block ${height}, the next this node needs: it cannot sync from here; stop it and run \`mote gateway join --from <a peer's API> --genesis <file> --data-dir <dir> --replace\` (docs/expiry.md)`);
    }
    this.prunedAhead = { height, peer };
  }

  /** The block this node needs next, when a peer said it pruned it; undefined otherwise. */
  get behindRetention(): { height: number; peer: string } | undefined {
    if (this.prunedAhead && this.cfg.app.tip().height >= this.prunedAhead.height) this.prunedAhead = undefined;
    return this.prunedAhead;
  }

  /** Verifies each block's commit certificate against the validators of its height, then commits. */
  private apply(peer: string, blocks: SyncedBlock[], nowMs: number): void {
    if (!this.syncer.answered(peer, blocks.length, nowMs)) return; // unasked: ignore
    const app = this.cfg.app;
    let applied = 0;
    for (const { block, certificate } of blocks) {
      const height = app.tip().height + 1;
      if (certificate.height < height) continue;
      if (certificate.height > height) break;
      const hash = app.blockHash(block);
      const validators = new ConsensusValidators(app.validatorsFor(height));
      const problem = hash ? checkCertificate(certificate, "commit", app.chainId, validators, { height, blockHash: hash }, this.check) : "SYNC_NOT_A_BLOCK";
      if (problem) {
        this.cfg.log.warn({ peer, height, code: problem }, "synced block refused; peer backed off");
        this.syncer.backoff(peer, nowMs);
        break;
      }
      app.commit(block, certificate);
      applied++;
      this.cfg.log.info({ height, block: toHex(hash!), peer }, "finalized by sync");
      this.out.push({ kind: "decided", height, round: certificate.round, blockHash: hash!, via: "sync" });
    }
    if (applied > 0) this.take(this.core.resync(nowMs));
    this.pollSync(nowMs);
  }

  private sendStatus(peer: string, nowMs: number, force = false): void {
    const last = this.statusSentMs.get(peer);
    if (!force && last !== undefined && nowMs - last < this.statusIntervalMs / 2) return;
    if (!this.statusSentMs.has(peer) && this.statusSentMs.size >= this.syncOptions.peersMax) this.statusSentMs.clear();
    this.statusSentMs.set(peer, nowMs);
    const tip = this.cfg.app.tip();
    this.out.push({ kind: "send", to: peer, bytes: encodeEnvelope({ kind: "status", height: tip.height, hash: tip.hash }) });
  }

  // ---- core actions ---------------------------------------------------------------------------

  private take(actions: CoreAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case "persist":
          this.out.push({ kind: "persist", bytes: encodeWal(a.record) });
          break;
        case "broadcast":
          this.out.push({ kind: "broadcast", bytes: encodeEnvelope({ kind: "consensus", bytes: a.bytes }) });
          break;
        case "timer":
          this.out.push(a);
          break;
        case "decided": {
          const age = this.cfg.evidenceAgeMaxHeights ?? 1000;
          this.evidence.remove((e) => e.height + age < a.height || this.cfg.app.evidenceSettled?.(e) === true);
          this.out.push({ ...a, via: "consensus" });
          break;
        }
        case "needBlock":
          this.syncer.want(a.height);
          this.pollSync(this.nowMs);
          break;
        case "evidence":
          if (this.evidence.add(a.evidence)) this.out.push(a);
          break;
        case "peerBehind":
          this.sendStatus(a.peer, this.nowMs); // it will ask us for the blocks it lacks
          break;
        case "peerAhead":
          this.syncer.notePeerTip(a.peer, a.height - 1);
          break;
      }
    }
  }

  private flush(): ReplicaAction[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
