// Byzantine behaviours (BRIEF §5): a Byzantine node runs the honest replica and rewrites what it
// sends. It holds its own key, so what it sends is correctly signed; only honest nodes' rules stand
// between it and a fork.
//
//   equivocate    as proposer, sends one block to half the nodes and another to the rest
//   doubleVote    sends its prepare/commit for the real block to half, for another hash to the rest
//   invalidBlock  as proposer, proposes a block whose state root is wrong
//   withhold      never sends commits, drops half its other consensus messages, serves no sync
//   garbage       honest, but also sends random and bit-flipped frames
//   splitBrain    colludes with the other splitBrain nodes: honest group A sees block X and the
//                 colluders' votes for X, group B sees Y and their votes for Y (with > f colluders
//                 both groups reach a quorum: the fork the checker must catch)
import { decodeConsensusMessage, voteSigningBytes, type ConsensusMessage, type Proposal, type Vote } from "../../../shared/consensus-messages.ts";
import { sha256 } from "../../../shared/ed25519.ts";
import { decodeEnvelope, encodeEnvelope } from "../../../gateway/p2p/envelope.ts";
import type { ReplicaAction } from "../../../gateway/consensus/replica.ts";
import { encodeConsensusMessage } from "../../../shared/consensus-messages.ts";
import type { Behaviour, SimNode } from "./node.ts";
import type { Prng } from "./prng.ts";

export const byzantineKinds = ["equivocate", "doubleVote", "invalidBlock", "withhold", "garbage", "splitBrain"] as const;
export type ByzantineKind = (typeof byzantineKinds)[number];

type Out = Extract<ReplicaAction, { kind: "broadcast" | "send" }>;

export interface World {
  ids: string[];
  prng: Prng;
  send(from: SimNode, to: string, bytes: Uint8Array): void;
  nowMs(): number;
}

function ownConsensus(node: SimNode, a: Out): ConsensusMessage | undefined {
  if (a.kind !== "broadcast") return undefined;
  try {
    const e = decodeEnvelope(a.bytes, 1 << 24);
    if (e.kind !== "consensus") return undefined;
    return decodeConsensusMessage(e.bytes);
  } catch {
    return undefined;
  }
}

const frame = (m: ConsensusMessage) => encodeEnvelope({ kind: "consensus", bytes: encodeConsensusMessage(m) });

function resignProposal(node: SimNode, p: Proposal, block: Uint8Array, blockHash: Uint8Array): Proposal {
  const signature = node.cfg.identity.sign(voteSigningBytes(node.app.chainId, "proposal", p.height, p.round, blockHash));
  return { ...p, block, blockHash, signature };
}

function vote(node: SimNode, type: Vote["type"], p: { height: number; round: number }, validator: number, blockHash: Uint8Array): Vote {
  return { type, height: p.height, round: p.round, blockHash, validator, signature: node.cfg.identity.sign(voteSigningBytes(node.app.chainId, type, p.height, p.round, blockHash)) };
}

function others(world: World, node: SimNode): string[] {
  return world.ids.filter((id) => id !== node.id);
}

function halves(world: World, node: SimNode): [string[], string[]] {
  const ids = world.prng.shuffle(others(world, node));
  return [ids.slice(0, ids.length >> 1), ids.slice(ids.length >> 1)];
}

function alternative(node: SimNode, p: Proposal, nowMs: number): { block: Uint8Array; hash: Uint8Array } {
  return node.app.propose({ height: p.height, round: p.round, proposer: node.cfg.identity.id, timeMs: nowMs + 1, evidence: [] });
}

