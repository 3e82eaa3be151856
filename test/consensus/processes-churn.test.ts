// Real processes (BRIEF §5, issue 9): four gateways on loopback TCP, each with its ingest gateway
// on UDP, under load from 20 simulated devices (real signed readings over CoAP) that roam: a
// device sends 20% of its readings through a gateway other than its own, and fails over to
// another gateway when one does not answer. One validator is killed with SIGKILL every few
// seconds (CONSENSUS_CHURN_MS, a minute by default) and restarted on the same data directory.
// Afterwards: every reading a gateway acknowledged is on chain at every node exactly once, no
// gateway's pending store dropped a reading (rejected or lost), all nodes hold the same blocks and
// state root, and the restarted ones caught up by block sync.
import Database from "better-sqlite3";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { toHex } from "../../shared/ed25519.ts";
import { readingDigest } from "../../shared/reading.ts";
import { initLocalNetwork } from "../../gateway/chain/local-network.ts";
import { IndexWriter } from "../../gateway/storage/index-writer.ts";
import { pendingStoreFile } from "../../gateway/ingest/pending-store.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { TestDevice } from "../support/gateway-fixtures.ts";
import { disagreements, NodeProcess } from "./process-harness.ts";
import { Prng } from "./sim/prng.ts";
import { portBase } from "../support/ports.ts";

const churnMs = Number(process.env.CONSENSUS_CHURN_MS ?? 60_000);
const dir = mkdtempSync(join(tmpdir(), "mote-consensus-churn-"));
const nodes: NodeProcess[] = [];
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()));
  rmSync(dir, { recursive: true, force: true });
});

