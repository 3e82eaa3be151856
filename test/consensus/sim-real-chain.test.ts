// The simulator over the real chain core: every node runs gateway/chain on its own SQLite file
// through the production ChainAdapter, crashes close the database mid-run and restarts reopen it
// (with the chain's recovery). Transactions flow (transfers, and a stake that moves the validator
// set at an epoch boundary through the real DPoS rule). A subset of the in-memory schedules'
// faults, since each block here is executed and written to SQLite by every node.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { realChainFactory, TxSource } from "./sim/chain-app.ts";
import { runSchedule, type ScheduleResult } from "./sim/run.ts";
import { reproduce } from "./sim/suite.ts";
import type { SimNode } from "./sim/node.ts";
import { simIdentity } from "./sim/keys.ts";
import type { RealChainNode } from "./sim/chain-app.ts";

interface ChainFacts {
  /** The spare node (not in the genesis set) was a validator by the end. */
  spareElected: boolean;
  transactions: number;
}

function realSchedule(seed: number, n: number): { result: ScheduleResult; facts: ChainFacts } {
  const factory = realChainFactory(join(tmpdir(), `moteledger-sim-chain-${process.pid}-${seed}`), `sim-chain-${seed}`, n, 4);
  const ids = Array.from({ length: n + 1 }, (_, i) => simIdentity(i));
  const txs = new TxSource(`sim-chain-${seed}`, ids);
  const facts: ChainFacts = { spareElected: false, transactions: 0 };
  const result = runSchedule({
    seed,
    n,
    makeApp: factory.makeApp,
    cleanup: () => {
      const chain = factory.nodes.find((x) => x.chain)?.chain;
      if (chain) {
        facts.spareElected = chain.validators().validators.some((v) => Buffer.compare(v.id, ids[n].id) === 0);
        for (let h = 1; h <= chain.head().height; h++) facts.transactions += chain.blockAt(h)!.block.txs.length;
      }
      factory.cleanup();
    },
    drive: ({ queue, prng, nodes, faultPhaseMs }) => {
      const submit = (bytes: Uint8Array) => nodes.forEach((node: SimNode) => node.up && (node.handle as RealChainNode).submit(bytes, queue.nowMs));
      for (let t = 100; t < faultPhaseMs + 2000; t += 100) {
        queue.at(t, () => {
          const author = prng.int(0, n);
          submit(txs.make(author, { kind: "transfer", to: ids[(author + 1) % (n + 1)].id, amount: 1n }));
        });
      }
      queue.at(300, () => submit(txs.make(n, { kind: "stake", amount: 500_000n })));
    },
  });
  return { result, facts };
}

test("real chain + SQLite per node: 24 schedules (n=4) and 8 (n=7) keep safety and liveness", () => {
  const failures: string[] = [];
  let heights = 0;
  let elected = 0;
  let transactions = 0;
  for (const [n, count] of [
    [4, 24],
    [7, 8],
  ] as const) {
    for (let seed = 1; seed <= count; seed++) {
      const { result, facts } = realSchedule(seed, n);
      heights += result.heightFinal;
      transactions += facts.transactions;
      if (facts.spareElected) elected++;
      if (result.violation || !result.live) failures.push(reproduce(result, " (real chain: test/consensus/sim-real-chain.test.ts)"));
    }
  }
  console.log(`real chain: 32 schedules, ${failures.length} failing, ${heights} heights finalized, ${transactions} transactions, spare elected by DPoS in ${elected}`);
  expect(failures).toEqual([]);
  expect(transactions).toBeGreaterThan(100);
  expect(elected).toBeGreaterThan(16);
});
