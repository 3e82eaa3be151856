// Operations and robustness: health (ok and degraded), Prometheus metrics fed by real traffic,
// the OpenAPI document (served = the committed file, every route documented), the dashboard's
// static files, JSON 404s, random requests that must never get a 5xx, and slow clients that must
// not hold the gateway.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeReading } from "../../shared/reading.ts";
import { newIdentity } from "../../gateway/chain/keyfile.ts";
import { createApiServer } from "../../gateway/api/index.ts";
import { openApiFile, openApiText } from "../../gateway/api/write-openapi.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { client, expectError } from "./http.ts";
import { startTestNet, type TestNet } from "./net.ts";

let net: TestNet;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  net = await startTestNet({ boards: 2, listen: true, api: { requestTimeoutMs: 1000 } });
  api = client(net.api);
  await net.send([20, 21]);
  net.drain();
});
afterAll(() => net?.close());

describe("health", () => {
  it("is ok while the head advances, and 503 degraded with a reason when it is stale", async () => {
    const ok = await api.get("/v1/health");
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ status: "ok", reasons: [], chainId: "mote-api-test", height: net.chain.head().height, consensus: { mode: "solo", round: 0 }, mempool: { txs: 0, bytes: 0 }, pendingReadings: 0 });
    // The same chain seen from a clock ten minutes ahead: the head is stale.
    const later = await createApiServer({ chain: net.chain, mempool: net.mempool, consensus: net.consensus, clock: () => Date.now() + 600_000 });
    const stale = await later.app.inject({ method: "GET", url: "/v1/health" });
    expect(stale.statusCode).toBe(503);
    expect(stale.json().status).toBe("degraded");
    expect(stale.json().reasons[0]).toMatch(/^HEAD_STALE/);
    await later.close();
  });
});

describe("metrics", () => {
  it("exposes readings in and out, verify failures, mempool, consensus, finality and SQLite timings", async () => {
    // A forged reading for an enrolled device: ingest refuses it (BAD_SIGNATURE).
    const coap = await TestCoapClient.open(net.gateway.port);
    const forged = encodeReading(newIdentity().key, net.boards[0].deviceId, 1000, [{ name: "temp", unit: "Cel", value: 1 }]);
    const refused = await coap.request({ method: "POST", path: "r", payload: forged, contentFormat: 18 });
    expect(refused.code).toBe("4.01");
    await coap.close();
    await api.get(`/v1/devices/${net.boards[0].deviceIdHex}/readings`);
    const r = await net.api.app.inject({ method: "GET", url: "/metrics" });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const value = (line: string) => Number(r.body.split("\n").find((l) => l.startsWith(line + " "))?.slice(line.length + 1));
    expect(value("moteledger_readings_received_total")).toBe(4);
    expect(value("moteledger_readings_finalized_total")).toBe(4);
    expect(value("moteledger_reading_verify_failures_total")).toBe(1);
    expect(value('moteledger_readings_rejected_total{code="BAD_SIGNATURE"}')).toBe(1);
    // A solo gateway meets no peer's batch: the thread-pool verifications of peers' readings are at zero, and exposed.
    expect(value('moteledger_reading_verifications_total{kind="run"}')).toBe(0);
    expect(value('moteledger_reading_verifications_total{kind="joined"}')).toBe(0);
    expect(value("moteledger_mempool_transactions")).toBe(0);
    expect(value('moteledger_readings_settled_total{outcome="included"}')).toBe(4);
    expect(value('moteledger_readings_settled_total{outcome="lost"}')).toBe(0);
    expect(value("moteledger_outbox_transactions")).toBe(0);
    expect(value('moteledger_own_transactions_total{event="signed"}')).toBeGreaterThan(0);
    expect(value("moteledger_chain_height")).toBe(net.chain.head().height);
    expect(value("moteledger_consensus_round")).toBe(0);
    expect(value("moteledger_consensus_height")).toBe(net.chain.head().height + 1);
    expect(value("moteledger_consensus_round_changes_total")).toBe(0);
    expect(value("moteledger_block_finality_seconds_count")).toBe(net.chain.head().height);
    expect(value("moteledger_reading_finality_seconds_count")).toBe(4);
    expect(value('moteledger_sqlite_query_seconds_count{query="readings_by_device"}')).toBeGreaterThanOrEqual(1);
    expect(r.body).toMatch(/moteledger_http_request_seconds_count\{route="\/v1\/devices\/:id\/readings",method="GET",status="200"\} \d+/);
  });
});

