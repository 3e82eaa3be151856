// The contract routes on a real one-gateway network with contracts enabled (firmware boards →
// UDP → ingest → solo producer → SQLite chain → API): the threshold alarm is deployed and
// configured by signed transactions, the boards' temperatures trigger it, and the API shows the
// contract, its gas, its events (by topic, paged), its storage with state proofs, the contract
// transactions and their runs, and streams its events. Every answer is checked against the
// OpenAPI document (http.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { signTx, txVersion, type TxBody } from "../../shared/tx.ts";
import { minimumFee } from "../../gateway/chain/apply-tx.ts";
import { stateKey } from "../../gateway/chain/keys.ts";
import { verifyStateProof } from "../../gateway/chain/proof.ts";
import { examples, i64le } from "../contracts/contract-fixture.ts";
import { client, expectError } from "./http.ts";
import { startTestNet, type TestNet } from "./net.ts";
import { SseClient } from "./sse-client.ts";

let net: TestNet;
let api: ReturnType<typeof client>;
let alarmId: string;
const txIds: Record<string, string> = {};

async function submit(nonce: number, body: TxBody): Promise<string> {
  const who = net.users[0];
  const bytes = signTx(who.key, net.chain.chainId, { version: txVersion, author: who.publicKey, nonce, fee: minimumFee(body, net.chain.params()), body });
  const r = await api.post("/v1/txs", { tx: toHex(bytes) });
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  return r.json.id as string;
}

beforeAll(async () => {
  const code = await examples();
  net = await startTestNet({ boards: 2, listen: true, params: { contractsEnabled: 1 } });
  api = client(net.api);
  const board = net.boards[0];
  txIds.deploy = await submit(0, { kind: "deployContract", code: code["threshold-alarm"], criteria: [{ kind: "device", deviceId: fromHex(board.deviceIdHex) }], readingGasLimit: 100_000 });
  net.producer.produce();
  alarmId = (await api.get(`/v1/txs/${txIds.deploy}`)).json.body.contractId;
  txIds.fund = await submit(1, { kind: "transfer", to: fromHex(alarmId), amount: 1000n });
  txIds.configure = await submit(2, { kind: "callContract", contractId: fromHex(alarmId), method: "configure", input: i64le(30_000n, 25_000n), gasLimit: 500_000, amount: 0n });
  net.producer.produce();
  // Both boards report; only board 0's readings trigger the alarm: 20 → 31 (alarm) → 24 (clear) → 33 (alarm).
  for (const t of [20, 31, 24, 33]) {
    await net.send([t]);
    net.drain();
  }
}, 120_000);
afterAll(() => net?.close());

