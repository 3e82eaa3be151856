// The simulator on the real chain: each node runs gateway/chain over its own SQLite file through
// the ChainAdapter consensus uses in production. A crash closes the database without ceremony and a
// restart reopens the same file (Chain.open runs its recovery), so restarts go through the real
// storage. Slower than the in-memory SimApp, so a subset of schedules runs here.
//
// Transactions: every node's account sends transfers, and the spare node stakes enough mid-run to
// be elected at the next epoch boundary: the validator set changes through the real DPoS rule.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../../../shared/ed25519.ts";
import { signTx, txVersion, type TxBody } from "../../../shared/tx.ts";
import { decodeBlock, encodeBlock, headerHash } from "../../../gateway/chain/block.ts";
import { Chain } from "../../../gateway/chain/chain.ts";
import { TxRejected } from "../../../gateway/chain/errors.ts";
import type { GenesisFile } from "../../../gateway/chain/genesis.ts";
import type { Identity } from "../../../gateway/chain/keyfile.ts";
import { Mempool } from "../../../gateway/chain/mempool.ts";
import { NodeSigner } from "../../../gateway/chain/node-signer.ts";
import { TxOutbox } from "../../../gateway/chain/tx-outbox.ts";
import { pino } from "pino";
import { smtRoot } from "../../../gateway/chain/smt.ts";
import { ChainStore } from "../../../gateway/storage/chain-store.ts";
import { ChainAdapter } from "../../../gateway/consensus/chain-adapter.ts";
import { sha256 } from "../../../shared/ed25519.ts";
import type { ProposeArgs } from "../../../gateway/consensus/app.ts";
import type { SimIdentity } from "./keys.ts";
import type { AppHandle, SimAppLike } from "./node.ts";

export function simChainGenesis(chainId: string, identities: SimIdentity[], setSize: number, epochBlocks: number): GenesisFile {
  return {
    version: 1,
    chainId,
    genesisTimeMs: 0, // virtual time starts at 0; block times are virtual ms
    params: { epochBlocks, validatorsMax: setSize, blockIntervalMs: 50, txFee: 1, blockReward: 10 },
    rewardPool: "100000000",
    // The first setSize nodes outrank the spare; each votes for itself with its whole stake.
    accounts: identities.map((x, i) => ({ publicKey: toHex(x.publicKey), balance: "10000000", stake: String(i < setSize ? 100_000 - i : 50_000), votes: [toHex(x.id)] })),
    candidates: identities.map((x) => ({ publicKey: toHex(x.publicKey), endpoint: "sim" })),
  };
}

export class RealChainNode implements AppHandle {
  private store: ChainStore | undefined;
  private outbox: TxOutbox | undefined;
  chain: Chain | undefined;
  /** The validator set in force after each height (0: genesis), as this node's chain reported it. */
  readonly sets = new Map<number, ReturnType<Chain["validators"]>>();
  private adapter: ChainAdapter | undefined;
  private mempool: Mempool | undefined;

  constructor(
    readonly dir: string,
    readonly genesis: GenesisFile,
    private readonly onCommit: (height: number, hash: Uint8Array, root: Uint8Array) => void,
    /** When set, the node's proposals carry its pooled evidence as transactions it signs. */
    private readonly identity?: Identity,
  ) {}

  get app(): SimAppLike {
    const adapter = this.adapter!;
    return Object.assign(adapter, {
      proposeInvalid: (args: ProposeArgs) => {
        const block = decodeBlock(adapter.propose(args).block);
        block.header = { ...block.header, stateRoot: sha256(block.header.stateRoot) };
        return { block: encodeBlock(block), hash: headerHash(block.header) };
      },
    });
  }

  open(): void {
    if (this.store) return;
    // NORMAL: survives a killed process (what a simulated crash is), not a power cut; FULL would fsync per block.
    this.store = ChainStore.open(this.dir, { synchronous: "NORMAL", nodeCacheMax: 10_000, stateCacheMax: 10_000, pageCacheKiB: 2048 });
    const chain = (this.chain = Chain.open(this.store, this.genesis));
    if (chain.head().height === 0) this.sets.set(0, chain.validators());
    this.mempool = new Mempool(chain);
    // The root the checker compares is read back from this node's own stored tree.
    const mempool = this.mempool;
    const signer = this.identity && new NodeSigner(chain, mempool, (this.outbox = TxOutbox.open(this.dir, this.identity, chain.chainId)), () => {}, pino({ level: "silent" }));
    this.adapter = new ChainAdapter(chain, mempool, {
      signer: () => signer,
      onCommitted: (head) => {
        this.sets.set(head.height, chain.validators());
        this.onCommit(head.height, head.hash, smtRoot(this.store!));
      },
    });
  }

  close(): void {
    this.outbox?.close();
    this.outbox = undefined;
    this.store?.close();
    this.store = undefined;
    this.chain = undefined;
    this.adapter = undefined;
    this.mempool = undefined;
  }

  /** Gossip stand-in: the transaction lands in this node's mempool (refusals are normal). */
  submit(bytes: Uint8Array, nowMs: number): void {
    try {
      this.mempool?.add(bytes, nowMs);
    } catch (e) {
      if (!(e instanceof TxRejected)) throw e;
    }
  }
}

/** Per-schedule factory; `cleanup` removes the databases. */
export function realChainFactory(root: string, chainId: string, setSize: number, epochBlocks: number, o: { evidence?: boolean } = {}) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const nodes: RealChainNode[] = [];
  let genesis: GenesisFile | undefined;
  return {
    nodes,
    makeApp(i: number, identities: SimIdentity[], onCommit: (height: number, hash: Uint8Array, root: Uint8Array) => void): AppHandle {
      genesis ??= simChainGenesis(chainId, identities, setSize, epochBlocks);
      const me = identities[i];
      const identity = o.evidence ? { seed: me.seed, publicKey: me.publicKey, id: me.id, key: me.privateKey } : undefined;
      const node = new RealChainNode(join(root, `node-${i}`), genesis, onCommit, identity);
      nodes[i] = node;
      return node;
    },
    cleanup(): void {
      for (const n of nodes) n?.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Signed transactions for the run: transfers, and the spare's stake that gets it elected. */
export class TxSource {
  private readonly nonces = new Map<string, number>();
  constructor(
    private readonly chainId: string,
    private readonly identities: SimIdentity[],
  ) {}

  make(author: number, body: TxBody): Uint8Array {
    const who = this.identities[author];
    const key = toHex(who.id);
    const nonce = this.nonces.get(key) ?? 0;
    this.nonces.set(key, nonce + 1);
    return signTx(who.privateKey, this.chainId, { version: txVersion, author: who.publicKey, nonce, fee: 1n, body });
  }
}
