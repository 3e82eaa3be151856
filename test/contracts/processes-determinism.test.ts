// Determinism with real processes (issue 12, "Must show"): four validator gateways as child
// processes (test/consensus/node-process.ts: SQLite chain, PBFT over loopback TCP, ingest on UDP)
// on a chain with contractsEnabled. The three example contracts are deployed, funded and
// configured by transaction; then devices send signed readings over CoAP to their home gateways,
// which triggers all three on every reading. Afterwards every node holds the same blocks and
// state root at a common height, the same contract index (runs, gas, events), and a fresh node
// replaying node 0's chain from genesis reproduces every block's results, contract runs included.
//
// CONTRACTS_LOAD_MS sets how long the devices send (default 12 s).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { toHex } from "../../shared/ed25519.ts";
import { signTx, txVersion, type TxBody } from "../../shared/tx.ts";
import { minimumFee } from "../../gateway/chain/apply-tx.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { initLocalNetwork } from "../../gateway/chain/local-network.ts";
import { contractIdOf } from "../../gateway/contracts/records.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { TestDevice } from "../support/gateway-fixtures.ts";
import { disagreements, NodeProcess } from "../consensus/process-harness.ts";
import { examples, i64le, type ExampleName } from "./contract-fixture.ts";
import { replayChain } from "./example-driver.ts";
import { portBase } from "../support/ports.ts";

const loadMs = Number(process.env.CONTRACTS_LOAD_MS ?? 12_000);
const dir = mkdtempSync(join(tmpdir(), "mote-contracts-net-"));
const nodes: NodeProcess[] = [];
let code: Record<ExampleName, Uint8Array>;
beforeAll(async () => {
  code = await examples();
}, 120_000);
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
  rmSync(dir, { recursive: true, force: true });
});

