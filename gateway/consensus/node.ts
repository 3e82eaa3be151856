// A gateway's consensus side as a running service: the Replica over the real chain (ChainAdapter),
// the TCP mesh (gateway/p2p/network.ts), the consensus WAL file, timers, transaction gossip and,
// when ingest is wired, the reading feed. This file is the only one with I/O; it delivers frames
// and timers to the replica and carries out its actions in order (persist before sending).
//
//   const node = await startConsensusNode({ dataDir, identity, chain, mempool, listen: { host, port },
//                                          peers: [{ host, port }], log, readings: ingest.store });
//   node.submitTx(bytes);   // API transactions: admitted here, gossiped to the next proposers
//   await node.close();
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import { signEd25519, toHex } from "../../shared/ed25519.ts";
import type { DecodedTx } from "../../shared/tx.ts";
import type { Chain, ChainHead, PendingBlock } from "../chain/chain.ts";
import type { Identity } from "../chain/keyfile.ts";
import type { Mempool } from "../chain/mempool.ts";
import { NodeSigner } from "../chain/node-signer.ts";
import { OrderedAdmission } from "./reading-preverify.ts";
import { MisbehaviourReporter, reporterDefaults, type MisbehaviourSource, type ReporterOptions } from "../chain/misbehaviour-reporter.ts";
import { ReadingFeed, readingFeedDefaults, type PendingReadingSource, type ReadingFeedOptions } from "../chain/reading-feed.ts";
import { TxOutbox } from "../chain/tx-outbox.ts";
import { decodeEnvelope, encodeEnvelope, envelopeKind } from "../p2p/envelope.ts";
import { TxGossip } from "../p2p/gossip.ts";
import { feedCommitMarginMs, feedFlushDue, nextFeedFlushAt } from "./feed-timing.ts";
import { verifyRemembered } from "../../shared/verified-signatures.ts";
import { P2pNetwork, type PeerAddress } from "../p2p/network.ts";
import type { P2pOptions } from "../p2p/options.ts";
import type { SyncOptions } from "../sync/options.ts";
import { ChainAdapter } from "./chain-adapter.ts";
import { ConsensusError } from "./errors.ts";
import { consensusDefaults, type ConsensusOptions } from "./options.ts";
import { InOrderFrames, preverifyProposal } from "./proposal-preverify.ts";
import { Replica, type ReplicaAction, type ReplicaTimer } from "./replica.ts";
import { decodeWal } from "./wal.ts";
import { FileWalStore } from "./wal-file.ts";
import { ProposalSizer } from "./proposal-sizer.ts";

export interface ConsensusNodeConfig {
  /** The gateway's data directory: consensus.wal is written here (chain.sqlite is the chain's). */
  dataDir: string;
  /** The gateway's validator key (gateway/chain/keyfile.ts). */
  identity: Identity;
  chain: Chain;
  mempool: Mempool;
  listen: { host: string; port: number };
  /** Bootstrap addresses; validators' endpoints from the chain are dialled as well. */
  peers: PeerAddress[];
  log: Logger;
  /** Ingest's pending store: accepted readings become batch transactions. */
  readings?: PendingReadingSource & Partial<MisbehaviourSource>;
  readingFeed?: Partial<ReadingFeedOptions>;
  /** How this gateway reports devices' misbehaviour on chain (misbehaviour-reporter.ts). */
  misbehaviourReports?: Partial<ReporterOptions>;
  consensus?: Partial<ConsensusOptions>;
  sync?: Partial<SyncOptions>;
  p2p?: Partial<P2pOptions>;
  statusIntervalMs?: number;
  /** Own pending transactions are gossiped again this often. */
  regossipIntervalMs?: number;
  /** Called for every decided height: by this node's consensus or by block sync. */
  onDecided?: (height: number, via: "consensus" | "sync", round: number) => void;
  /** Called after every finalized block (after the feed marked its readings). */
  onFinalized?: (head: ChainHead, pending: PendingBlock) => void;
  /** A broken invariant: default logs and rethrows, which ends the process (never sign on bad state). */
  onFatal?: (e: unknown) => void;
}