describe("OpenAPI document", () => {
  it("is served at /openapi.json, equals the committed docs/openapi.json, and documents every route", async () => {
    const served = await api.get("/openapi.json");
    expect(served.json.openapi).toBe("3.1.0");
    expect(readFileSync(openApiFile, "utf8"), "docs/openapi.json is stale: run npx tsx gateway/api/write-openapi.ts").toBe(openApiText());
    expect(served.json).toEqual(JSON.parse(readFileSync(openApiFile, "utf8")));
    const documented = Object.entries(served.json.paths as Record<string, object>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const mounted = net.api.app
      .printRoutes({ commonPrefix: false })
      .split("\n")
      .filter((l) => l.includes("/"));
    expect(documented.length).toBeGreaterThanOrEqual(16);
    expect(new Set(Object.values(served.json.paths as Record<string, Record<string, { operationId: string }>>).flatMap((o) => Object.values(o).map((x) => x.operationId))).size).toBe(documented.length);
    expect(mounted.length).toBeGreaterThan(0);
  });
});

describe("static dashboard and unknown routes", () => {
  it("serves the dashboard and uPlot with a CSP and ETag, and nothing outside its file table", async () => {
    const root = await net.api.app.inject({ method: "GET", url: "/" });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe("/dashboard/");
    const page = await net.api.app.inject({ method: "GET", url: "/dashboard/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(page.body).toContain("vendor/uPlot.iife.min.js");
    const js = await net.api.app.inject({ method: "GET", url: "/dashboard/vendor/uPlot.iife.min.js" });
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.body).toContain("uPlot");
    const again = await net.api.app.inject({ method: "GET", url: "/dashboard/app.js", headers: { "if-none-match": String((await net.api.app.inject({ method: "GET", url: "/dashboard/app.js" })).headers.etag) } });
    expect(again.statusCode).toBe(304);
    for (const url of ["/dashboard/../package.json", "/dashboard/%2e%2e/package.json", "/dashboard/..%2fpackage.json", "/dashboard/nope.js", "/dashboard/vendor/../../package.json"]) {
      expectError(await api.get(url), 404, "NOT_FOUND");
    }
  });

  it("answers unknown routes and methods with a JSON 404", async () => {
    expectError(await api.get("/v2/head"), 404, "NOT_FOUND");
    expectError(await api.post("/v1/head", {}), 404, "NOT_FOUND");
    const long = await net.api.app.inject({ method: "GET", url: "/v1/devices/" + "a".repeat(5000) });
    expect(long.statusCode).toBe(414);
    expect(long.json().error.code).toBe("URI_TOO_LONG");
  });
});

describe("robustness", () => {
  const segment = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 30, maxLength: 66 }), fc.integer({ min: -10, max: 2 ** 53 }).map(String), fc.constantFrom("..", "%00", "%ff", "€", " ", "?", "#"));
  const query = fc.dictionary(fc.constantFrom("from", "to", "limit", "cursor", "order", "events", "devices", "txLimit", "x"), fc.oneof(fc.string({ maxLength: 30 }), fc.integer().map(String), fc.constant("")), { maxKeys: 4 });
  const templates = ["/v1/blocks", "/v1/blocks/*", "/v1/txs/*", "/v1/accounts/*", "/v1/devices", "/v1/devices/*", "/v1/devices/*/readings", "/v1/devices/*/readings/*", "/v1/head", "/v1/validators", "/v1/consensus"];

  it("no random request gets a 5xx, and every refusal carries the JSON error body", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...templates), segment, segment, query, async (t, a, b, q) => {
        const path = t.replace("*", encodeURIComponent(a)).replace("*", encodeURIComponent(b));
        const qs = new URLSearchParams(q).toString();
        const r = await net.api.app.inject({ method: "GET", url: `${path}${qs ? "?" + qs : ""}` });
        expect(r.statusCode, `${path}?${qs}: ${r.body}`).toBeLessThan(500);
        if (r.statusCode >= 400) expect(JSON.parse(r.body).error.code).toBeTypeOf("string");
      }),
      { numRuns: 400, seed: 42 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.json().map((j) => j), fc.uint8Array({ maxLength: 300 }).map((u) => JSON.stringify({ tx: Buffer.from(u).toString("hex") }))), async (body) => {
        const r = await net.api.app.inject({ method: "POST", url: "/v1/txs", payload: body, headers: { "content-type": "application/json" } });
        expect(r.statusCode, r.body).toBeGreaterThanOrEqual(400);
        expect(r.statusCode, r.body).toBeLessThan(500);
        expect(JSON.parse(r.body).error.code).toBeTypeOf("string");
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("cuts off clients that send a request too slowly, while serving everyone else", async () => {
    const port = Number(new URL(net.url).port);
    const slow = Array.from({ length: 20 }, () => {
      const s = connect(port, "127.0.0.1");
      s.write("POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"tx\":");
      const closed = new Promise<string>((resolve) => {
        let got = "";
        s.on("data", (d) => (got += d.toString()));
        s.on("close", () => resolve(got));
        s.on("error", () => resolve(got));
      });
      return closed;
    });
    const t0 = Date.now();
    const head = await fetch(`${net.url}/v1/head`);
    expect(head.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(500);
    const answers = await Promise.all(slow);
    expect(Date.now() - t0).toBeLessThan(5000);
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 408/);
  });
});