export function makeBehaviour(kind: Exclude<ByzantineKind, "splitBrain">, world: World): Behaviour {
  const sendAll = (node: SimNode, ids: string[], bytes: Uint8Array) => ids.forEach((id) => world.send(node, id, bytes));
  switch (kind) {
    case "equivocate":
      return {
        kind,
        outgoing(node, a) {
          const m = ownConsensus(node, a);
          if (m?.type !== "proposal") return false;
          const alt = alternative(node, m, world.nowMs());
          const [x, y] = halves(world, node);
          sendAll(node, x, a.bytes);
          sendAll(node, y, frame(resignProposal(node, m, alt.block, alt.hash)));
          return true;
        },
      };
    case "doubleVote":
      return {
        kind,
        outgoing(node, a) {
          const m = ownConsensus(node, a);
          if (m?.type !== "prepare" && m?.type !== "commit") return false;
          const [x, y] = halves(world, node);
          sendAll(node, x, a.bytes);
          sendAll(node, y, frame(vote(node, m.type, m, m.validator, sha256(m.blockHash))));
          return true;
        },
      };
    case "invalidBlock":
      return {
        kind,
        outgoing(node, a) {
          const m = ownConsensus(node, a);
          if (m?.type !== "proposal") return false;
          const bad = node.app.proposeInvalid({ height: m.height, round: m.round, proposer: node.cfg.identity.id, timeMs: world.nowMs(), evidence: [] });
          sendAll(node, others(world, node), frame(resignProposal(node, m, bad.block, bad.hash)));
          return true;
        },
      };
    case "withhold":
      return {
        kind,
        outgoing(node, a) {
          const m = ownConsensus(node, a);
          if (m) return m.type === "commit" || world.prng.chance(0.5);
          if (a.kind === "send") {
            try {
              return decodeEnvelope(a.bytes, 1 << 24).kind === "syncResponse";
            } catch {
              return false;
            }
          }
          return false;
        },
      };
    case "garbage":
      return {
        kind,
        outgoing(node, a) {
          if (world.prng.chance(0.2)) {
            const to = world.prng.pick(others(world, node));
            let junk: Uint8Array;
            if (world.prng.chance(0.5)) junk = Uint8Array.from({ length: world.prng.int(0, 64) }, () => world.prng.int(0, 255));
            else {
              junk = a.bytes.slice(); // a real frame with one bit flipped: passes most checks but one
              junk[world.prng.int(0, junk.length - 1)] ^= 1 << world.prng.int(0, 7);
            }
            world.send(node, to, junk);
          }
          return false;
        },
      };
  }
}

/** The colluders of a split-brain attack share this plan: who sees X, who sees Y. */
export class SplitBrain {
  constructor(
    readonly colluders: SimNode[],
    readonly groupA: string[],
    readonly groupB: string[],
    private readonly world: World,
  ) {}

  behaviour(): Behaviour {
    const plan = this;
    const friends = () => [...this.groupA, ...this.colluders.map((c) => c.id)];
    return {
      kind: "splitBrain",
      outgoing(node, a) {
        const m = ownConsensus(node, a);
        if (!m) return false;
        for (const id of friends()) if (id !== node.id) plan.world.send(node, id, a.bytes);
        if (m.type === "proposal") plan.fork(node, m);
        return true;
      },
    };
  }

  /** Our proposer's X goes to A; Y and every colluder's prepare and commit for Y go to B. */
  private fork(proposer: SimNode, x: Proposal): void {
    const alt = alternative(proposer, x, this.world.nowMs());
    const y = resignProposal(proposer, x, alt.block, alt.hash);
    const toB = [frame(y)];
    for (const c of this.colluders) {
      const index = c.replica?.core.validators.indexOf(c.id) ?? -1;
      if (index < 0) continue;
      toB.push(frame(vote(c, "prepare", y, index, y.blockHash)), frame(vote(c, "commit", y, index, y.blockHash)));
      const toA = [frame(vote(c, "prepare", x, index, x.blockHash)), frame(vote(c, "commit", x, index, x.blockHash))];
      for (const id of this.groupA) for (const f of toA) this.world.send(c, id, f);
    }
    for (const id of this.groupB) for (const f of toB) this.world.send(proposer, id, f);
  }
}
