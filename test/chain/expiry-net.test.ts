// Issue 13 item 1, the must-show, with real parts: three gateways (GatewayNode as `mote gateway start`
// assembles it: chain on SQLite, PBFT over loopback TCP, CoAP on UDP, the HTTP API, payloads) share a
// chain. A device's readings land, one anchoring an off-chain payload that every gateway holds; the
// owner sets a 2-second retention with a signed transaction. Once finalized block time passes it, on
// every gateway: the payload file is gone, the readings' values and COSE bytes are gone from the SQLite
// file, the API shows the readings expired (values null), their provenance still verifies the digest
// with the CLI's client verifier from genesis alone, block hashes and state roots agree across the
// nodes, and each store's state tree still gives its head's root and verifies its whole chain.
import Database from "better-sqlite3";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, expect, test } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { anchorRecords } from "../../shared/payload-anchor.ts";
import { encodeReading } from "../../shared/reading.ts";
import { genesisBlock, readGenesisFile } from "../../gateway/chain/genesis.ts";
import { decodeStoredBody, isPrunedReading, isPrunedTx } from "../../gateway/chain/pruned-body.ts";
import { verifyChain } from "../../gateway/chain/recover.ts";
import { smtRoot } from "../../gateway/chain/smt.ts";
import { ApiClient } from "../../gateway/cli/api-client.ts";
import { submitTx, waitFinalized } from "../../gateway/cli/tx-author.ts";
import { verifyReadingProvenance } from "../../gateway/cli/verify-reading.ts";
import { GatewayNode } from "../../gateway/node/gateway-node.ts";
import { uploadPayload } from "../../gateway/payloads/block1-client.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { untilTrue } from "../support/until.ts";
import { startInProcessPbft } from "../support/in-process-pbft.ts";
import { portBase } from "../support/ports.ts";

