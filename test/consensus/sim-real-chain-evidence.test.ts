// Issue 5 end to end on the real chain: a double-voting validator in the simulator over the real
// chain core (sim/chain-app.ts), its double signatures pooled by honest nodes, put into blocks by
// the proposers as validatorEvidence transactions, applied by every node, and the validator jailed:
// the set elected at the next epoch boundary leaves it out.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx } from "../../shared/tx.ts";
import { accusedId, decodeEvidence } from "../../gateway/consensus/evidence.ts";
import { realChainFactory, type RealChainNode } from "./sim/chain-app.ts";
import { runSchedule } from "./sim/run.ts";
import { reproduce } from "./sim/suite.ts";

const epochBlocks = 4;

test("a double-voting validator's evidence reaches the real chain and jails it from the next epoch", () => {
  const failures: string[] = [];
  let landed = 0;
  let boundariesChecked = 0;
  for (let seed = 1; seed <= 4; seed++) {
    const factory = realChainFactory(join(tmpdir(), `moteledger-sim-evidence-${process.pid}-${seed}`), `sim-evidence-${seed}`, 4, epochBlocks, { evidence: true });
    const seen: { height: number; accused: string; setAfterBoundary: string[] | undefined; inSetAtEvidence: boolean }[] = [];
    const result = runSchedule({
      seed,
      n: 4,
      byzantine: 1,
      kinds: ["doubleVote"],
      crashes: 0,
      makeApp: factory.makeApp,
      cleanup: () => {
        const node = factory.nodes.reduce<RealChainNode | undefined>((best, x) => (x?.chain && (!best || x.chain.head().height > best.chain!.head().height) ? x : best), undefined);
        const chain = node?.chain;
        if (chain) {
          for (let h = 1; h <= chain.head().height; h++) {
            for (const bytes of chain.blockAt(h)!.block.txs) {
              const tx = decodeTx(bytes);
              if (tx.body.kind !== "validatorEvidence") continue;
              const accused = toHex(accusedId(decodeEvidence(tx.body.evidence)));
              const boundary = Math.ceil(h / epochBlocks) * epochBlocks;
              const before = node!.sets.get(h - 1) ?? node!.sets.get(0);
              seen.push({
                height: h,
                accused,
                inSetAtEvidence: before?.validators.some((v) => toHex(v.id) === accused) ?? false,
                setAfterBoundary: node!.sets.get(boundary)?.validators.map((v) => toHex(v.id)),
              });
            }
          }
        }
        factory.cleanup();
      },
    });
    if (result.violation || !result.live) failures.push(reproduce(result, " (test/consensus/sim-real-chain-evidence.test.ts)"));
    for (const s of seen) {
      landed++;
      // Jailed from the next epoch: the set elected at the boundary after the evidence leaves it out.
      if (s.setAfterBoundary) boundariesChecked++;
      if (s.setAfterBoundary) expect(s.setAfterBoundary, `seed ${seed}, evidence at ${s.height}`).not.toContain(s.accused);
    }
    // Evidence names one validator: the Byzantine one (honest nodes never double-sign).
    expect(new Set(seen.map((s) => s.accused)).size, `seed ${seed}`).toBeLessThanOrEqual(1);
    if (seen.length) expect(seen.some((s) => s.inSetAtEvidence)).toBe(true);
  }
  console.log(`real chain evidence: ${landed} validatorEvidence transactions over 4 schedules, ${boundariesChecked} followed by an election`);
  expect(failures).toEqual([]);
  expect(landed).toBeGreaterThan(0);
  expect(boundariesChecked).toBeGreaterThan(0);
});
