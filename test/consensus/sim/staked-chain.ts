// A chain PBFT built on the real chain core for the light-client tests: `n` validators plus a spare
// whose stake (submitted by every node at 200 ms) DPoS elects at a boundary, so the set really
// changes. `check` gets the first node and its signing identities once the schedule has run.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realChainFactory, TxSource, type RealChainNode } from "./chain-app.ts";
import { simIdentity, type SimIdentity } from "./keys.ts";
import { runSchedule } from "./run.ts";

export function runStakedChain(o: { chainId: string; seed: number; n: number; epochBlocks: number }, check: (node: RealChainNode, ids: SimIdentity[]) => void): boolean {
  const factory = realChainFactory(join(tmpdir(), `moteledger-${o.chainId}-${process.pid}`), o.chainId, o.n, o.epochBlocks);
  const ids = Array.from({ length: o.n + 1 }, (_, i) => simIdentity(i));
  const txs = new TxSource(o.chainId, ids);
  let checked = false;
  runSchedule({
    seed: o.seed,
    n: o.n,
    byzantine: 0,
    crashes: 0,
    network: false,
    makeApp: factory.makeApp,
    drive: ({ queue, nodes }) => queue.at(200, () => nodes.forEach((x) => x.up && (x.handle as RealChainNode).submit(txs.make(o.n, { kind: "stake", amount: 500_000n }), queue.nowMs))),
    cleanup: () => {
      check(factory.nodes[0], ids);
      checked = true;
      factory.cleanup();
    },
  });
  return checked;
}
