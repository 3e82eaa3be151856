// A fifth gateway joins a running network of four (BRIEF §7, clause 7.1.1.2): it starts from the
// genesis file with only bootstrap addresses, catches up by block sync, stakes, registers as a
// candidate and votes for itself; at the next epoch boundary DPoS elects it and it votes in PBFT.
// To show its votes count, one of the original four is then killed: four of five is a quorum only
// with the newcomer, and the chain must keep finalizing.
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { signTx, txVersion, type TxBody } from "../../shared/tx.ts";
import { initLocalNetwork } from "../../gateway/chain/local-network.ts";
import { disagreements, NodeProcess } from "./process-harness.ts";
import { portBase } from "../support/ports.ts";

const dir = mkdtempSync(join(tmpdir(), "mote-consensus-join-"));
const nodes: NodeProcess[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
  rmSync(dir, { recursive: true, force: true });
});

test("a fifth gateway syncs, is voted in, and becomes a validator at the next epoch", { timeout: 180_000 }, async () => {
  const p2pBase = portBase("processesJoin");
  const net = initLocalNetwork({ dir, gateways: 5, params: { blockIntervalMs: 200, epochBlocks: 15 }, basePort: p2pBase });
  const fifth = net.gateways[4];
  // Genesis knows the fifth only as a funded account: not staked, not a candidate.
  net.genesis.candidates = net.genesis.candidates!.filter((c) => c.publicKey !== fifth.publicKey);
  net.genesis.accounts = net.genesis.accounts!.map((a) => (a.publicKey === fifth.publicKey ? { publicKey: a.publicKey, balance: "1000000" } : a));
  writeFileSync(net.genesisPath, JSON.stringify(net.genesis, null, 2));
  for (const g of net.gateways) {
    const peers = net.gateways.slice(0, 4).filter((x) => x !== g).map((x) => p2pBase + x.index);
    nodes.push(new NodeProcess({ dataDir: join(dir, `node-${g.index}`), genesisPath: net.genesisPath, keyPath: g.keyPath, p2pPort: p2pBase + g.index, peers }));
  }
  const [a, b, c, d, e] = nodes;
  await Promise.all([a, b, c, d].map((n) => n.start()));
  await a.reach(20, 60_000);

  await e.start();
  await e.reach(a.tip, 60_000); // caught up from nothing
  await new Promise((r) => setTimeout(r, 500)); // "synced" events follow the block's "finalized" ones
  expect(e.synced).toBeGreaterThan(0);

  let nonce = 0;
  const tx = (body: TxBody) => signTx(fifth.identity.key, net.genesis.chainId, { version: txVersion, author: fifth.identity.publicKey, nonce: nonce++, fee: 100n, body });
  for (const body of [{ kind: "stake", amount: 20_000n }, { kind: "registerCandidate", endpoint: `127.0.0.1:${p2pBase + fifth.index}` }, { kind: "vote", candidates: [fifth.identity.id] }] as TxBody[]) {
    expect((await e.sendTx(tx(body))).ok).toBe(true);
  }
  // Elected at the end of the epoch in which the votes land.
  const deadline = Date.now() + 60_000;
  let status = await e.status();
  while (!(status.validators as string[]).includes(fifth.id)) {
    if (Date.now() > deadline) throw new Error(`the fifth gateway was not elected; validators ${String(status.validators)}`);
    await new Promise((r) => setTimeout(r, 300));
    status = await e.status();
  }
  const electedAt = status.tip as number;
  await e.reach(electedAt + 5, 30_000);
  expect((await e.status()).validator).toBe(true);

  // Now 5 validators, quorum 4: with one of the four originals gone, the newcomer's votes are needed.
  await d.kill9();
  const before = a.tip;
  await Promise.all([a, b, c, e].map((n) => n.reach(before + 10, 60_000)));
  const s = await e.status();
  console.log(`join: fifth synced ${e.synced} heights, elected by height ${electedAt}, validators ${(s.validators as string[]).length}, finalized by consensus since start ${s.decidedByConsensus}, chain at ${a.tip} with one original validator down`);
  expect(s.decidedByConsensus as number).toBeGreaterThan(5);
  expect(disagreements(nodes)).toEqual([]);
  expect(fromHex(fifth.id).length).toBe(16);
  expect(toHex(fifth.identity.id)).toBe(fifth.id);
});
