// One simulated gateway: the real Replica (gateway/consensus/replica.ts) over a SimApp, a WAL and
// a chain "disk" that survive crashes, and timers in virtual time. A crash drops everything
// volatile (the replica, its timers); a restart rebuilds from the disk and the WAL, as a real
// process does from SQLite and consensus.wal. A Byzantine behaviour, when set, rewrites what the
// node sends.
import { pino } from "pino";
import { Replica, type ReplicaAction } from "../../../gateway/consensus/replica.ts";
import { decodeWal, MemoryWalStore } from "../../../gateway/consensus/wal.ts";
import type { ConsensusOptions } from "../../../gateway/consensus/options.ts";
import type { SyncOptions } from "../../../gateway/sync/options.ts";
import type { SignatureCheck } from "../../../shared/consensus-certificate.ts";
import { toHex } from "../../../shared/ed25519.ts";
import type { ConsensusApp, ProposeArgs } from "../../../gateway/consensus/app.ts";
import type { EventQueue } from "./events.ts";
import type { SimIdentity } from "./keys.ts";

export interface Outbox {
  broadcast(from: SimNode, bytes: Uint8Array): void;
  send(from: SimNode, to: string, bytes: Uint8Array): void;
}

export interface NodeObserver {
  decided(node: SimNode, height: number, hash: Uint8Array, stateRoot: Uint8Array): void;
  evidence(node: SimNode): void;
}

/** Rewrites a Byzantine node's outgoing frames; returns true when it handled the action itself. */
export interface Behaviour {
  readonly kind: string;
  outgoing(node: SimNode, action: Extract<ReplicaAction, { kind: "broadcast" | "send" }>): boolean;
}

/** What a simulated node runs on: the in-memory SimApp, or the real chain over SQLite (chain-app.ts). */
export interface SimAppLike extends ConsensusApp {
  /** A well-formed block with a wrong state root (for Byzantine proposers). */
  proposeInvalid(args: ProposeArgs): { block: Uint8Array; hash: Uint8Array };
}

export interface AppHandle {
  readonly app: SimAppLike;
  /** (Re)opens from durable storage: the chain as the last commit left it. */
  open(): void;
  /** The process dies: whatever is not durable is gone. */
  close(): void;
}

export interface SimNodeConfig {
  index: number;
  identity: SimIdentity;
  /** Builds this node's app; `onCommit` must be called at every commit with the node's own state root. */
  makeApp: (onCommit: (height: number, hash: Uint8Array, stateRoot: Uint8Array) => void) => AppHandle;
  queue: EventQueue;
  outbox: Outbox;
  observer: NodeObserver;
  check: SignatureCheck;
  consensus: Partial<ConsensusOptions>;
  sync: Partial<SyncOptions>;
  statusIntervalMs: number;
}

// SIM_LOG=debug npx tsx test/consensus/sim/cli.ts --seed … prints every node's consensus log.
const simLogLevel = process.env.SIM_LOG ?? "silent";

export class SimNode {
  readonly id: string;
  readonly wal = new MemoryWalStore();
  readonly handle: AppHandle;
  replica: Replica | undefined;
  behaviour: Behaviour | undefined;
  /** Bumped on crash: timers armed by an earlier incarnation never fire. */
  private incarnation = 0;
  private readonly timerGeneration = new Map<string, number>();
  /** When set, the next action list stops after its persist and the node crashes (torn step). */
  crashAfterPersist = false;
  crashes = 0;

  constructor(readonly cfg: SimNodeConfig) {
    this.id = toHex(cfg.identity.id);
    // Judged at the commit itself: a crash later in the same step must not hide a decision.
    this.handle = cfg.makeApp((height, hash, root) => cfg.observer.decided(this, height, hash, root));
  }

  get app(): SimAppLike {
    return this.handle.app;
  }

  get up(): boolean {
    return this.replica !== undefined;
  }

  start(): void {
    if (this.replica) return;
    this.handle.open();
    const c = this.cfg;
    const log = pino({ level: simLogLevel, base: { node: c.index }, timestamp: () => `,"t":${c.queue.nowMs}` }, pino.destination(2));
    this.replica = new Replica({ app: this.app, signer: c.identity, log, check: c.check, consensus: c.consensus, sync: c.sync, statusIntervalMs: c.statusIntervalMs });
    const saved = this.wal.load();
    this.run(this.replica.start(c.queue.nowMs, saved ? decodeWal(saved, c.consensus.blockBytesMax ?? 8 << 20) : undefined));
  }

  crash(): void {
    if (!this.replica) return;
    this.replica = undefined;
    this.handle.close();
    this.incarnation++;
    this.crashes++;
  }

  receive(from: string, bytes: Uint8Array): void {
    if (this.replica) this.run(this.replica.receive(from, bytes, this.cfg.queue.nowMs));
  }

  run(actions: ReplicaAction[]): void {
    for (const a of actions) {
      if (!this.replica) return; // crashed mid-list
      switch (a.kind) {
        case "persist":
          this.wal.save(a.bytes);
          if (this.crashAfterPersist) {
            this.crashAfterPersist = false;
            this.crash();
            return;
          }
          break;
        case "broadcast":
        case "send":
          if (this.behaviour?.outgoing(this, a)) break;
          if (a.kind === "broadcast") this.cfg.outbox.broadcast(this, a.bytes);
          else this.cfg.outbox.send(this, a.to, a.bytes);
          break;
        case "timer":
          this.arm(a.timer, a.atMs, a.height, a.round);
          break;
        case "evidence":
          this.cfg.observer.evidence(this);
          break;
      }
    }
  }

  /** One pending timer per name: arming again replaces it (the older event finds a newer generation). */
  private arm(timer: "propose" | "round" | "resend" | "tick", atMs: number, height: number, round: number): void {
    const generation = (this.timerGeneration.get(timer) ?? 0) + 1;
    this.timerGeneration.set(timer, generation);
    const incarnation = this.incarnation;
    this.cfg.queue.at(atMs, () => {
      if (incarnation !== this.incarnation || this.timerGeneration.get(timer) !== generation || !this.replica) return;
      this.run(this.replica.timer(timer, height, round, this.cfg.queue.nowMs));
    });
  }
}
