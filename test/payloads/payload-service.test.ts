// The payload service over a real chain (SQLite in memory, blocks built and certified by the fixture)
// with fake peers: finalized anchors are indexed (malformed ones anchor nothing), a missing payload is
// asked of the reading's relaying gateway first, a peer serving the wrong bytes is passed over, failed
// rounds back off (1 s, 2 s, 4 s, capped), and the API says missing, then serves the bytes.
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { anchorRecords } from "../../shared/payload-anchor.ts";
import { encodeReading } from "../../shared/reading.ts";
import type { Chain } from "../../gateway/chain/chain.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { PayloadService, payloadServiceDefaults } from "../../gateway/payloads/payload-service.ts";
import { PayloadStore } from "../../gateway/payloads/payload-store.ts";
import { createApiServer, SoloConsensusSource, type ApiServer } from "../../gateway/api/index.ts";
import { buildAndCommit } from "../chain/drive.ts";
import { batchBody, makeFixture, openChain, signed } from "../chain/fixture.ts";
import { tempDir } from "../support/gateway-fixtures.ts";

const f = makeFixture({ gateways: 1, users: 1, devices: 2, label: "payload-service" });
const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
const payload = randomBytes(70_000);
const digest = toHex(sha256(payload));
const relay = f.gateways[0];

let chain: Chain;
let dir: { path: string; remove: () => void };
let now = 1_000_000;
const asked: string[] = [];
let api: ApiServer;

/** Peers: "wrong" serves other bytes, "relay" is the reading's gateway (its /v1/health says so) and is down at first. */
let relayUp = false;
const fakeFetch = (async (input: string | URL) => {
  const url = String(input);
  const [peer, path] = [url.slice(0, url.indexOf("/v1/")), url.slice(url.indexOf("/v1/"))];
  if (path === "/v1/health") return Response.json({ nodeId: peer === "http://relay" ? toHex(relay.id) : "00".repeat(16) }, { status: 503 });
  asked.push(peer);
  if (peer === "http://wrong") return new Response(randomBytes(payload.length));
  if (peer === "http://relay" && relayUp) return new Response(payload);
  return new Response("down", { status: 502 });
}) as typeof fetch;

beforeAll(async () => {
  dir = tempDir("mote-payload-service-");
  ({ chain } = openChain(f));
  const at = (h: number) => f.genesis.genesisTimeMs + h * 1000;
  const [a, b] = f.devices;
  const reading = (d: Identity, seq: number, records: Parameters<typeof encodeReading>[3]) => ({ bytes: encodeReading(d.key, d.id, seq, records), receivedAtMs: at(1) });
  buildAndCommit(
    chain,
    signers,
    [
      signed(f.genesis.chainId, relay, 0, batchBody(relay, [
        reading(a, 1, [{ name: "temp", value: 1 }, ...anchorRecords({ name: "wave", digest: sha256(payload), bytes: payload.length, contentFormat: 42 })]),
        // A malformed anchor (no size record): the chain records the reading, it anchors nothing.
        reading(b, 1, [anchorRecords({ name: "img", digest: randomBytes(32), bytes: 5, contentFormat: 22 })[0]]),
      ])),
    ],
    at(2),
  );
});

afterAll(async () => {
  await api?.close();
  dir?.remove();
});

it("indexes the finalized anchor, asks the relay first, skips wrong bytes, backs off, then stores and serves the payload", async () => {
  const store = new PayloadStore(dir.path);
  const service = new PayloadService(chain, store, pino({ level: "silent" }), { ...payloadServiceDefaults, peers: ["http://wrong", "http://relay"], retryBaseMs: 1000, retryMaxMs: 3000, fetch: fakeFetch }, () => now);
  api = await createApiServer({ chain, mempool: openChain(f).mempool, consensus: new SoloConsensusSource(chain, relay.id), payloads: service });
  await service.poll();
  expect(service.index.digests()).toEqual([digest]);
  expect(service.status(digest).anchors).toMatchObject([{ sequence: 1, name: "wave", bytes: payload.length, contentFormat: 42 }]);
  // Round 1: the relay first (down), then the other peer (wrong bytes): nothing kept, retry in 1 s.
  expect(asked).toEqual(["http://relay", "http://wrong"]);
  expect(store.has(digest)).toBe(false);
  expect(service.status(digest).fetch).toMatchObject({ attempts: 1, nextAttemptMs: now + 1000 });
  const missing = await api.app.inject({ method: "GET", url: `/v1/payloads/${digest}` });
  expect(missing.statusCode).toBe(404);
  expect(missing.json().error.code).toBe("PAYLOAD_MISSING");

  await service.poll();
  expect(asked).toHaveLength(2); // not due yet
  const delays: number[] = [];
  for (let round = 2; round <= 4; round++) {
    now = service.status(digest).fetch!.nextAttemptMs;
    await service.poll();
    delays.push(service.status(digest).fetch!.nextAttemptMs - now);
  }
  expect(delays).toEqual([2000, 3000, 3000]);

  relayUp = true;
  now = service.status(digest).fetch!.nextAttemptMs;
  await service.poll();
  expect(Buffer.from(store.get(digest)!)).toEqual(payload);
  expect(service.missingDigests()).toEqual([]);
  const served = await api.app.inject({ method: "GET", url: `/v1/payloads/${digest}` });
  expect(served.statusCode).toBe(200);
  expect(served.headers["content-type"]).toBe("application/octet-stream");
  expect(Buffer.from(served.rawPayload)).toEqual(payload);
  const proof = (await api.app.inject({ method: "GET", url: `/v1/payloads/${digest}/proof` })).json();
  expect(proof).toMatchObject({ present: true, bytes: payload.length, fetch: null, anchors: [{ gatewayId: toHex(relay.id) }] });
  expect(proof.proofs[0].provenance.verified).toBe(true);
  expect((await api.app.inject({ method: "GET", url: `/v1/payloads/${"ab".repeat(32)}/proof` })).statusCode).toBe(404);
  service.close();
});