describe("contract routes", () => {
  it("GET /v1/txs/:id shows a deployment, a call and a batch's triggered runs", async () => {
    const deploy = (await api.get(`/v1/txs/${txIds.deploy}`)).json;
    expect(deploy).toMatchObject({ kind: "deployContract", status: "finalized", result: { failure: null }, body: { contractId: alarmId, readingGasLimit: 100_000, criteria: [{ kind: "device", deviceId: net.boards[0].deviceIdHex }] } });
    expect(deploy.body.codeBytes).toBeGreaterThan(100);
    const call = (await api.get(`/v1/txs/${txIds.configure}`)).json;
    expect(call).toMatchObject({ kind: "callContract", body: { contractId: alarmId, method: "configure", input: toHex(i64le(30_000n, 25_000n)), gasLimit: 500_000, amount: "0" }, result: { failure: null, runsTotal: 1 } });
    expect(call.result.runs[0]).toMatchObject({ contractId: alarmId, position: null, failure: null, events: [] });
    expect(call.result.runs[0].gasUsed).toBeGreaterThan(0);
    // The last batch: board 0's 33 °C raised the alarm.
    const block = (await api.get(`/v1/blocks/${net.chain.head().height}`)).json;
    const batch = block.txs.find((t: { kind: string }) => t.kind === "readingBatch");
    const tx = (await api.get(`/v1/txs/${batch.id}`)).json;
    expect(tx.result.runs).toHaveLength(1);
    expect(tx.result.runs[0].events[0]).toMatchObject({ topicText: "alarm" });
  });

  it("lists contracts and shows one with its gas, methods, latest runs and a valid record proof", async () => {
    const list = (await api.get("/v1/contracts")).json;
    expect(list.items.map((c: { id: string }) => c.id)).toEqual([alarmId]);
    expect(list.next).toBeNull();
    const c = (await api.get(`/v1/contracts/${alarmId}`)).json;
    expect(c).toMatchObject({ id: alarmId, owner: toHex(net.users[0].id), methods: ["configure"], onReading: true, runs: 5, failedRuns: 0, events: 3, lastRunHeight: net.chain.head().height });
    expect(c.gasUsed).toBe(c.recentRuns.reduce((s: number, r: { gasUsed: number }) => s + r.gasUsed, 0));
    expect(c.record.valid).toBe(true);
    expect(c.record.key).toBe(stateKey.contract(fromHex(alarmId)));
    expect(Number(c.balance)).toBeLessThan(1000); // reading runs paid their gas
    expectError(await api.get(`/v1/contracts/${"00".repeat(16)}`), 404, "CONTRACT_NOT_FOUND");
    expect((await api.get("/v1/contracts/xyz")).status).toBe(400);
  });

  it("pages through events newest first, by topic, and refuses a bad cursor or two topics", async () => {
    const all = (await api.get(`/v1/contracts/${alarmId}/events`)).json;
    expect(all.items.map((e: { topicText: string }) => e.topicText)).toEqual(["alarm", "clear", "alarm"]);
    expect(all.items[0].data.slice(0, 32)).toBe(net.boards[0].deviceIdHex);
    const alarms = (await api.get(`/v1/contracts/${alarmId}/events?topic=alarm&order=asc`)).json;
    expect(alarms.items.map((e: { height: number }) => e.height)).toEqual([all.items[2].height, all.items[0].height]);
    expect((await api.get(`/v1/contracts/${alarmId}/events?topicHex=${toHex(Buffer.from("clear"))}`)).json.items).toHaveLength(1);
    const first = (await api.get(`/v1/contracts/${alarmId}/events?limit=2`)).json;
    expect(first.items).toHaveLength(2);
    const second = (await api.get(`/v1/contracts/${alarmId}/events?limit=2&cursor=${first.next}`)).json;
    expect([...first.items, ...second.items].map((e: { cursor: string }) => e.cursor)).toEqual(all.items.map((e: { cursor: string }) => e.cursor));
    expect(second.next).toBeNull();
    expect((await api.get(`/v1/contracts/${alarmId}/events?cursor=nonsense`)).status).toBe(400);
    expectError(await api.get(`/v1/contracts/${alarmId}/events?topic=a&topicHex=61`), 400, "BAD_TOPIC");
  });

  it("serves storage entries with state proofs that verify, and proves an absent key absent", async () => {
    const page = (await api.get(`/v1/contracts/${alarmId}/storage`)).json;
    const head = net.chain.head();
    expect(page.atHeight).toBe(head.height);
    const byKey = new Map(page.items.map((e: { key: string }) => [e.key, e]));
    const cfg = byKey.get(toHex(Buffer.from("cfg"))) as { value: string; proof: { valid: boolean; value: string; siblings: string[]; terminal: { keyHash: string; valueHash: string } | null } };
    expect(cfg.value).toBe(toHex(i64le(30_000n, 25_000n)));
    expect(cfg.proof.valid).toBe(true);
    // Checked here too, from the answer alone, against the head's header.
    const key = stateKey.contractStorage(fromHex(alarmId), Buffer.from("cfg"));
    const proof = { siblings: cfg.proof.siblings.map(fromHex), terminal: cfg.proof.terminal && { keyHash: fromHex(cfg.proof.terminal.keyHash), valueHash: fromHex(cfg.proof.terminal.valueHash) } };
    expect(verifyStateProof(head.header, key, fromHex(cfg.proof.value), proof)).toBe(true);
    expect(byKey.get(toHex(Buffer.from("s")) + net.boards[0].deviceIdHex)).toMatchObject({ value: toHex(i64le(1n)) }); // in alarm
    const one = (await api.get(`/v1/contracts/${alarmId}/storage/${toHex(Buffer.from("cfg"))}`)).json;
    expect(one).toMatchObject({ key: toHex(Buffer.from("cfg")), value: cfg.value, proof: { valid: true } });
    const absent = (await api.get(`/v1/contracts/${alarmId}/storage/ffff`)).json;
    expect(absent).toMatchObject({ value: null, proof: { value: null, valid: true } });
    const paged = (await api.get(`/v1/contracts/${alarmId}/storage?limit=1`)).json;
    expect(paged.items).toHaveLength(1);
    expect((await api.get(`/v1/contracts/${alarmId}/storage?limit=1&cursor=${paged.next}`)).json.items[0].key).not.toBe(paged.items[0].key);
  });

  it("GET /v1/params gives what a client needs for the least fee", async () => {
    const p = (await api.get("/v1/params")).json;
    expect(p).toMatchObject({ txFee: "1", contractsEnabled: 1 });
    expect(p.gasPerToken).toBeGreaterThan(0);
  });

  it("streams contract events, filtered by contract", async () => {
    const sse = await SseClient.open(`${net.url}/v1/stream?events=contract&contracts=${alarmId}`);
    try {
      await net.send([10]); // board 0 falls to 10 °C: "clear"
      net.drain();
      await sse.waitFor(() => sse.of("contract").length > 0);
      expect(sse.of("contract")).toEqual([expect.objectContaining({ contractId: alarmId, topicText: "clear", height: net.chain.head().height })]);
      expect(sse.events.every((x) => x.event === "contract")).toBe(true);
    } finally {
      sse.destroy();
    }
    expectError(await api.get(`/v1/stream?events=contract&contracts=12`), 400, "BAD_CONTRACTS");
  });
});