export interface ConsensusNode {
  readonly address: AddressInfo;
  readonly replica: Replica;
  readonly network: P2pNetwork;
  /** Admits a transaction to the local mempool and gossips it. Throws the mempool's TxRejected. */
  submitTx(bytes: Uint8Array): DecodedTx;
  /** The reading feed, when ingest is wired (its counters feed /metrics). */
  readonly feed: ReadingFeed | undefined;
  /**
   * When a reading ingest acknowledges must be durable to go in the feed's next flush: that point
   * less `feedCommitMarginMs` (ingest's group commit closes its window by then: gateway/ingest/group-commit.ts).
   * Undefined without a feed.
   */
  readingsDurableBy(): number | undefined;
  status(): { height: number; round: number; peers: string[]; validator: boolean; walWrites: number; decidedByConsensus: number; decidedBySync: number; votes: { validatorId: Uint8Array; prepare: boolean; commit: boolean }[]; behindRetention: { height: number; peer: string } | undefined };
  close(): Promise<void>;
}

export async function startConsensusNode(c: ConsensusNodeConfig): Promise<ConsensusNode> {
  if (c.chain.chainId === "") throw new ConsensusError("NODE_CONFIG", "the chain has no id: open it from its genesis file first");
  const log = c.log.child({ subsystem: "consensus", node: toHex(c.identity.id).slice(0, 8) });
  const wal = new FileWalStore(c.dataDir);
  const timers = new Map<ReplicaTimer, NodeJS.Timeout>();
  let closed = false;
  let feed: ReadingFeed | undefined;
  let nodeSigner: NodeSigner | undefined;
  const outbox = TxOutbox.open(c.dataDir, c.identity, c.chain.chainId);
  const stats = { decidedByConsensus: 0, decidedBySync: 0 };
  // Proposals sized so a height decides in about half of round 0's timeout (proposal-sizer.ts).
  const sizer = new ProposalSizer({ targetMs: (c.consensus?.roundTimeoutBaseMs ?? consensusDefaults.roundTimeoutBaseMs) / 2, minBytes: 32 << 10, maxBytes: 1 << 20 });
  const adapter = new ChainAdapter(c.chain, c.mempool, {
    sizer,
    signer: () => nodeSigner,
    onCommitted: (head, pending) => {
      if (feed) feed.onCommitted(head, pending);
      else nodeSigner?.settle();
      c.onFinalized?.(head, pending);
    },
  });
  const signer = { id: c.identity.id, publicKey: c.identity.publicKey, sign: (m: Uint8Array) => signEd25519(c.identity.key, m) };
  // Votes verified here are remembered, so the next block's certificate of them is a look-up.
  const replica = new Replica({ app: adapter, signer, log, check: verifyRemembered, consensus: c.consensus, sync: c.sync, statusIntervalMs: c.statusIntervalMs });
  const fatal = (e: unknown) => {
    log.fatal({ err: (e as Error).message, stack: (e as Error).stack }, "consensus invariant broken; stopping");
    if (c.onFatal) c.onFatal(e);
    else setImmediate(() => {
      throw e;
    });
  };
  const run = (actions: ReplicaAction[]) => {
    for (const a of actions) {
      if (closed) return;
      switch (a.kind) {
        case "persist":
          wal.save(a.bytes);
          break;
        case "broadcast":
          network.broadcast(a.bytes);
          break;
        case "send":
          network.send(a.to, a.bytes);
          break;
        case "timer":
          arm(a.timer, a.atMs, a.height, a.round);
          break;
        case "decided":
          log.debug({ height: a.height, round: a.round, via: a.via }, "decided");
          stats[a.via === "sync" ? "decidedBySync" : "decidedByConsensus"]++;
          c.onDecided?.(a.height, a.via, a.round);
          break;
        case "evidence":
          log.warn({ height: a.evidence.height, round: a.evidence.round, kind: a.evidence.kind, validator: toHex(a.evidence.publicKey) }, "double signature evidence pooled");
          break;
      }
    }
  };
  const guarded = (fn: () => ReplicaAction[]) => {
    if (closed) return;
    try {
      run(fn());
    } catch (e) {
      fatal(e);
    }
  };
  const arm = (timer: ReplicaTimer, atMs: number, height: number, round: number) => {
    clearTimeout(timers.get(timer));
    const fire = () => guarded(() => replica.timer(timer, height, round, Date.now()));
    const t = setTimeout(timer === "propose" ? () => void admission.settled(proposalWaitMs()).then(fire) : fire, Math.max(0, atMs - Date.now()));
    timers.set(timer, t);
  };
  // The proposer's wait for batches still being verified (options.ts proposalAdmissionWaitMs).
  const proposalWaitMs = () => Math.min(c.consensus?.proposalAdmissionWaitMs ?? consensusDefaults.proposalAdmissionWaitMs, Math.floor(c.chain.params().blockIntervalMs / 4));
  // Consensus frames in arrival order, proposals after their readings are verified (proposal-preverify.ts).
  const inbound = new InOrderFrames(c.consensus?.framesQueuedMax ?? consensusDefaults.framesQueuedMax, log);
  const frameBytesMax = (c.consensus?.blockBytesMax ?? consensusDefaults.blockBytesMax) + 65_536;
  // Peers' batches: readings verified on the thread pool, admitted in arrival order (reading-preverify.ts).
  const admission = new OrderedAdmission(c.chain, c.mempool);
  const gossip = new TxGossip(
    {
      selfId: toHex(c.identity.id),
      upcomingProposers: (count) => {
        const v = replica.core.validators;
        const h = replica.core.height;
        return Array.from({ length: Math.min(count, v.n) }, (_, i) => v.idHex[v.proposer(h + i, 0)]);
      },
      send: (peer, tx) => network.send(peer, encodeEnvelope({ kind: "tx", bytes: tx })),
      admit: (tx) => admission.admit(tx),
    },
    c.p2p?.gossipSeenMax ?? 100_000,
    c.p2p?.gossipProposersAhead ?? 3,
  );
  const network: P2pNetwork = new P2pNetwork(
    { chainId: c.chain.chainId, publicKey: c.identity.publicKey, privateKey: c.identity.key },
    {
      peerUp: (id) => guarded(() => replica.peerConnected(id, Date.now())),
      peerDown: (id) => replica.peerDisconnected(id),
      frame: (id, bytes) => {
        // [kind, body] starts 0x82 <kind>: transactions go to gossip, the rest to the replica.
        if (bytes[0] === 0x82 && bytes[1] === envelopeKind.tx) return gossipFrame(id, bytes);
        // A proposal's readings not verified here yet are verified off this thread first (proposal-preverify.ts).
        const verifying = bytes[1] === envelopeKind.consensus ? preverifyProposal(c.chain, bytes, frameBytesMax, (id) => c.mempool.has(id)) : undefined;
        inbound.push(verifying, () => guarded(() => replica.receive(id, bytes, Date.now())));
      },
    },
    log,
    c.p2p,
  );
  const gossipFrame = (id: string, bytes: Uint8Array) => {
    try {
      const e = decodeEnvelope(bytes, network.options.frameBytesMax);
      if (e.kind === "tx") gossip.fromPeer(id, e.bytes);
    } catch (err) {
      log.debug({ peer: id, err: (err as Error).message }, "tx frame dropped");
    }
  };
  const address = await network.listen(c.listen.host, c.listen.port);
  for (const p of c.peers) network.dial(p);
  dialValidators(c.chain, network, c.identity);
  nodeSigner = new NodeSigner(c.chain, c.mempool, outbox, (tx) => gossip.local(tx), log);
  // Settle what the chain did with our transactions while this process was down, then offer the rest again.
  if (c.readings) {
    feed = new ReadingFeed(c.chain, nodeSigner, c.readings, log, { ...readingFeedDefaults, ...c.readingFeed });
    if (c.readings.misbehaviourSince) feed.attachReporter(new MisbehaviourReporter(c.chain, nodeSigner, c.readings as PendingReadingSource & MisbehaviourSource, c.identity.id, log, { ...reporterDefaults, ...c.misbehaviourReports }));
  }
  if (feed) feed.recover();
  else nodeSigner.settle();
  const saved = wal.load();
  guarded(() => replica.start(Date.now(), saved ? decodeWal(saved, c.consensus?.blockBytesMax ?? 8 << 20) : undefined));
  // The feed signs what ingest accepted shortly before each round-0 proposal (feed-timing.ts).
  const blockIntervalMs = () => c.chain.params().blockIntervalMs;
  const feedTiming = { tickMs: Math.max(5, Math.floor(blockIntervalMs() / 16)), flushedAtMs: 0, headHeight: -1, headSeenAtMs: 0 };
  // A timer for the next flush point when it falls before the next tick (feed-timing.ts).
  let flushTimer: NodeJS.Timeout | undefined;
  // Whether this node makes round 0's proposal of `height`, the one being decided: its own batch then flushes just before it (feed-timing.ts).
  const selfHex = toHex(c.identity.id);
  const proposesRound0 = (height: number): boolean => {
    const core = replica.core;
    return core.height === height && core.validators.idHex[core.validators.proposer(height, 0)] === selfHex;
  };
  // The only validator: nobody else verifies its batches, so it flushes just before each proposal only.
  const alone = (): boolean => replica.core.validators.n === 1 && replica.core.validators.indexOf(selfHex) === 0;
  /** What feed-timing.ts needs to know now (noting when this node first saw the head). */
  const feedTimingAt = (now: number) => {
    const head = c.chain.head();
    if (head.height !== feedTiming.headHeight) Object.assign(feedTiming, { headHeight: head.height, headSeenAtMs: now });
    return { nowMs: now, intervalMs: blockIntervalMs(), headTimeMs: head.header.timeMs, headSeenAtMs: feedTiming.headSeenAtMs, proposesNext: proposesRound0(head.height + 1), alone: alone() };
  };
  const feedTick = (): void => {
    try {
      const now = Date.now();
      const timing = feedTimingAt(now);
      const due = feedFlushDue({ ...timing, flushedAtMs: feedTiming.flushedAtMs });
      if (due !== undefined) feedTiming.flushedAtMs = now;
      feed?.tick(now, due !== undefined);
      const untilNext = nextFeedFlushAt(timing) - now;
      if (feed && flushTimer === undefined && untilNext < feedTiming.tickMs) {
        flushTimer = setTimeout(() => {
          flushTimer = undefined;
          feedTick();
        }, untilNext);
      }
    } catch (e) {
      log.error({ err: (e as Error).message }, "reading feed failed; retrying next tick");
    }
  };
  const ticker = setInterval(feedTick, feedTiming.tickMs);
  const offerer = setInterval(() => {
    try {
      nodeSigner!.offer(Date.now());
    } catch (e) {
      log.error({ err: (e as Error).message }, "offering signed transactions failed; retrying");
    }
  }, Math.max(50, Math.floor(blockIntervalMs() / 2)));
  const regossip = setInterval(() => {
    dialValidators(c.chain, network, c.identity);
  }, c.regossipIntervalMs ?? 2000);
  log.info({ address, peers: c.peers, height: c.chain.head().height + 1 }, "consensus node started");
  return {
    address,
    replica,
    network,
    feed,
    readingsDurableBy: () => (feed ? nextFeedFlushAt(feedTimingAt(Date.now())) - feedCommitMarginMs : undefined),
    submitTx(bytes) {
      const tx = c.mempool.add(bytes, Date.now());
      gossip.local(bytes);
      return tx;
    },
    status: () => ({ height: replica.core.height, round: replica.core.round, peers: network.connectedPeers(), validator: replica.core.validators.indexOf(selfHex) >= 0, walWrites: wal.writes, proposalBytesMax: sizer.bytesMax(), ...stats, votes: replica.core.votesInProgress(), behindRetention: replica.behindRetention }),
    async close() {
      closed = true;
      clearInterval(ticker);
      clearTimeout(flushTimer);
      clearInterval(offerer);
      clearInterval(regossip);
      for (const t of timers.values()) clearTimeout(t);
      await network.close();
      outbox.close();
      wal.close();
      log.info({ height: c.chain.head().height }, "consensus node stopped");
    },
  };
}

/** Dials the endpoints the chain lists for the current validators ("host:port"), other than ours. */
function dialValidators(chain: Chain, network: P2pNetwork, me: Identity): void {
  const state = chain.state();
  for (const v of chain.validators().validators) {
    if (Buffer.compare(v.id, me.id) === 0) continue;
    const endpoint = state.candidate(v.id)?.endpoint;
    const m = endpoint ? /^(.+):(\d{1,5})$/.exec(endpoint) : null;
    if (m) network.dial({ host: m[1], port: Number(m[2]) });
  }
}
