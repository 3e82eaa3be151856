// /v1/health of a chain-running gateway reports readings that do not reach the chain: a chain that
// stopped finalizing while acknowledged readings wait is "degraded" (CHAIN_STALLED), and an idle
// chain with nothing waiting is not. The API's ingest status is wired as GatewayNode wires it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiServer } from "../../gateway/api/index.ts";
import type { ChainProgress } from "../../gateway/ingest/backlog.ts";
import { startTestNet, type TestNet } from "./net.ts";

let net: TestNet;

beforeAll(async () => {
  net = await startTestNet({ boards: 1 });
});
afterAll(() => net?.close());

async function healthAt(offsetMs: number) {
  const gw = net.gateway.gw;
  const ingest = { snapshot: () => gw.snapshot(), pendingReadings: () => gw.backlog.pending(), healthReasons: (c: ChainProgress) => gw.healthReasons(c) };
  // Clock ahead by less than headStaleMs (60 s), more than 10 block intervals (1 s each).
  const api = await createApiServer({ chain: net.chain, mempool: net.mempool, consensus: net.consensus, ingest, clock: () => Date.now() + offsetMs });
  try {
    const r = await api.app.inject({ method: "GET", url: "/v1/health" });
    return { status: r.statusCode, body: r.json() };
  } finally {
    await api.close();
  }
}

describe("/v1/health and the readings backlog", () => {
  it("is degraded with CHAIN_STALLED when readings wait and no block was finalized for 10 block intervals", async () => {
    await net.send([20, 21, 22]);
    const h = await healthAt(30_000);
    expect(h.status).toBe(503);
    expect(h.body.status).toBe("degraded");
    expect(h.body.pendingReadings).toBe(3);
    expect(h.body.reasons).toEqual([expect.stringMatching(/^CHAIN_STALLED: no block finalized for \d+ s \(10 block intervals\) while 3 readings wait$/)]);
  });

  it("is ok once the chain has included them, however old the head", async () => {
    const gw = net.gateway.gw;
    // What the chain's drain does once a finalized block holds them (kept apart from block production).
    gw.store.markIncluded(gw.store.takeBatch(100).map((r) => r.id), net.chain.head().height);
    await new Promise((r) => setTimeout(r, gw.config.ingest.backlogRefreshMs + 20));
    const h = await healthAt(30_000);
    expect(h.body.reasons).toEqual([]);
    expect(h.status).toBe(200);
  });
});