const dir = mkdtempSync(join(tmpdir(), "mote-expiry-net-"));
const nodes: GatewayNode[] = [];
afterAll(async () => {
  for (const n of nodes.reverse()) await n.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = (what: string, cond: () => boolean | Promise<boolean>, ms = 60_000) => untilTrue(what, cond, ms, 100);

test("a 2 s retention: payloads and values gone on every gateway, roots unchanged and equal, provenance still verifies the digest", { timeout: 300_000 }, async () => {
  const n = 3;
  const base = portBase("expiryNet");
  const url = (i: number) => `http://127.0.0.1:${base + n + 2 + i}`;
  const { net, device } = await startInProcessPbft({
    dir, gateways: n, basePort: base, params: { blockIntervalMs: 200, epochBlocks: 100_000 }, nodes,
    configFor: (i) => ({ api: { host: "127.0.0.1", port: base + n + 2 + i }, payloads: { peers: [0, 1, 2].filter((j) => j !== i).map(url), fetchRetryMaxMs: 1000 } }),
  });
  await until("every gateway finalizes blocks", () => nodes.every((x) => x.chainParts!.chain.head().height >= 3));
  const deviceHex = toHex(device.deviceId);
  const get = async (i: number, path: string) => fetch(`${url(i)}${path}`, { signal: AbortSignal.timeout(5000) });
  // Polls read each answer's body to its end: an unread body holds its connection until GC, so a
  // minute of polling would leave hundreds open (undici's warning), and that is not what is tested.
  const status = async (i: number, path: string) => {
    const r = await get(i, path);
    await r.arrayBuffer();
    return r.status;
  };

  // Reading 1 anchors a 4 KiB payload (uploaded to gateway 0, fetched by the others); 2 and 3 are plain.
  const payload = randomBytes(4096);
  const digest = toHex(sha256(payload));
  const sent = [
    encodeReading(device.key.privateKey, device.deviceId, 1, [{ name: "temp", unit: "Cel", value: 20 }, ...anchorRecords({ name: "img", digest: sha256(payload), bytes: payload.length, contentFormat: 22 })]),
    encodeReading(device.key.privateKey, device.deviceId, 2, [{ name: "temp", unit: "Cel", value: 21 }]),
    encodeReading(device.key.privateKey, device.deviceId, 3, [{ name: "temp", unit: "Cel", value: 22 }]),
  ];
  const coap = await TestCoapClient.open(nodes[0].ingest.udpAddress!.port);
  for (const r of sent) expect((await coap.request({ method: "POST", path: "r", payload: r, contentFormat: contentFormat.coseSign1 })).code).toBe("2.01");
  await coap.close();
  // What each gateway last answered, named if the wait runs out: which one lacks the reading, at what height.
  let seen = "";
  await until("the readings are final on every gateway", async () => {
    const statuses = await Promise.all(nodes.map((_, i) => status(i, `/v1/devices/${deviceHex}/readings/3`)));
    seen = nodes.map((x, i) => `gateway ${i}: ${statuses[i]} at height ${x.chainParts!.chain.head().height}, ${x.ingest.backlog.pending()} pending`).join("; ");
    return statuses.every((s) => s === 200);
  }).catch((e: Error) => {
    throw new Error(`${e.message}; last seen: ${seen}`);
  });
  const up = await uploadPayload(payload, { host: "127.0.0.1", port: nodes[0].ingest.udpAddress!.port, blockBytes: 1024, ackTimeoutMs: 200, retransmitMax: 8 });
  expect(up.code).toBe("2.01");
  await until("every gateway holds the payload", async () => (await Promise.all(nodes.map((_, i) => status(i, `/v1/payloads/${digest}`)))).every((s) => s === 200));
  const before = (await (await get(1, `/v1/devices/${deviceHex}/readings/2`)).json()) as any;
  expect(before.reading.records).toEqual([expect.objectContaining({ name: "temp", value: 21 })]);

  // The owner's policy: 2 s for all of its devices, a signed transaction like any other.
  const api = new ApiClient(url(0));
  const tx = await submitTx(api, net.owner!.keyPath, { kind: "setRetention", deviceId: null, seconds: 2 });
  await waitFinalized(api, tx.id);

  const provenance = async (i: number, seq: number) => (await (await get(i, `/v1/devices/${deviceHex}/readings/${seq}`)).json()) as any;
  await until("every reading expired on every gateway", async () => {
    for (let i = 0; i < n; i++) for (const seq of [1, 2, 3]) if ((await provenance(i, seq)).reading.expired !== true) return false;
    return true;
  });
  await until("every gateway dropped the payload", async () => (await Promise.all(nodes.map((_, i) => status(i, `/v1/payloads/${digest}`)))).every((s) => s === 404));

  const g = genesisBlock(readGenesisFile(net.genesisPath));
  for (const [i, node] of nodes.entries()) {
    const dataDir = join(dir, `gateway-${net.gateways[i].index}`);
    expect(existsSync(join(dataDir, "payloads", digest)), `gateway ${i} payload file`).toBe(false);
    // The SQLite file itself: no values rows, and the bodies hold digests where the readings were.
    const db = new Database(join(dataDir, "chain.sqlite"), { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) AS n FROM reading_values v JOIN readings r ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos WHERE r.device = ?").get(Buffer.from(device.deviceId))).toEqual({ n: 0 });
      const rows = db.prepare("SELECT seq, height, tx_idx, pos FROM readings WHERE device = ? ORDER BY seq").all(Buffer.from(device.deviceId)) as { seq: number; height: number; tx_idx: number; pos: number }[];
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
      for (const r of rows) {
        const body = decodeStoredBody(new Uint8Array((db.prepare("SELECT body FROM blocks WHERE height = ?").get(r.height) as { body: Buffer }).body));
        const t = body.txs[r.tx_idx];
        expect(isPrunedTx(t) && isPrunedReading(t.readings[r.pos]), `gateway ${i} reading ${r.seq} pruned in its body`).toBe(true);
        const raw = Buffer.from((db.prepare("SELECT body FROM blocks WHERE height = ?").get(r.height) as { body: Buffer }).body);
        expect(raw.includes(Buffer.from(sent[r.seq - 1])), `gateway ${i} reading ${r.seq} bytes gone from the file`).toBe(false);
      }
    } finally {
      db.close();
    }
    // API: expired, values null; provenance verifies the digest from genesis with the CLI's verifier.
    for (const seq of [1, 2, 3]) {
      const p = await provenance(i, seq);
      expect(p.reading).toMatchObject({ expired: true, records: null, cose: null, digest: toHex(sha256(sent[seq - 1])) });
      expect(p.verified, `gateway ${i} reading ${seq} provenance`).toBe(true);
      const report = await verifyReadingProvenance({ provenance: p, genesis: { header: g.header, validators: g.validators } });
      expect(report).toMatchObject({ digest: toHex(sha256(sent[seq - 1])), expired: true, sequence: seq });
    }
    // The batch that held them: its bytes are gone (410), its id and result stay in the index.
    const gone = await get(i, `/v1/txs/${(await provenance(i, 2)).block.txId}`);
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as any).error.code).toBe("TX_PRUNED");
    expect(((await (await get(i, "/v1/health")).json()) as any).reasons.filter((r: string) => r.startsWith("EXPIRY"))).toEqual([]);
    const list = (await (await get(i, `/v1/devices/${deviceHex}/readings?limit=10`)).json()) as any;
    expect(list.items.map((r: any) => [r.sequence, r.expired, r.records])).toEqual([[1, true, null], [2, true, null], [3, true, null]]);
    // Pruning is not state: the tree gives the head's root, and the whole stored chain verifies.
    const chain = node.chainParts!.chain;
    expect(toHex(smtRoot(chain.store))).toBe(toHex(chain.head().header.stateRoot));
    expect(verifyChain(chain.store)).toBeGreaterThan(3);
    expect(chain.expiry.stats.failures).toBe(0);
  }
  // Same blocks, same state roots on every node, up to the lowest head.
  const low = Math.min(...nodes.map((x) => x.chainParts!.chain.head().height));
  for (let h = 1; h <= low; h++) {
    const [first, ...rest] = nodes.map((x) => x.chainParts!.chain.store.block(h)!);
    for (const b of rest) expect(toHex(b.header), `block ${h}`).toBe(toHex(first.header));
  }
});