test(`4 gateways, kill -9 one every few seconds for ${churnMs / 1000} s: nothing acknowledged is lost, all end equal`, { timeout: churnMs + 180_000 }, async () => {
  const p2pBase = portBase("processesChurn");
  const udpBase = p2pBase + 5;
  const net = initLocalNetwork({ dir, gateways: 4, devicesOwner: true, params: { blockIntervalMs: 200, epochBlocks: 50 }, basePort: p2pBase });
  const owner = { privateKey: net.owner!.identity.key, publicKey: net.owner!.identity.publicKey, seed: net.owner!.identity.seed };
  const devices = Array.from({ length: 20 }, () => new TestDevice());
  net.genesis.devices = devices.map((d) => ({ publicKey: toHex(d.key.publicKey), owner: net.owner!.id, metadata: { site: "lab" } }));
  writeFileSync(net.genesisPath, JSON.stringify(net.genesis, null, 2));
  for (const g of net.gateways) {
    const others = net.gateways.filter((x) => x !== g).map((x) => p2pBase + x.index);
    nodes.push(new NodeProcess({ dataDir: join(dir, `node-${g.index}`), genesisPath: net.genesisPath, keyPath: g.keyPath, p2pPort: p2pBase + g.index, peers: others, udpPort: udpBase + g.index, trustedOwner: net.owner!.publicKey }));
  }
  await Promise.all(nodes.map((n) => n.start()));
  const clients = await Promise.all(nodes.map((n) => TestCoapClient.open(n.args.udpPort!)));
  for (const c of clients) for (const d of devices) expect((await c.request({ method: "POST", path: "e", payload: d.enrollment(owner), contentFormat: contentFormat.cbor })).code).toMatch(/^2\./);

  // Devices: each has a home gateway but sends 20% of its readings through another, and keeps a
  // reading until some gateway acknowledges it, failing over to another gateway when one does not
  // answer. Readings of one device thus reach the chain out of order and through every gateway.
  const acked: { device: TestDevice; sequence: number; digest: Uint8Array }[] = [];
  let stopLoad = false;
  const roam = new Prng(process.pid + 1);
  const load = devices.map(async (d, i) => {
    const home = i % nodes.length;
    while (!stopLoad) {
      const sequence = d.nextSequence++;
      const bytes = d.reading(20 + (sequence % 10), sequence);
      let via = roam.int(0, 4) === 0 ? roam.int(0, nodes.length - 1) : home;
      while (!stopLoad) {
        const client = clients[via];
        const reply = await client.request({ method: "POST", path: "r", payload: bytes, contentFormat: contentFormat.coseSign1 }, 1500).catch(() => undefined);
        if (reply && reply.code.startsWith("2.")) {
          acked.push({ device: d, sequence, digest: readingDigest(bytes) });
          break;
        }
        via = (via + 1 + roam.int(0, nodes.length - 2)) % nodes.length; // fail over
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  // Chaos: one validator down at a time, for 1–2.5 s, every ~4 s.
  const prng = new Prng(process.pid);
  const kills: number[] = [];
  const until = Date.now() + churnMs;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, prng.int(2000, 4000)));
    const victim = prng.int(0, nodes.length - 1);
    kills.push(victim);
    await nodes[victim].kill9();
    await new Promise((r) => setTimeout(r, prng.int(1000, 2500)));
    await nodes[victim].start();
    nodes[victim].restarts++;
  }
  stopLoad = true;
  await Promise.all(load);

  // Settle: every gateway's pending readings on chain, then every node at one common height.
  const deadline = Date.now() + 90_000;
  let settledHeight: number;
  for (;;) {
    const statuses = await Promise.all(nodes.map((n) => n.status()));
    const pending = statuses.reduce((s, x) => s + (x.pending as number), 0);
    const tips = statuses.map((x) => x.tip as number);
    settledHeight = Math.min(...tips);
    if (pending === 0 && settledHeight >= Math.max(...tips) - 0 && new Set(statuses.map((x) => x.stateRoot)).size === 1) break;
    if (Date.now() > deadline) throw new Error(`not settled: pending ${pending}, tips ${tips.join(",")}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  // Blocks keep coming until each node has stopped, so one may stop a height or two past the
  // others: stores are compared at the lowest tip, which is at least the settled height.
  await Promise.all(nodes.map((n) => n.stop()));

  expect(disagreements(nodes)).toEqual([]);
  const commonHeight = Math.min(
    ...nodes.map((n) => {
      const store = ChainStore.open(n.args.dataDir, { readonly: true });
      const h = store.tip()!.height;
      store.close();
      return h;
    }),
  );
  expect(commonHeight).toBeGreaterThanOrEqual(settledHeight);
  const roots = new Set<string>();
  let missing = 0;
  let dropped = 0;
  for (const n of nodes) {
    // Custody: no acknowledged reading left the pending set except by being included.
    const pending = new Database(join(n.args.dataDir, pendingStoreFile), { readonly: true });
    const rejected = pending.prepare("SELECT rejected FROM readings WHERE rejected IS NOT NULL").pluck().all() as string[];
    for (const r of rejected) console.log(`node ${n.args.dataDir}: pending row dropped: ${r}`);
    dropped += rejected.length;
    pending.close();
    const store = ChainStore.open(n.args.dataDir, { readonly: true });
    roots.add(`${commonHeight}/${toHex(store.block(commonHeight)!.hash)}`);
    const index = new IndexWriter(store.db);
    for (const a of acked) {
      const r = index.reading(a.device.deviceId, a.sequence);
      if (!r || Buffer.compare(r.digest, a.digest) !== 0) missing++;
    }
    store.close();
  }
  const synced = nodes.map((n) => n.synced);
  console.log(`churn: ${kills.length} kill -9 (${kills.join(",")}), ${acked.length} readings acknowledged, ${missing} missing, ${dropped} dropped from a pending store, final ${[...roots].join(" ")}, heights taken by block sync per node ${synced.join(",")}`);
  expect(acked.length).toBeGreaterThan(100);
  expect(missing).toBe(0);
  expect(dropped).toBe(0);
  expect(roots.size).toBe(1);
  for (const i of new Set(kills)) expect(nodes[i].synced).toBeGreaterThan(0); // the restarted caught up by sync
  for (const c of clients) c.close?.();
});
