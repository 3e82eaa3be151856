// Back-pressure instead of false promises (BRIEF §5): a gateway whose readings cannot reach the
// chain keeps what it acknowledged and, past its durable backlog, answers 5.03 with Max-Age. The
// gateway here is ingest only (no chain drains its pending store), over real loopback UDP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { decode } from "../../shared/cbor.ts";
import { option, optionUint } from "../../gateway/coap/message.ts";
import { Backlog, backlogReasons, type BacklogOptions } from "../../gateway/ingest/backlog.ts";
import { ingestDefaults } from "../../gateway/ingest/options.ts";
import { startTestGateway, TestDevice, type TestGateway } from "../support/gateway-fixtures.ts";
import { TestCoapClient, type CoapReply } from "../support/gateway-coap-client.ts";

const backlogReadingsMax = 5;
const backlogRetryAfterS = 7;
const backlogRefreshMs = 50;
const pendingAgeMsMax = 400;

let t: TestGateway;
let client: TestCoapClient;

beforeAll(async () => {
  t = await startTestGateway({ ingest: { backlogReadingsMax, backlogRetryAfterS, backlogRefreshMs, pendingAgeMsMax, rateReadingsPerS: 1000, rateBurst: 1000 } });
  client = await TestCoapClient.open(t.port);
});
afterAll(async () => {
  await client.close();
  await t.stop();
});

const post = (payload: Uint8Array) => client.request({ method: "POST", path: "r", payload, contentFormat: contentFormat.coseSign1 });
const maxAgeOf = (r: CoapReply) => {
  const o = r.options.find((x) => x.number === option.maxAge);
  return o && optionUint(o.value);
};
const health = async () => decode((await client.request({ method: "GET", path: "h" })).payload) as Map<string, unknown>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a gateway whose readings do not reach the chain", () => {
  const devices = [new TestDevice(), new TestDevice()];
  const acknowledged: Uint8Array[] = [];

  it("acknowledges readings up to its backlog, then answers 5.03 BACKLOG_FULL with Max-Age", async () => {
    t.enroll(...devices);
    expect((await health()).get("status")).toBe("ok");
    for (let i = 0; i < backlogReadingsMax; i++) {
      const bytes = devices[i % 2].reading(i);
      const reply = await post(bytes);
      expect(reply.code).toBe("2.01");
      expect(maxAgeOf(reply)).toBeUndefined();
      acknowledged.push(bytes);
    }
    for (const d of devices) {
      const reply = await post(d.reading(99));
      expect(reply.code).toBe("5.03");
      expect(maxAgeOf(reply)).toBe(backlogRetryAfterS);
      expect(reply.payload.toString("utf8")).toMatch(/^BACKLOG_FULL: 5 readings wait for the chain; keep this one, retry in 7 s$/);
    }
    expect(t.gw.snapshot().rejectedBACKLOG_FULL).toBe(2);
  });

  it("keeps every reading it acknowledged pending, and answers their duplicates 2.01", async () => {
    const pending = t.gw.store.takeBatch(100);
    expect(pending.map((r) => Buffer.from(r.cose).toString("hex"))).toEqual(acknowledged.map((b) => Buffer.from(b).toString("hex")));
    expect(pending.every((r) => r.includedHeight === null && r.rejected === null)).toBe(true);
    expect(t.gw.store.pendingCount()).toBe(backlogReadingsMax);
    for (const bytes of acknowledged) expect((await post(bytes)).code).toBe("2.01");
    expect(t.gw.store.allReadings()).toHaveLength(backlogReadingsMax); // the refused ones stored nothing
  });

  it("says so in GET /h: degraded, with the backlog and, once it is old, its age", async () => {
    let h = await health();
    expect(h.get("status")).toBe("degraded");
    expect(h.get("pending")).toBe(backlogReadingsMax);
    expect(h.get("backlogLimit")).toBe(backlogReadingsMax);
    expect((h.get("reasons") as string[]).join("\n")).toMatch(/^BACKLOG_FULL: 5 acknowledged readings wait for the chain \(limit 5\)/m);
    await sleep(pendingAgeMsMax + 100);
    h = await health();
    expect(h.get("oldestPendingAgeMs")).toBeGreaterThan(pendingAgeMsMax);
    expect((h.get("reasons") as string[]).join("\n")).toMatch(/^PENDING_OLD: the oldest pending reading was received \d+ s ago/m);
  });

  it("takes readings again once the chain includes some", async () => {
    const ids = t.gw.store.takeBatch(2).map((r) => r.id);
    t.gw.store.markIncluded(ids, 1); // what the chain's drain does when a block holds them
    await sleep(backlogRefreshMs + 20);
    expect((await post(devices[0].reading(100))).code).toBe("2.01");
    expect((await post(devices[1].reading(100))).code).toBe("2.01");
    expect((await post(devices[1].reading(101))).code).toBe("5.03");
    expect(t.gw.store.pendingCount()).toBe(backlogReadingsMax);
  });
});

describe("Backlog", () => {
  const options: BacklogOptions = { ...ingestDefaults, backlogReadingsMax: 10, backlogRefreshMs: 250 };

  it("counts in SQLite at most once per backlogRefreshMs, adding what it acknowledged since", () => {
    let now = 1_000;
    let counts = 0;
    let stored = 3;
    const b = new Backlog({ pendingCount: () => (counts++, stored), oldestPendingReceivedAtMs: () => 400, lostCount: () => 0 }, options, () => now);
    expect(b.pending()).toBe(3);
    for (let i = 0; i < 1000; i++) b.full(0);
    b.added(4);
    stored = 7;
    expect(b.pending()).toBe(7);
    expect(b.full(2)).toBe(false);
    expect(b.full(3)).toBe(true); // 7 stored + 3 being committed reach the limit
    expect(counts).toBe(1);
    now += 250;
    stored = 2; // the chain included five meanwhile
    expect(b.pending()).toBe(2);
    expect(counts).toBe(2);
    expect(b.status()).toEqual({ pending: 2, limit: 10, full: false, oldestPendingAgeMs: 850, lost: 0 });
  });

  it("reports a chain stalled while readings wait, and not an idle one", () => {
    const chain = { headAgeMs: 12_000, blockIntervalMs: 1_000 };
    const waiting = { pending: 3, limit: 10, full: false, oldestPendingAgeMs: 12_000, lost: 0 };
    expect(backlogReasons(waiting, options, chain)).toEqual(["CHAIN_STALLED: no block finalized for 12 s (10 block intervals) while 3 readings wait"]);
    expect(backlogReasons({ ...waiting, pending: 0, oldestPendingAgeMs: null }, options, chain)).toEqual([]);
    expect(backlogReasons(waiting, options, { ...chain, headAgeMs: 9_000 })).toEqual([]);
    expect(backlogReasons(waiting, options)).toEqual([]);
    expect(backlogReasons({ ...waiting, lost: 2 }, options)).toEqual([expect.stringMatching(/^READINGS_LOST: 2 acknowledged readings/)]);
  });
});
