// A deterministic network of gateways for the custody tests (issue 9): each gateway has the real
// parts on files (chain.sqlite, ingest.sqlite pending store, outbox.sqlite), a real mempool, node
// signer, reading feed and ChainAdapter; the test decides who proposes, which gossip arrives,
// which proposal is abandoned and who crashes. Blocks are certified by every validator's key.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { attestBatch } from "../../shared/attestation.ts";
import { decodeCertificate } from "../../shared/consensus-messages.ts";
import { toHex } from "../../shared/ed25519.ts";
import { decodeReading, readingDigest } from "../../shared/reading.ts";
import { decodeTx } from "../../shared/tx.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { Mempool } from "../../gateway/chain/mempool.ts";
import { NodeSigner } from "../../gateway/chain/node-signer.ts";
import { ReadingFeed, readingFeedDefaults, type ReadingFeedOptions } from "../../gateway/chain/reading-feed.ts";
import { TxOutbox } from "../../gateway/chain/tx-outbox.ts";
import { ChainAdapter } from "../../gateway/consensus/chain-adapter.ts";
import type { ConsensusEvidence } from "../../gateway/consensus/evidence.ts";
import { intrinsicRejections, lostMarker, PendingStore } from "../../gateway/ingest/pending-store.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { certify } from "./drive.ts";
import type { Fixture } from "./fixture.ts";

const silent = pino({ level: "silent" });

export class GatewaySim {
  store!: ChainStore;
  chain!: Chain;
  mempool!: Mempool;
  pending!: PendingStore;
  outbox!: TxOutbox;
  signer!: NodeSigner;
  feed!: ReadingFeed;
  adapter!: ChainAdapter;
  up = false;
  /** Gossip waiting to reach this gateway's mempool. */
  inbox: Uint8Array[] = [];

  constructor(
    readonly net: CustodyNet,
    readonly index: number,
    readonly identity: Identity,
    readonly dir: string,
  ) {}

  open(): void {
    this.store = ChainStore.open(this.dir);
    this.chain = Chain.open(this.store, this.net.f.genesis);
    this.mempool = new Mempool(this.chain, this.net.mempoolOptions);
    this.pending = PendingStore.open(this.dir);
    this.outbox = TxOutbox.open(this.dir, this.identity, this.chain.chainId);
    this.signer = new NodeSigner(this.chain, this.mempool, this.outbox, (bytes) => this.net.gossip(this, bytes), silent, { regossipMs: 0 });
    this.feed = new ReadingFeed(this.chain, this.signer, this.pending, silent, { ...readingFeedDefaults, ...this.net.feedOptions });
    this.adapter = new ChainAdapter(this.chain, this.mempool, { signer: () => this.signer, onCommitted: (head, p) => this.feed.onCommitted(head, p) });
    this.feed.recover();
    this.up = true;
    this.inbox = [];
  }

  /** kill -9: nothing is closed cleanly, the mempool and gossip in flight are gone. */
  crash(): void {
    this.store.close();
    this.pending.close();
    this.outbox.close();
    this.up = false;
  }

  /** Acknowledges readings as ingest does: one group commit with this gateway's attestation. */
  ack(readings: Uint8Array[], receivedAtMs: number): void {
    const accepted = readings.map((cose) => {
      const r = decodeReading(cose);
      return { deviceId: r.deviceId, sequence: r.sequence, digest: readingDigest(cose), cose, receivedAtMs };
    });
    this.pending.commitBatch(accepted, attestBatch(this.identity.key, this.identity.id, accepted), []);
    for (const a of accepted) this.net.acked.push({ gateway: this.index, deviceId: a.deviceId, sequence: a.sequence, digest: a.digest });
  }

  /** One tick of the node: gossip received, own transactions offered again, readings batched. */
  tick(nowMs: number): void {
    for (const bytes of this.inbox.splice(0)) {
      this.net.witness(bytes);
      try {
        this.mempool.add(bytes, nowMs);
      } catch {
        // Refused (duplicate, gap, full): as a peer's mempool would.
      }
    }
    this.signer.offer(nowMs);
    this.feed.tick(nowMs);
  }
}

export interface Acked {
  gateway: number;
  deviceId: Uint8Array;
  sequence: number;
  digest: Uint8Array;
}

export class CustodyNet {
  readonly gateways: GatewaySim[];
  readonly acked: Acked[] = [];
  readonly root: string;
  timeMs: number;
  /** Gossip between these gateway pairs is dropped ("a>b"). */
  readonly cut = new Set<string>();
  /** Every transaction any node signed or relayed, by author/nonce: must be one id each. */
  private readonly byNonce = new Map<string, Set<string>>();
  private readonly signers: Map<string, Identity>;

  constructor(
    readonly f: Fixture,
    readonly feedOptions: Partial<ReadingFeedOptions> = {},
    readonly mempoolOptions: ConstructorParameters<typeof Mempool>[1] = {},
  ) {
    this.root = mkdtempSync(join(tmpdir(), "mote-custody-"));
    this.signers = new Map(f.gateways.map((g) => [toHex(g.id), g]));
    this.gateways = f.gateways.map((g, i) => new GatewaySim(this, i, g, join(this.root, `gw-${i}`)));
    for (const g of this.gateways) g.open();
    this.timeMs = f.genesis.genesisTimeMs + 1000;
  }

