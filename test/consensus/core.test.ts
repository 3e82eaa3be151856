// The PBFT core on its own, no network: the rules the simulator relies on, each shown directly.
// A restarted validator keeps its word (WAL), a round-1 proposal must carry forward a prepared
// block, and a double vote becomes evidence.
import { pino } from "pino";
import { expect, test } from "vitest";
import { decodeConsensusMessage, roundChangeSigningBytes, voteSigningBytes, type Certificate, type Proposal, type SignedRoundChange } from "../../shared/consensus-messages.ts";
import { toHex } from "../../shared/ed25519.ts";
import { PbftCore, type CoreAction } from "../../gateway/consensus/core.ts";
import { justificationProblem } from "../../gateway/consensus/justify.ts";
import { consensusDefaults } from "../../gateway/consensus/options.ts";
import { ConsensusValidators } from "../../gateway/consensus/validators.ts";
import { verifyEvidence } from "../../gateway/consensus/evidence.ts";
import type { WalRecord } from "../../gateway/consensus/wal.ts";
import { verifyEd25519 } from "../../shared/ed25519.ts";
import { simAppHandle, type SimGenesis } from "./sim/app.ts";
import { simIdentity } from "./sim/keys.ts";

const ids = [0, 1, 2, 3].map(simIdentity);
const genesis: SimGenesis = { chainId: "core-test", candidates: ids.map((x) => ({ id: x.id, publicKey: x.publicKey })), setSize: 4, epochBlocks: 100, blockIntervalMs: 100 };
const set = new ConsensusValidators({ epoch: 0, validators: genesis.candidates });

function core(i: number) {
  const handle = simAppHandle(genesis, i, 0, () => undefined);
  return new PbftCore({ app: handle.app, signer: ids[i], check: verifyEd25519, options: consensusDefaults, log: pino({ level: "silent" }), pendingEvidence: () => [] });
}

const sent = (actions: CoreAction[]) => actions.flatMap((a) => (a.kind === "broadcast" ? [decodeConsensusMessage(a.bytes)] : []));
const persisted = (actions: CoreAction[]) => actions.flatMap((a) => (a.kind === "persist" ? [a.record] : []));
const index = (i: number) => set.indexOf(toHex(ids[i].id));

test("a validator restarted from its WAL re-sends its prepare and never signs a conflicting one", () => {
  const proposerIndex = set.proposer(1, 0);
  const proposer = ids.findIndex((_, i) => index(i) === proposerIndex);
  const voter = (proposer + 1) % 4;
  const p = core(proposer);
  p.start(0);
  const proposal = sent(p.timer("propose", 1, 0, 100)).find((m) => m.type === "proposal") as Proposal;
  expect(proposal.height).toBe(1);

  const v = core(voter);
  v.start(0);
  const first = v.receive(toHex(ids[proposer].id), proposal, 110);
  expect(first[0].kind).toBe("persist"); // the vote is on disk before it is sent
  const prepare = sent(first).find((m) => m.type === "prepare")!;
  const record: WalRecord = persisted(first).at(-1)!;
  // The operators' view of the round in progress shows this validator's own prepare, no commit yet.
  const ownVote = v.votesInProgress().find((x) => Buffer.compare(x.validatorId, ids[voter].id) === 0)!;
  expect([ownVote.prepare, ownVote.commit]).toEqual([true, false]);
  expect(v.votesInProgress()).toHaveLength(4);

  // Crash and restart from the record; the proposer equivocates with another block for round 0.
  const restarted = core(voter);
  restarted.start(200, record);
  const resent = sent(restarted.timer("resend", 1, 0, 1300));
  expect(resent.some((m) => m.type === "prepare" && Buffer.compare((m as { blockHash: Uint8Array }).blockHash, (prepare as { blockHash: Uint8Array }).blockHash) === 0)).toBe(true);
  const other = simAppHandle(genesis, 99, 0, () => undefined).app.propose({ height: 1, round: 0, proposer: ids[proposer].id, timeMs: 150, evidence: [] });
  const forged: Proposal = { ...proposal, block: other.block, blockHash: other.hash, signature: ids[proposer].sign(voteSigningBytes("core-test", "proposal", 1, 0, other.hash)) };
  const after = sent(restarted.receive(toHex(ids[proposer].id), forged, 1400));
  expect(after.filter((m) => m.type === "prepare")).toEqual([]);
});

test("a double vote becomes evidence that anyone can check", () => {
  const c = core(0);
  c.start(0);
  const h1 = new Uint8Array(32).fill(1);
  const h2 = new Uint8Array(32).fill(2);
  const vote = (h: Uint8Array) => ({ type: "prepare" as const, height: 1, round: 0, blockHash: h, validator: index(3), signature: ids[3].sign(voteSigningBytes("core-test", "prepare", 1, 0, h)) });
  c.receive("x", vote(h1), 10);
  const ev = c.receive("x", vote(h2), 11).find((a) => a.kind === "evidence");
  expect(ev && ev.kind === "evidence" && verifyEvidence(ev.evidence, "core-test")).toBe(true);
});

test("justification: after a prepared round, the next round must re-propose that block", () => {
  const ctx = { chainId: "core-test", height: 1, validators: set, check: verifyEd25519 };
  const [b, c] = [new Uint8Array(32).fill(0xb), new Uint8Array(32).fill(0xc)];
  const prepares: Certificate = {
    height: 1,
    round: 0,
    blockHash: b,
    votes: [0, 1, 2].map((i): [Uint8Array, Uint8Array] => [ids[i].id, ids[i].sign(voteSigningBytes("core-test", "prepare", 1, 0, b))]).sort((x, y) => Buffer.compare(x[0], y[0])),
  };
  const rc = (i: number, prepared: boolean): SignedRoundChange => {
    const unsigned = { height: 1, round: 1, preparedRound: prepared ? 0 : null, preparedHash: prepared ? b : null };
    return { ...unsigned, validator: index(i), signature: ids[i].sign(roundChangeSigningBytes("core-test", unsigned)) };
  };
  const quorum = [rc(0, true), rc(1, false), rc(3, false)];
  expect(justificationProblem(ctx, 1, b, { roundChanges: quorum, prepared: prepares })).toBeUndefined();
  expect(justificationProblem(ctx, 1, c, { roundChanges: quorum, prepared: prepares })).toMatch(/re-proposed/);
  expect(justificationProblem(ctx, 1, c, { roundChanges: quorum, prepared: null })).toMatch(/prepared certificate/);
  expect(justificationProblem(ctx, 1, c, { roundChanges: quorum.slice(0, 2), prepared: null })).toMatch(/quorum/);
  expect(justificationProblem(ctx, 1, c, { roundChanges: [rc(1, false), rc(2, false), rc(3, false)], prepared: null })).toBeUndefined();
  expect(justificationProblem(ctx, 1, c, null)).toMatch(/round changes/);
});
