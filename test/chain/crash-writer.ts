// Child process of the crash test: opens the chain in <dir> (running recovery, as a restarted
// gateway does) and writes blocks as fast as it can until it is killed. After each commit returns
// it prints "committed <height> <hash>": from then on that block is acknowledged and must survive.
//
//   node --import tsx test/chain/crash-writer.ts <dir> [killMidCommitAfterRows]
// With the second argument it SIGKILLs itself in the middle of a block's SQLite transaction,
// after that many sparse Merkle node rows were written: a kill certain to land inside a commit.
// Blocks are a deterministic function of the height and the state, so a clean replay elsewhere
// gives the same roots.
import { toHex } from "../../shared/ed25519.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { buildAndCommit } from "./drive.ts";
import { crashFixture } from "./crash-fixture.ts";
import { TxStream } from "./random-txs.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: crash-writer.ts <dir>");
const { fixture, signers } = crashFixture();
const store = ChainStore.open(dir);
const chain = Chain.open(store, fixture.genesis);
process.stdout.write(`opened ${chain.head().height}\n`);
const killAfterRows = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
if (killAfterRows !== undefined) {
  const statement = (store as unknown as { q: { putNode: { run: (...a: unknown[]) => unknown } } }).q.putNode;
  const run = statement.run.bind(statement);
  let rows = 0;
  statement.run = (...a: unknown[]) => {
    if (++rows > killAfterRows) process.kill(process.pid, "SIGKILL");
    return run(...a);
  };
}
for (;;) {
  const height = chain.head().height + 1;
  const timeMs = fixture.genesis.genesisTimeMs + height * 1000;
  const txs = new TxStream(fixture, height).block(chain, 40, timeMs);
  const out = buildAndCommit(chain, signers, txs, timeMs, () => process.stdout.write(`commit-start ${height}\n`));
  process.stdout.write(`committed ${height} ${toHex(out.pending.hash)}\n`);
}