test(`4 validator processes run the three examples under device load for ${loadMs / 1000} s and end equal; a replay from genesis reproduces every result`, { timeout: loadMs + 600_000 }, async () => {
  const p2pBase = portBase("processesDeterminism");
  const udpBase = p2pBase + 5;
  const net = initLocalNetwork({ dir, gateways: 4, devicesOwner: true, params: { blockIntervalMs: 250, epochBlocks: 1000, contractsEnabled: 1 }, basePort: p2pBase });
  const owner = net.owner!.identity;
  const ownerKey = { privateKey: owner.key, publicKey: owner.publicKey, seed: owner.seed };
  const devices = Array.from({ length: 8 }, () => new TestDevice());
  net.genesis.devices = devices.map((d) => ({ publicKey: toHex(d.key.publicKey), owner: net.owner!.id, metadata: { site: "lab" } }));
  writeFileSync(net.genesisPath, JSON.stringify(net.genesis, null, 2));
  for (const g of net.gateways) {
    const peers = net.gateways.filter((x) => x !== g).map((x) => p2pBase + x.index);
    nodes.push(new NodeProcess({ dataDir: join(dir, `node-${g.index}`), genesisPath: net.genesisPath, keyPath: g.keyPath, p2pPort: p2pBase + g.index, peers, udpPort: udpBase + g.index, trustedOwner: net.owner!.publicKey }));
  }
  // Each node loads the contract VM (Binaryen) before it is ready: generous on a loaded machine.
  await Promise.all(nodes.map((n) => n.start(300_000)));

  // The owner deploys, funds and configures the examples (fees from a local copy of the genesis state).
  const local = Chain.open(ChainStore.open(":memory:"), net.genesis);
  let nonce = 0;
  const send = async (body: TxBody): Promise<void> => {
    const bytes = signTx(owner.key, local.chainId, { version: txVersion, author: owner.publicKey, nonce: nonce++, fee: minimumFee(body, local.params()), body });
    const answer = await nodes[0].sendTx(bytes);
    expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true });
  };
  const lab = { kind: "metadata" as const, key: "site", value: "lab" };
  const alarm = contractIdOf(owner.id, 0);
  const pay = contractIdOf(owner.id, 1);
  const hourly = contractIdOf(owner.id, 2);
  await send({ kind: "deployContract", code: code["threshold-alarm"], criteria: [lab], readingGasLimit: 100_000 });
  await send({ kind: "deployContract", code: code["pay-per-reading"], criteria: [lab], readingGasLimit: 100_000 });
  await send({ kind: "deployContract", code: code["hourly-aggregate"], criteria: [{ kind: "owner", ownerId: owner.id }], readingGasLimit: 200_000 });
  await send({ kind: "transfer", to: alarm, amount: 50_000n });
  await send({ kind: "transfer", to: hourly, amount: 50_000n });
  const call = (contractId: Uint8Array, method: string, input: Uint8Array, amount = 0n): TxBody => ({ kind: "callContract", contractId, method, input, gasLimit: 500_000, amount });
  await send(call(alarm, "configure", i64le(30_000n, 25_000n)));
  await send(call(pay, "configure", i64le(2n)));
  // An escrow that runs out during the load: the contract stops paying and says so once.
  await send(call(pay, "deposit", new Uint8Array(0), 400n));
  local.store.close();

  const clients = await Promise.all(nodes.map((n) => TestCoapClient.open(n.args.udpPort!)));
  for (const c of clients) for (const d of devices) expect((await c.request({ method: "POST", path: "e", payload: d.enrollment(ownerKey), contentFormat: contentFormat.cbor })).code).toMatch(/^2\./);

  // Each device reports to its home gateway every ~100 ms; its temperature swings between 20 and
  // 35 °C every five readings, so the alarm raises and clears. A reading is kept until acknowledged.
  let acked = 0;
  let stopLoad = false;
  const load = devices.map(async (d, i) => {
    const client = clients[i % clients.length];
    while (!stopLoad) {
      const sequence = d.nextSequence++;
      const bytes = d.reading(Math.floor(sequence / 5) % 2 === 0 ? 20 : 35, sequence);
      while (!stopLoad) {
        const reply = await client.request({ method: "POST", path: "r", payload: bytes, contentFormat: contentFormat.coseSign1 }, 2000).catch(() => undefined);
        if (reply?.code.startsWith("2.")) {
          acked++;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  await new Promise((r) => setTimeout(r, loadMs));
  stopLoad = true;
  await Promise.all(load);
  await Promise.all(clients.map((c) => c.close()));

  // Settle: no reading pending anywhere and every node at the same tip and state root.
  const deadline = Date.now() + 240_000;
  for (;;) {
    const statuses = await Promise.all(nodes.map((n) => n.status()));
    const pending = statuses.reduce((s, x) => s + (x.pending as number), 0);
    const tips = statuses.map((x) => x.tip as number);
    if (pending === 0 && Math.min(...tips) === Math.max(...tips) && new Set(statuses.map((x) => x.stateRoot)).size === 1) break;
    if (Date.now() > deadline) throw new Error(`not settled: pending ${pending}, tips ${tips.join(",")}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await Promise.all(nodes.map((n) => n.stop()));
  expect(disagreements(nodes)).toEqual([]);

  const stores = nodes.map((n) => ChainStore.open(n.args.dataDir, { readonly: true }));
  try {
    const common = Math.min(...stores.map((s) => s.tip()!.height));
    const at = (s: ChainStore) => `${toHex(s.block(common)!.hash)}`;
    expect(new Set(stores.map(at)).size, "one block hash (hence one state root) at the common height").toBe(1);
    const summary = (s: ChainStore, id: Uint8Array) => {
      const ix = s.indexes.contracts;
      return { stats: ix.stats(id), events: ix.events(id, { order: "asc", limit: 1000 }).map((e) => `${e.height}/${e.txIndex}/${e.runIndex}/${e.eventIndex}:${Buffer.from(e.topic)}:${toHex(e.data)}`) };
    };
    for (const id of [alarm, pay, hourly]) {
      const first = summary(stores[0], id);
      for (const s of stores.slice(1)) expect(summary(s, id)).toEqual(first);
    }
    const alarmStats = stores[0].indexes.contracts.stats(alarm);
    const payTopics = summary(stores[0], pay).events.map((e) => e.split(":")[1]);
    const hourlyStats = stores[0].indexes.contracts.stats(hourly);
    console.log(
      `contracts on 4 processes: ${acked} readings acknowledged, common height ${common}; alarm ${alarmStats.runs} runs ${alarmStats.gasUsed} gas ${alarmStats.events} events; ` +
        `pay-per-reading ${payTopics.filter((t) => t === "paid").length} paid, ${payTopics.filter((t) => t === "exhausted").length} exhausted; hourly ${hourlyStats.runs} runs ${hourlyStats.gasUsed} gas`,
    );
    expect(acked).toBeGreaterThan(50);
    expect(alarmStats.runs).toBeGreaterThanOrEqual(acked);
    expect(alarmStats.events).toBeGreaterThan(0);
    expect(hourlyStats.runs).toBeGreaterThanOrEqual(acked);
    expect(hourlyStats.failed).toBe(0);
    expect(payTopics.filter((t) => t === "paid").length).toBeGreaterThan(0);
    expect(payTopics.filter((t) => t === "exhausted")).toHaveLength(1);

    // A fresh node replays node 0's chain from genesis: every result (runs, gas, events) and the root.
    const source = Chain.open(stores[0], net.genesis);
    const replayed = replayChain(source, net.genesis, common);
    expect(toHex(replayed.chain.head().hash)).toBe(at(stores[0]));
    replayed.store.close();
  } finally {
    for (const s of stores) s.close();
  }
});
