// An in-memory chain for the simulator's bulk runs, faithful to what consensus relies on in the
// real chain core: blocks hash-linked by header hash, a state root that is a deterministic
// function of the previous root and the block, validation that refuses a wrong link, proposer,
// time or state root, evidence that goes on chain and jails its validator, and a validator set
// re-elected from the state at every epoch boundary (sometimes bringing in the spare node).
//
//   block = cbor([height, prevHash, proposer, timeMs, [tx...], [evidence...], stateRoot, validatorsHash, nextValidatorsHash | null])
//
// The committed blocks live on a SimDisk that survives the node's simulated crashes; everything else
// is rebuilt from it on restart, as the real node rebuilds from SQLite.
import { decode, encode } from "../../../shared/cbor.ts";
import type { Certificate } from "../../../shared/consensus-messages.ts";
import { sha256, toHex } from "../../../shared/ed25519.ts";
import type { BlockRef, ProposeArgs, Verdict } from "../../../gateway/consensus/app.ts";
import { accusedId, encodeEvidence, verifyEvidence, decodeEvidence } from "../../../gateway/consensus/evidence.ts";
import type { ValidatorInfo, ValidatorSetInfo } from "../../../gateway/consensus/validators.ts";
import { Prng } from "./prng.ts";
import type { AppHandle, SimAppLike } from "./node.ts";

/** A SimApp whose disk survives the node's crashes. */
export function simAppHandle(genesis: SimGenesis, txSeed: number, clockSkewMs: number, onCommit: (height: number, hash: Uint8Array, root: Uint8Array) => void): AppHandle {
  const disk = new SimDisk();
  const app = new SimApp(genesis, disk, txSeed);
  app.clockSkewMs = clockSkewMs;
  app.onCommit = onCommit;
  return { app, open: () => app.reopen(), close: () => undefined };
}

export interface SimGenesis {
  chainId: string;
  candidates: ValidatorInfo[];
  /** Validators per epoch (the rest follow as observers until elected). */
  setSize: number;
  epochBlocks: number;
  blockIntervalMs: number;
}

export class SimDisk {
  readonly blocks: { block: Uint8Array; certificate: Certificate }[] = [];
}

export interface SimBlock {
  height: number;
  prevHash: Uint8Array;
  proposer: Uint8Array;
  timeMs: number;
  txs: number[];
  evidence: Uint8Array[];
  stateRoot: Uint8Array;
  validatorsHash: Uint8Array;
  nextValidatorsHash: Uint8Array | null;
}

export function encodeSimBlock(b: SimBlock): Uint8Array {
  return encode([b.height, b.prevHash, b.proposer, b.timeMs, b.txs, b.evidence, b.stateRoot, b.validatorsHash, b.nextValidatorsHash]);
}

export function decodeSimBlock(bytes: Uint8Array): SimBlock | undefined {
  try {
    const v = decode(bytes, { depthMax: 3, itemsMax: 1024, bytesMax: 4096 });
    if (!Array.isArray(v) || v.length !== 9) return undefined;
    const [height, prevHash, proposer, timeMs, txs, evidence, stateRoot, validatorsHash, next] = v;
    if (typeof height !== "number" || typeof timeMs !== "number" || !(prevHash instanceof Uint8Array) || !(proposer instanceof Uint8Array)) return undefined;
    if (!Array.isArray(txs) || !txs.every((t) => typeof t === "number") || !Array.isArray(evidence) || !evidence.every((e) => e instanceof Uint8Array)) return undefined;
    if (!(stateRoot instanceof Uint8Array) || !(validatorsHash instanceof Uint8Array) || !(next === null || next instanceof Uint8Array)) return undefined;
    return { height, prevHash, proposer, timeMs, txs: txs as number[], evidence: evidence as Uint8Array[], stateRoot, validatorsHash, nextValidatorsHash: next };
  } catch {
    return undefined;
  }
}

export function validatorSetHash(s: ValidatorSetInfo): Uint8Array {
  return sha256(encode([s.epoch, s.validators.map((v) => v.publicKey)]));
}

const genesisHash = (chainId: string) => sha256(encode(["sim-genesis", chainId]));

interface ChainState {
  tip: BlockRef;
  timeMs: number;
  stateRoot: Uint8Array;
  set: ValidatorSetInfo;
  jailed: Set<string>;
}

export class SimApp implements SimAppLike {
  readonly chainId: string;
  private s!: ChainState;
  private readonly txPrng: Prng;
  /** Told of every block this node commits (the simulator's safety checker listens). */
  onCommit: ((height: number, hash: Uint8Array, stateRoot: Uint8Array) => void) | undefined;
  /** State root after each height, as this node computed it (index 0: genesis). */
  private roots: Uint8Array[] = [];
  /** Clock skew of this node, so header-time checks see disagreeing clocks. */
  clockSkewMs = 0;

  constructor(
    readonly genesis: SimGenesis,
    readonly disk: SimDisk,
    txSeed: number,
  ) {
    this.chainId = genesis.chainId;
    this.txPrng = new Prng(txSeed);
    this.reopen();
  }

  /** Rebuilds the state from the disk, as a restart does. */
  reopen(): void {
    const g = this.genesis;
    this.s = { tip: { height: 0, hash: genesisHash(g.chainId) }, timeMs: 0, stateRoot: sha256(encode(["sim-state", g.chainId])), set: { epoch: 0, validators: g.candidates.slice(0, g.setSize) }, jailed: new Set() };
    this.roots = [this.s.stateRoot];
    for (const { block } of this.disk.blocks) this.apply(decodeSimBlock(block)!, block);
  }