  gossip(from: GatewaySim, bytes: Uint8Array): void {
    this.witness(bytes);
    for (const g of this.gateways) if (g !== from && g.up && !this.cut.has(`${from.index}>${g.index}`)) g.inbox.push(bytes);
  }

  /** Records a transaction seen anywhere; two ids under one author and nonce break the rule. */
  witness(bytes: Uint8Array): void {
    const tx = decodeTx(bytes);
    const key = `${toHex(tx.authorId)}/${tx.nonce}`;
    const ids = this.byNonce.get(key) ?? new Set<string>();
    ids.add(toHex(tx.id));
    this.byNonce.set(key, ids);
  }

  nonceConflicts(): string[] {
    return [...this.byNonce].filter(([, ids]) => ids.size > 1).map(([k]) => k);
  }

  tickAll(): void {
    for (const g of this.gateways) if (g.up) g.tick(this.timeMs);
  }

  /**
   * One height: `proposer` proposes (with `evidence`), every gateway that is up validates; unless
   * `abandon`, all commit it with a certificate of every validator.
   */
  round(proposer: number, options: { evidence?: ConsensusEvidence[]; abandon?: boolean; noTick?: boolean } = {}): { txs: number } {
    this.timeMs += 1000;
    if (!options.noTick) this.tickAll();
    const p = this.gateways[proposer];
    const height = p.chain.head().height + 1;
    const { block, hash } = p.adapter.propose({ height, round: 0, proposer: p.identity.id, timeMs: this.timeMs, evidence: options.evidence ?? [] });
    const txs = p.adapter["decoded"](block)!.block.txs.length;
    if (options.abandon) return { txs: 0 };
    const certificate = decodeCertificate(certify(p.chain, this.signers, height, hash));
    for (const g of this.gateways) {
      if (!g.up) continue;
      if (g.chain.head().height !== height - 1) this.catchUp(g, height - 1);
      const verdict = g.adapter.validate(block, { height, proposer: p.identity.id, nowMs: this.timeMs });
      if (!verdict.ok) throw new Error(`gateway ${g.index} refuses block ${height}: ${verdict.code} ${verdict.message}`);
      g.adapter.commit(block, certificate);
    }
    return { txs };
  }

  /** Block sync for a gateway that was down: the blocks it missed, from the first gateway that has them. */
  catchUp(g: GatewaySim, toHeight: number): void {
    const source = this.gateways.find((x) => x.up && x !== g && x.chain.head().height >= toHeight)!;
    while (g.chain.head().height < toHeight) {
      const c = source.adapter.committed(g.chain.head().height + 1)!;
      g.adapter.commit(c.block, c.certificate);
    }
  }

  /** Rounds with rotating proposers until no gateway has anything pending or outstanding. */
  settle(maxRounds = 200): number {
    for (let r = 0; r < maxRounds; r++) {
      const busy = this.gateways.some((g) => g.up && (g.pending.pendingCount() > 0 || g.outbox.size > 0));
      if (!busy) return r;
      this.round((this.gateways[0].chain.head().height + 1) % this.gateways.length);
    }
    throw new Error(`not settled after ${maxRounds} rounds: pending ${this.gateways.map((g) => g.pending.pendingCount()).join(",")}, outbox ${this.gateways.map((g) => g.outbox.size).join(",")}`);
  }

  /**
   * The custody invariant: every acknowledged reading is on every gateway's chain exactly once
   * (or was refused for a reason intrinsic to it), and no pending row is left, lost, or rejected
   * for a reason that is not intrinsic.
   */
  custodyViolations(intrinsicOk: (a: Acked) => boolean = () => false): string[] {
    const out: string[] = [];
    for (const g of this.gateways) {
      for (const a of this.acked) {
        const row = g.store.indexes.reading(a.deviceId, a.sequence);
        const onChain = row !== undefined && Buffer.compare(row.digest, a.digest) === 0;
        if (!onChain && !intrinsicOk(a)) out.push(`gateway ${g.index}: ${toHex(a.deviceId).slice(0, 8)}/${a.sequence} not on chain`);
      }
      for (const r of g.pending.allReadings()) {
        if (r.includedHeight === null && r.rejected === null) out.push(`gateway ${g.index}: row ${r.id} still pending`);
        if (r.rejected?.startsWith(lostMarker)) out.push(`gateway ${g.index}: row ${r.id} lost: ${r.rejected}`);
        if (r.rejected !== null && !intrinsicRejections.has(r.rejected.split(":")[0])) out.push(`gateway ${g.index}: row ${r.id} rejected for ${r.rejected}`);
      }
    }
    return out;
  }

  close(): void {
    for (const g of this.gateways) if (g.up) g.crash();
    rmSync(this.root, { recursive: true, force: true });
  }
}
