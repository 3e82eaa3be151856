// Transaction submission and lookup: signed bytes as hex or base64 into the mempool, the chain's
// refusals as 4xx with their codes, and every malformed request (bad JSON, wrong media type,
// oversize bodies, bad encodings) refused without reaching the mempool.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { signTx, txVersion, type TxBody } from "../../shared/tx.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { client, expectError } from "./http.ts";
import { startTestNet, type TestNet } from "./net.ts";

let net: TestNet;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  net = await startTestNet({ boards: 2, mempool: { txsMax: 4 } });
  api = client(net.api);
});
afterAll(() => net?.close());

function tx(who: Identity, nonce: number, body: TxBody, fee = 1n, chainId = "mote-api-test"): Uint8Array {
  return signTx(who.key, chainId, { version: txVersion, author: who.publicKey, nonce, fee, body });
}
const transfer = (amount: bigint, to = net.users[1].id): TxBody => ({ kind: "transfer", to, amount });
const hexBody = (bytes: Uint8Array) => ({ tx: toHex(bytes) });

describe("POST /v1/txs", () => {
  it("admits a signed transfer (hex), shows it pending, then finalized in its block", async () => {
    const alice = net.users[0];
    const bytes = tx(alice, 0, transfer(250n));
    const r = await api.post("/v1/txs", hexBody(bytes));
    expect(r.status).toBe(202);
    expect(r.json.status).toBe("pending");
    const id = r.json.id as string;
    const pending = await api.get(`/v1/txs/${id}`);
    expect(pending.json).toMatchObject({ id, kind: "transfer", status: "pending", author: toHex(alice.id), nonce: 0, fee: "1", body: { to: toHex(net.users[1].id), amount: "250" } });
    expect((await api.get(`/v1/accounts/${toHex(alice.id)}`)).json.nextNonce).toBe(1);
    const block = net.producer.produce();
    const done = await api.get(`/v1/txs/${id}`);
    expect(done.json).toMatchObject({ id, status: "finalized", height: block.head.height, index: 0 });
    expect((await api.get(`/v1/accounts/${toHex(net.users[1].id)}`)).json.balance).toBe("100250");
    // Submitting it again: already on chain.
    expectError(await api.post("/v1/txs", hexBody(bytes)), 409, "TX_FINALIZED");
  });

  it("accepts base64, and refuses a duplicate of a pending transaction with 409", async () => {
    const bytes = tx(net.users[0], 1, transfer(5n));
    const r = await api.post("/v1/txs", { tx: Buffer.from(bytes).toString("base64"), encoding: "base64" });
    expect(r.status).toBe(202);
    expectError(await api.post("/v1/txs", hexBody(bytes)), 409, "TX_DUPLICATE");
    net.producer.produce();
  });

  it("refuses what the chain would refuse with 422 and the chain's code", async () => {
    const bob = net.users[1];
    expectError(await api.post("/v1/txs", hexBody(tx(bob, 7, transfer(1n, net.users[0].id)))), 422, "TX_BAD_NONCE");
    expectError(await api.post("/v1/txs", hexBody(tx(bob, 0, transfer(1n, net.users[0].id), 0n))), 422, "TX_FEE_TOO_LOW");
    expectError(await api.post("/v1/txs", hexBody(tx(bob, 0, transfer(10n ** 12n, net.users[0].id)))), 422, "TX_INSUFFICIENT_FUNDS");
    expectError(await api.post("/v1/txs", hexBody(tx(bob, 0, transfer(1n, net.users[0].id), 1n, "another-chain"))), 422, "TX_BAD_SIGNATURE");
    const forged = tx(bob, 0, transfer(1n, net.users[0].id));
    forged[forged.length - 1] ^= 1;
    expectError(await api.post("/v1/txs", hexBody(forged)), 422, "TX_BAD_SIGNATURE");
    expect(net.mempool.size).toBe(0);
  });

  it("answers 503 with Retry-After when the mempool is full", async () => {
    const [u0, u1] = net.users;
    const n0 = net.mempool.nextNonce(u0.id);
    const n1 = net.mempool.nextNonce(u1.id);
    for (let i = 0; i < 2; i++) expect((await api.post("/v1/txs", hexBody(tx(u0, n0 + i, transfer(1n, u1.id))))).status).toBe(202);
    for (let i = 0; i < 2; i++) expect((await api.post("/v1/txs", hexBody(tx(u1, n1 + i, transfer(1n, u0.id))))).status).toBe(202);
    const r = await api.post("/v1/txs", hexBody(tx(net.owner, 0, transfer(1n, u0.id))));
    expectError(r, 503, "MEMPOOL_FULL");
    expect(r.headers["retry-after"]).toBe("1");
    net.producer.produce();
    expect(net.mempool.size).toBe(0);
  });

  it("refuses bytes that are not a transaction, and text that is not hex or base64, with 400", async () => {
    expectError(await api.post("/v1/txs", { tx: "00ff" }), 400, "TX_MALFORMED");
    expectError(await api.post("/v1/txs", { tx: "a0" }), 400, "TX_MALFORMED");
    expectError(await api.post("/v1/txs", { tx: "zz" }), 400, "BAD_ENCODING");
    expectError(await api.post("/v1/txs", { tx: "abc" }), 400, "BAD_ENCODING");
    expectError(await api.post("/v1/txs", { tx: "not base64!", encoding: "base64" }), 400, "BAD_ENCODING");
    expectError(await api.post("/v1/txs", { tx: "abc", encoding: "base64" }), 400, "BAD_ENCODING");
  });

  it("refuses malformed requests: bad JSON, wrong media type, wrong shape, oversize bodies", async () => {
    const json = { "content-type": "application/json" };
    expectError(await api.post("/v1/txs", '{"tx": "00', json), 400, "MALFORMED_JSON");
    expectError(await api.post("/v1/txs", "[1,2", json), 400, "MALFORMED_JSON");
    expectError(await api.post("/v1/txs", "", json), 400);
    expectError(await api.post("/v1/txs", "tx=00", { "content-type": "application/x-www-form-urlencoded" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expectError(await api.post("/v1/txs", "00ff", { "content-type": "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
    expectError(await api.post("/v1/txs", {}), 400, "BAD_REQUEST");
    expectError(await api.post("/v1/txs", { tx: 5 }), 400); // coerced to "5": not hex
    expectError(await api.post("/v1/txs", { tx: null }), 400);
    expectError(await api.post("/v1/txs", { tx: "00ff", extra: true }), 400, "BAD_REQUEST");
    expectError(await api.post("/v1/txs", { tx: "00ff", encoding: "base32" }), 400, "BAD_REQUEST");
    expectError(await api.post("/v1/txs", [hexBody(new Uint8Array(4))]), 400, "BAD_REQUEST");
    expectError(await api.post("/v1/txs", { tx: "ab".repeat(40 << 10) }), 413, "BODY_TOO_LARGE");
    expectError(await api.post("/v1/txs", { tx: "ab".repeat(32_740) }), 400, "BAD_REQUEST"); // under the body limit, over the field's
  });
});

describe("GET /v1/txs/:id", () => {
  it("shows a finalized reading batch with its readings", async () => {
    await net.send([19.5]);
    net.drain();
    const block = (await api.get(`/v1/blocks/${net.chain.head().height}`)).json;
    const batch = block.txs.find((t: { kind: string }) => t.kind === "readingBatch");
    const r = await api.get(`/v1/txs/${batch.id}`);
    expect(r.json).toMatchObject({ kind: "readingBatch", status: "finalized", height: block.height, author: toHex(net.identity.id) });
    expect(r.json.body.attestation).toMatchObject({ gatewayId: toHex(net.identity.id), count: 2 });
    expect(r.json.body.readingsTotal).toBe(2);
    expect(r.json.result).toEqual({ failure: null, readings: ["READING_RECORDED", "READING_RECORDED"] });
    expect(r.json.body.readings.map((x: { deviceId: string }) => x.deviceId).sort()).toEqual(net.boards.map((b) => b.deviceIdHex).sort());
  });

  it("answers 404 for unknown ids and 400 for malformed ones", async () => {
    expectError(await api.get(`/v1/txs/${"00".repeat(32)}`), 404, "TX_NOT_FOUND");
    expectError(await api.get("/v1/txs/1234"), 400, "BAD_REQUEST");
    expectError(await api.get(`/v1/txs/${"zz".repeat(32)}`), 400, "BAD_REQUEST");
  });
});
