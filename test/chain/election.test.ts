// DPoS election (issue 4, "Must show"): stake and vote changes move the validator set exactly at
// epoch boundaries, and the set elected is what the documented rule (gateway/chain/dpos.ts) gives
// when computed independently from the accounts' stakes and votes.
import { describe, expect, it } from "vitest";
import { decode } from "../../shared/cbor.ts";
import { toHex } from "../../shared/ed25519.ts";
import { electValidators, jailCandidate } from "../../gateway/chain/dpos.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { accountCodec, candidateCodec } from "../../gateway/chain/records.ts";
import type { ChainStore } from "../../gateway/storage/chain-store.ts";
import { buildAndCommit } from "./drive.ts";
import { makeFixture, openChain, signed } from "./fixture.ts";
import { rng } from "./random-txs.ts";

const E = 5;
const K = 2;
const f = makeFixture({ gateways: 4, users: 6, label: "election", params: { epochBlocks: E, validatorsMax: K, unbondingBlocks: 2, candidateStakeMin: "500", votesMax: 3 } });
const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
const limits = { depthMax: 8, itemsMax: 100_000, bytesMax: 1 << 20 };

/** The rule, from the raw state rows: backing recomputed from every account's stake and votes. */
function modelElection(store: ChainStore, epoch: number): string[] {
  const backing = new Map<string, bigint>();
  const staked = new Map<string, bigint>();
  for (const [key, value] of store.stateEntries("account/")) {
    const a = accountCodec.from(decode(value, limits));
    staked.set(key.slice(8), a.staked);
    for (const c of a.votes) backing.set(toHex(c), (backing.get(toHex(c)) ?? 0n) + a.staked);
  }
  const electable: [string, bigint][] = [];
  for (const [key, value] of store.stateEntries("candidate/")) {
    const id = key.slice("candidate/".length);
    const c = candidateCodec.from(decode(value, limits));
    const votes = backing.get(id) ?? 0n;
    if (votes > 0n && c.jailedUntilEpoch <= epoch && (staked.get(id) ?? 0n) >= 500n) electable.push([id, votes]);
  }
  electable.sort(([ia, va], [ib, vb]) => (va !== vb ? (vb > va ? 1 : -1) : ia < ib ? -1 : 1));
  return electable.slice(0, K).map(([id]) => id);
}

const setOf = (ids: { id: Uint8Array }[]): string[] => ids.map((v) => toHex(v.id));

describe("DPoS election", () => {
  it("moves the validator set only at epoch boundaries, to the top K by stake-weighted votes", () => {
    const { chain, store } = openChain(f);
    const byId = [...f.gateways].sort((a, b) => Buffer.compare(a.id, b.id));
    // Genesis: four equal candidates (1000 self-stake each); the tie goes to the lowest ids.
    expect(setOf(chain.validators().validators)).toEqual(byId.slice(0, K).map((g) => toHex(g.id)));
    const next = rng(7);
    const nonces = new Map<string, number>();
    const nonce = (who: Identity): number => {
      const n = nonces.get(toHex(who.id)) ?? chain.state().account(who.id).nonce;
      nonces.set(toHex(who.id), n + 1);
      return n;
    };
    let changes = 0;
    for (let h = 1; h <= 8 * E; h++) {
      nonces.clear();
      const txs: Uint8Array[] = [];
      for (let i = 0; i < 4; i++) {
        const u = f.users[Math.floor(next() * f.users.length)];
        const r = next();
        if (r < 0.4) txs.push(signed(chain.chainId, u, nonce(u), { kind: "stake", amount: BigInt(1 + Math.floor(next() * 3000)) }));
        else if (r < 0.6) txs.push(signed(chain.chainId, u, nonce(u), { kind: "unstake", amount: BigInt(1 + Math.floor(next() * 2000)) }));
        else {
          const picks = byId.filter(() => next() < 0.4).slice(0, 3).map((g) => g.id);
          txs.push(signed(chain.chainId, u, nonce(u), { kind: "vote", candidates: picks }));
        }
      }
      if (h === 2 * E + 1) txs.push(signed(chain.chainId, byId[0], nonce(byId[0]), { kind: "unstake", amount: 600n })); // below the candidate minimum
      const before = setOf(chain.validators().validators);
      const out = buildAndCommit(chain, signers, txs, f.genesis.genesisTimeMs + h * 1000);
      const after = chain.validators();
      const header = out.pending.block.header;
      if (h % E !== 0) {
        expect(setOf(after.validators), `set changed inside epoch at height ${h}`).toEqual(before);
        expect(toHex(header.nextValidatorSetHash)).toBe(toHex(header.validatorSetHash));
      } else {
        expect(after.epoch).toBe(h / E);
        expect(setOf(after.validators), `election at height ${h}`).toEqual(modelElection(store, h / E));
        if (setOf(after.validators).join() !== before.join()) changes++;
      }
    }
    expect(changes, "the random stakes and votes did move the set").toBeGreaterThan(1);
    // The candidate that unstaked below the minimum is not electable after its unstake.
    expect(setOf(chain.validators().validators)).not.toContain(toHex(byId[0].id));
  });

  it("jailing keeps a candidate out of elections until its epoch", () => {
    const { chain } = openChain(f);
    const state = chain.state().fork();
    const top = state.validators().validators[0].id;
    expect(jailCandidate(state, top, 3)).toBe(true);
    expect(setOf(electValidators(state, state.params(), 2))).not.toContain(toHex(top));
    expect(setOf(electValidators(state, state.params(), 3))).toContain(toHex(top));
  });
});
