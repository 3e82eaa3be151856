// The state machine's less common transitions, one by one: unbonding releases at its height,
// block rewards and fees reach the proposer, governance changes a parameter only with a quorum of
// validators and only at the epoch boundary, equivocation evidence quarantines a device chain-wide,
// a revoked device's readings are refused.
import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { rewardPoolId } from "../../gateway/chain/dpos.ts";
import { deviceStatus } from "../../gateway/chain/records.ts";
import { buildAndCommit } from "./drive.ts";
import { batchBody, deviceReading, makeFixture, openChain, signed } from "./fixture.ts";

const f = makeFixture({ gateways: 4, users: 3, label: "transitions", params: { epochBlocks: 4, unbondingBlocks: 3, blockReward: "7", txFee: "2" } });
const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
const id = f.genesis.chainId;
const at = (h: number): number => f.genesis.genesisTimeMs + h * 1000;

describe("state transitions", () => {
  it("unstaked tokens stay locked for the unbonding period, then return to the balance", () => {
    const { chain } = openChain(f);
    const u = f.users[0];
    buildAndCommit(chain, signers, [signed(id, u, 0, { kind: "stake", amount: 500n }, 2n)], at(1));
    buildAndCommit(chain, signers, [signed(id, u, 1, { kind: "unstake", amount: 200n }, 2n)], at(2));
    const locked = chain.state().account(u.id);
    expect([locked.balance, locked.staked, locked.unbonding]).toEqual([100_000n - 500n - 4n, 300n, 200n]);
    for (const h of [3, 4]) {
      buildAndCommit(chain, signers, [], at(h));
      expect(chain.state().account(u.id).unbonding, `still locked at ${h}`).toBe(200n);
    }
    buildAndCommit(chain, signers, [], at(5)); // 2 + unbondingBlocks
    const freed = chain.state().account(u.id);
    expect([freed.balance, freed.staked, freed.unbonding]).toEqual([100_000n - 300n - 4n, 300n, 0n]);
  });

  it("pays the proposer its block's fees and the reward from the pool", () => {
    const { chain } = openChain(f);
    const out = buildAndCommit(chain, signers, [signed(id, f.users[0], 0, { kind: "transfer", to: f.users[1].id, amount: 1n }, 5n)], at(1));
    const proposer = out.pending.block.header.proposer;
    expect(chain.state().account(proposer).balance).toBe(100_000n + 5n + 7n);
    expect(chain.state().account(rewardPoolId).balance).toBe(1_000_000n - 7n);
    expect(chain.state().candidate(proposer)!.blocksProduced).toBe(1);
  });

  it("changes a governable parameter at the epoch boundary once a quorum of validators voted for it", () => {
    const { chain } = openChain(f);
    const vote = (g: Identity, nonce: number, value: bigint) => signed(id, g, nonce, { kind: "paramVote", name: "txFee", value }, 2n);
    const [g0, g1, g2, g3] = f.gateways;
    // Block 1: two of four vote 3, one votes 4 — no quorum (3 of 4 needed).
    buildAndCommit(chain, signers, [vote(g0, 0, 3n), vote(g1, 0, 3n), vote(g2, 0, 4n)], at(1));
    buildAndCommit(chain, signers, [vote(g2, 1, 3n)], at(2)); // g2 changes its mind: now a quorum
    buildAndCommit(chain, signers, [], at(3));
    expect(chain.params().txFee, "not before the boundary").toBe(2n);
    buildAndCommit(chain, signers, [], at(4)); // epoch boundary
    expect(chain.params().txFee).toBe(3n);
    expect(chain.state().governance()).toEqual([]);
    // A vote without quorum clears at the next boundary without effect.
    buildAndCommit(chain, signers, [vote(g3, 0, 9n)], at(5));
    for (const h of [6, 7, 8]) buildAndCommit(chain, signers, [], at(h));
    expect(chain.params().txFee).toBe(3n);
    const out = buildAndCommit(chain, signers, [signed(id, f.users[0], 0, { kind: "transfer", to: f.users[1].id, amount: 1n }, 2n)], at(9));
    expect(out.codes).toEqual(["TX_FEE_TOO_LOW"]);
  });

  it("quarantines a device on proof of equivocation; its readings are then refused everywhere", () => {
    const { chain } = openChain(f);
    const d = f.devices[0];
    const gw = f.gateways[0];
    const first = deviceReading(d, 5, 20);
    const second = deviceReading(d, 5, 99);
    const out = buildAndCommit(chain, signers, [signed(id, f.users[2], 0, { kind: "reportDevice", deviceId: d.id, evidence: "equivocation", first, second }, 2n)], at(1));
    expect(out.codes).toEqual([undefined]);
    expect(chain.state().device(d.id)!.status).toBe(deviceStatus.quarantined);
    expect(chain.state().evidence(d.id, 0)!.kind).toBe(1);
    // A reading its gateway received after the quarantine is refused; one received before still lands.
    const refused = buildAndCommit(chain, signers, [signed(id, gw, 0, batchBody(gw, [{ bytes: deviceReading(d, 6), receivedAtMs: at(2) }, { bytes: deviceReading(d, 4), receivedAtMs: at(1) - 1 }]), 3n)], at(2));
    expect(refused.outcomes).toEqual([["DEVICE_NOT_ACTIVE", "READING_RECORDED"]]);
    // Identical readings are a replay, not equivocation: refused as evidence.
    const bogus = buildAndCommit(chain, signers, [signed(id, f.users[2], 1, { kind: "reportDevice", deviceId: f.devices[1].id, evidence: "equivocation", first: deviceReading(f.devices[1], 1), second: deviceReading(f.devices[1], 1) }, 2n)], at(3));
    expect(bogus.codes).toEqual(["EVIDENCE_INVALID"]);
  });

  it("refuses readings of a revoked device; its owner alone may revoke it", () => {
    const { chain } = openChain(f);
    const d = f.devices[2];
    const gw = f.gateways[1];
    expect(buildAndCommit(chain, signers, [signed(id, f.users[0], 0, { kind: "revokeDevice", deviceId: d.id }, 2n)], at(1)).codes).toEqual(["DEVICE_NOT_OWNER"]);
    expect(buildAndCommit(chain, signers, [signed(id, f.owner, 0, { kind: "revokeDevice", deviceId: d.id }, 2n)], at(2)).codes).toEqual([undefined]);
    const out = buildAndCommit(chain, signers, [signed(id, gw, 0, batchBody(gw, [{ bytes: deviceReading(d, 0), receivedAtMs: at(3) }, { bytes: deviceReading(d, 1), receivedAtMs: at(2) - 1 }]), 3n)], at(3));
    expect(out.outcomes).toEqual([["DEVICE_NOT_ACTIVE", "READING_RECORDED"]]);
  });
});
