// The chain routes over a real one-gateway network: head and finality, consensus progress, the
// block explorer with its pagination, validators and accounts; and every kind of bad request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { client, expectError } from "./http.ts";
import { startTestNet, type TestNet } from "./net.ts";

let net: TestNet;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  net = await startTestNet({ boards: 3 });
  api = client(net.api);
  await net.send([20.5, 21.25]);
  net.drain();
  for (let i = 0; i < 25; i++) net.producer.produce();
  net.api.context.watcher.check();
});
afterAll(() => net?.close());

describe("head, finality and consensus", () => {
  it("GET /v1/head gives the finalized head, its finality latency and the height being decided", async () => {
    const r = await api.get("/v1/head");
    const head = net.chain.head();
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ chainId: "mote-api-test", height: head.height, finalizedHeight: head.height, hash: toHex(head.hash), proposer: toHex(net.identity.id) });
    expect(r.json.finality.mode).toBe("solo");
    expect(r.json.finality.blocks).toBeGreaterThan(0);
    expect(r.json.finality.meanMs).toBeGreaterThanOrEqual(0);
    expect(r.json.consensus).toEqual({ height: head.height + 1, round: 0, proposer: toHex(net.identity.id) });
  });

  it("GET /v1/consensus lists the validators, their votes and who signed the head", async () => {
    const r = await api.get("/v1/consensus");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ mode: "solo", height: net.chain.head().height + 1, round: 0, roundChangesTotal: 0, finalizedHeight: net.chain.head().height });
    expect(r.json.decidedTotal).toBe(net.chain.head().height);
    expect(r.json.validators).toEqual([{ id: toHex(net.identity.id), power: "5000", prepare: false, commit: false, signedHead: true }]);
  });
});

describe("blocks", () => {
  it("lists blocks newest first and pages through all of them exactly once", async () => {
    const head = net.chain.head().height;
    const first = await api.get("/v1/blocks");
    expect(first.json.items[0].height).toBe(head);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const r: { json: { items: { height: number }[]; next: string | null } } = await api.get(`/v1/blocks?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...r.json.items.map((b) => b.height));
      cursor = r.json.next;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: head + 1 }, (_, i) => head - i));
  });

  it("lists a height range in ascending order, page by page", async () => {
    const a = await api.get("/v1/blocks?from=3&to=9&order=asc&limit=4");
    expect(a.json.items.map((b: { height: number }) => b.height)).toEqual([3, 4, 5, 6]);
    expect(a.json.next).toBe("7");
    const b = await api.get(`/v1/blocks?from=3&to=9&order=asc&limit=4&cursor=${a.json.next}`);
    expect(b.json.items.map((x: { height: number }) => x.height)).toEqual([7, 8, 9]);
    expect(b.json.next).toBeNull();
    // Summaries count transactions and readings: block 1 carries the readings of both rounds.
    const one = (await api.get("/v1/blocks?from=1&to=1")).json.items[0];
    expect(one).toMatchObject({ height: 1, txs: 1, readings: 6, certified: true, proposer: toHex(net.identity.id) });
    // A range beyond the head is empty, not an error.
    expect((await api.get("/v1/blocks?from=100000&to=100010")).json).toEqual({ items: [], next: null });
  });

  it("refuses bad ranges and parameters with 400 and a JSON error", async () => {
    expectError(await api.get("/v1/blocks?from=9&to=3"), 400, "BAD_RANGE");
    for (const q of ["limit=0", "limit=100000", "limit=abc", "order=sideways", "from=-1", "to=1.5", "cursor=abc", "cursor=-3", "nonsense=1", "from=99999999999999999999"]) {
      expectError(await api.get(`/v1/blocks?${q}`), 400, "BAD_REQUEST");
    }
  });

  it("shows one block by height or by hash, with its certificate checked", async () => {
    const stored = net.store.block(1)!;
    const byHeight = await api.get("/v1/blocks/1");
    expect(byHeight.status).toBe(200);
    expect(byHeight.json).toMatchObject({ height: 1, hash: toHex(stored.hash), txCount: 1, readings: 6 });
    expect(byHeight.json.txs).toHaveLength(1);
    expect(byHeight.json.txs[0]).toMatchObject({ index: 0, kind: "readingBatch", author: toHex(net.identity.id) });
    expect(byHeight.json.certificate.check).toMatchObject({ present: true, valid: true, quorum: 1, setSize: 1 });
    expect(byHeight.json.certificate.signatures[0].validatorId).toBe(toHex(net.identity.id));
    const byHash = await api.get(`/v1/blocks/${toHex(stored.hash).toUpperCase()}`);
    expect(byHash.json).toEqual(byHeight.json);
    // Block 2 carries block 1's certificate as its lastCommit.
    expect((await api.get("/v1/blocks/2")).json.lastCommit.raw).toBe(byHeight.json.certificate.raw);
    const genesis = await api.get("/v1/blocks/0");
    expect(genesis.json).toMatchObject({ height: 0, certificate: null, lastCommit: null, txCount: 0 });
  });

  it("answers 404 for unknown blocks and 400 for ids that are neither height nor hash", async () => {
    expectError(await api.get("/v1/blocks/99999"), 404, "BLOCK_NOT_FOUND");
    expectError(await api.get(`/v1/blocks/${"ab".repeat(32)}`), 404, "BLOCK_NOT_FOUND");
    for (const id of ["xyz", "-1", "1.5", "ab".repeat(31), "1".repeat(16)]) expectError(await api.get(`/v1/blocks/${id}`), 400, "BAD_REQUEST");
    expectError(await api.get("/v1/blocks/1?txLimit=0"), 400, "BAD_REQUEST");
  });
});

describe("validators and accounts", () => {
  it("GET /v1/validators shows the elected set with stake-weighted votes, the signer of the head and the next proposer", async () => {
    const r = await api.get("/v1/validators");
    expect(r.status).toBe(200);
    const id = toHex(net.identity.id);
    expect(r.json).toMatchObject({ epoch: 0, epochBlocks: 1000, nextEpochAtHeight: 1000, quorum: 1, lastProposer: id, nextProposer: id });
    expect(r.json.validators).toEqual([
      { id, publicKey: toHex(net.identity.publicKey), rank: 0, power: "5000", votes: "5000", selfStake: "5000", endpoint: "127.0.0.1:7401", blocksProduced: net.chain.head().height, signedHead: true, proposing: true },
    ]);
    expect(r.json.candidates).toEqual([expect.objectContaining({ id, elected: true, votes: "5000", jailedUntilEpoch: 0 })]);
  });

  it("GET /v1/accounts/:id gives balance, stake, votes and the next nonce", async () => {
    const user = net.users[0];
    const r = await api.get(`/v1/accounts/${toHex(user.id)}`);
    expect(r.json).toEqual({ id: toHex(user.id), balance: "100000", staked: "0", unbonding: "0", nonce: 0, nextNonce: 0, votes: [] });
    const gw = (await api.get(`/v1/accounts/${toHex(net.identity.id)}`)).json;
    expect(gw).toMatchObject({ staked: "5000", votes: [toHex(net.identity.id)] });
    expect(gw.nonce).toBeGreaterThan(0); // one per batch transaction it signed
    expect((await api.get(`/v1/accounts/${"ff".repeat(16)}`)).json).toMatchObject({ balance: "0", nonce: 0, nextNonce: 0 });
    expectError(await api.get("/v1/accounts/xyz"), 400, "BAD_REQUEST");
    expectError(await api.get(`/v1/accounts/${"00".repeat(32)}`), 400, "BAD_REQUEST");
  });
});