  tip(): BlockRef {
    return this.s.tip;
  }
  stateRootAt(height: number): Uint8Array {
    return this.roots[height];
  }
  validatorsFor(height: number): ValidatorSetInfo {
    if (height !== this.s.tip.height + 1) throw new Error(`sim app knows the validators of height ${this.s.tip.height + 1} only, asked ${height}`);
    return this.s.set;
  }
  blockIntervalMs(): number {
    return this.genesis.blockIntervalMs;
  }

  propose(args: ProposeArgs): { block: Uint8Array; hash: Uint8Array } {
    const txs = Array.from({ length: this.txPrng.int(0, 4) }, () => this.txPrng.next());
    const evidence = args.evidence.filter((e) => this.evidenceUsable(e)).slice(0, 8).map(encodeEvidence);
    const block = this.build(args.height, args.proposer, Math.max(this.s.timeMs, args.timeMs + this.clockSkewMs), txs, evidence);
    return { block, hash: sha256(block) };
  }

  /** A block that is well formed and signed-for but whose state root is wrong (Byzantine proposers). */
  proposeInvalid(args: ProposeArgs): { block: Uint8Array; hash: Uint8Array } {
    const b = decodeSimBlock(this.propose(args).block)!;
    const block = encodeSimBlock({ ...b, stateRoot: sha256(b.stateRoot) });
    return { block, hash: sha256(block) };
  }

  blockHash(block: Uint8Array): Uint8Array | undefined {
    return decodeSimBlock(block) ? sha256(block) : undefined;
  }

  validate(block: Uint8Array, args: { height: number; proposer: Uint8Array | null; nowMs: number }): Verdict {
    const b = decodeSimBlock(block);
    if (!b) return { ok: false, code: "BLOCK_MALFORMED", message: "not a block" };
    if (args.proposer ? Buffer.compare(b.proposer, args.proposer) !== 0 : !this.s.set.validators.some((v) => Buffer.compare(v.id, b.proposer) === 0)) {
      return { ok: false, code: "BLOCK_PROPOSER", message: "proposer is not the round's" };
    }
    if (b.timeMs > args.nowMs + this.clockSkewMs + 5_000) return { ok: false, code: "BLOCK_TIME", message: "block time too far ahead" };
    const expected = this.expected(b);
    if (Buffer.compare(expected, block) !== 0) return { ok: false, code: "BLOCK_STATE", message: "header does not follow from the state" };
    return { ok: true };
  }

  commit(block: Uint8Array, certificate: Certificate): void {
    const b = decodeSimBlock(block);
    if (!b || Buffer.compare(this.expected(b), block) !== 0) throw new Error(`sim app: committing block ${certificate.height} that does not follow the state (non-determinism?)`);
    this.disk.blocks.push({ block, certificate });
    this.apply(b, block);
    this.onCommit?.(b.height, this.s.tip.hash, this.s.stateRoot);
  }

  committed(height: number): { block: Uint8Array; certificate: Certificate } | undefined {
    return this.disk.blocks[height - 1];
  }

  // ---- state transition -----------------------------------------------------------------------

  private evidenceUsable(e: ReturnType<typeof decodeEvidence>): boolean {
    return verifyEvidence(e, this.chainId) && !this.s.jailed.has(toHex(accusedId(e)));
  }

  /** The block the state machine would produce from b's choices (proposer, time, txs, evidence). */
  private expected(b: SimBlock): Uint8Array {
    if (b.height !== this.s.tip.height + 1 || Buffer.compare(b.prevHash, this.s.tip.hash) !== 0 || b.timeMs < this.s.timeMs) return new Uint8Array();
    for (const e of b.evidence) {
      try {
        if (!this.evidenceUsable(decodeEvidence(e))) return new Uint8Array();
      } catch {
        return new Uint8Array();
      }
    }
    return this.build(b.height, b.proposer, b.timeMs, b.txs, b.evidence);
  }

  private build(height: number, proposer: Uint8Array, timeMs: number, txs: number[], evidence: Uint8Array[]): Uint8Array {
    const stateRoot = sha256(encode([this.s.stateRoot, height, txs, evidence]));
    const next = height % this.genesis.epochBlocks === 0 ? validatorSetHash(this.elect(stateRoot, evidence, height)) : null;
    return encodeSimBlock({ height, prevHash: this.s.tip.hash, proposer, timeMs, txs, evidence, stateRoot, validatorsHash: validatorSetHash(this.s.set), nextValidatorsHash: next });
  }

  /** DPoS stand-in: rank unjailed candidates by a hash of the state root, take setSize. */
  private elect(stateRoot: Uint8Array, evidence: Uint8Array[], height: number): ValidatorSetInfo {
    const jailed = new Set(this.s.jailed);
    for (const e of evidence) jailed.add(toHex(accusedId(decodeEvidence(e))));
    const free = this.genesis.candidates.filter((c) => !jailed.has(toHex(c.id)));
    const ranked = free.map((c) => ({ c, rank: toHex(sha256(encode([stateRoot, c.id]))) })).sort((x, y) => (x.rank < y.rank ? -1 : 1));
    return { epoch: height / this.genesis.epochBlocks, validators: ranked.slice(0, this.genesis.setSize).map((x) => x.c) };
  }

  private apply(b: SimBlock, block: Uint8Array): void {
    const jailedBefore = this.s.jailed;
    for (const e of b.evidence) jailedBefore.add(toHex(accusedId(decodeEvidence(e))));
    const set = b.nextValidatorsHash ? this.elect(b.stateRoot, [], b.height) : this.s.set;
    // The root is recomputed from this node's own state, not copied from the header.
    const stateRoot = sha256(encode([this.s.stateRoot, b.height, b.txs, b.evidence]));
    this.s = { tip: { height: b.height, hash: sha256(block) }, timeMs: b.timeMs, stateRoot, set, jailed: jailedBefore };
    this.roots.push(stateRoot);
  }
}
