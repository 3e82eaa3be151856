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

describe("a gateway whose chain takes readings slower than they come", () => {
  // Limit: 2 intervals of 100 ms. The chain's drain is played by hand (markIncluded), as above.
  let g: TestGateway;
  let radio: TestCoapClient;
  const device = new TestDevice();
  const send = (payload: Uint8Array) => radio.request({ method: "POST", path: "r", payload, contentFormat: contentFormat.coseSign1 });
  const refresh = () => radio.request({ method: "GET", path: "h" }); // health counts the backlog
  beforeAll(async () => {
    g = await startTestGateway({ ingest: { backlogRefreshMs: 10, backlogWaitBlockIntervals: 2, chainStallBlockIntervals: 100, rateReadingsPerS: 1000, rateBurst: 1000 } }, { blockIntervalMs: () => 100 });
    radio = await TestCoapClient.open(g.port);
    g.enroll(device);
  });
  afterAll(async () => {
    await radio.close();
    await g.stop();
  });

  it("answers new readings 5.03 BACKLOG_BEHIND before verifying them, repeats of acknowledged ones 2.01, and takes readings again once the chain catches up", async () => {
    const acked = Array.from({ length: 6 }, () => device.reading());
    for (const bytes of acked) expect((await send(bytes)).code).toBe("2.01");
    // The chain takes one reading, then (at least 100 ms later) one more: 4 left at ≤ 1 per 100 ms is ≥ 400 ms, past the 200 ms limit.
    const included = g.gw.store.takeBatch(6).map((r) => r.id);
    await sleep(20);
    await refresh();
    g.gw.store.markIncluded(included.slice(0, 1), 1);
    await sleep(20);
    await refresh();
    g.gw.store.markIncluded(included.slice(1, 2), 2);
    await sleep(100);
    await refresh();
    const next = device.reading();
    const forged = device.reading();
    forged[forged.length - 1] ^= 1; // a signature that does not verify: refused for the backlog first, at no verification's cost
    const reply = await send(forged);
    expect(reply.code).toBe("5.03");
    expect(reply.payload.toString("utf8")).toMatch(/^BACKLOG_BEHIND: the chain is behind: readings wait ~\d+\.\d s here \(limit 0\.2 s\); keep this one, retry in \d+ s$/);
    expect(maxAgeOf(reply)).toBeGreaterThanOrEqual(1);
    expect(g.gw.snapshot().rejectedBAD_SIGNATURE).toBeUndefined();
    expect((await send(acked[5])).code).toBe("2.01"); // acknowledged before: the same answer
    const h = decode((await refresh()).payload) as Map<string, unknown>;
    expect(h.get("status")).toBe("degraded");
    expect((h.get("reasons") as string[]).join("\n")).toMatch(/^BACKLOG_BEHIND: 4 acknowledged readings would wait ~\d+ s at the chain's pace/m);
    // The chain takes the rest: nothing waits, so nothing would wait long.
    g.gw.store.markIncluded(included.slice(2), 3);
    await sleep(20);
    await refresh();
    expect((await send(next)).code).toBe("2.01");
    expect((await send(forged)).code).toBe("4.01"); // verified now: its own answer
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
    expect(b.status()).toEqual({ pending: 2, limit: 10, full: false, oldestPendingAgeMs: 850, lost: 0, expectedWaitMs: null, waitLimitMs: null, behind: false });
  });

  it("reports a chain stalled while readings wait, and not an idle one", () => {
    const chain = { headAgeMs: 12_000, blockIntervalMs: 1_000 };
    const waiting = { pending: 3, limit: 10, full: false, oldestPendingAgeMs: 12_000, lost: 0, expectedWaitMs: null, waitLimitMs: null, behind: false };
    expect(backlogReasons(waiting, options, chain)).toEqual(["CHAIN_STALLED: no block finalized for 12 s (10 block intervals) while 3 readings wait"]);
    expect(backlogReasons({ ...waiting, pending: 0, oldestPendingAgeMs: null }, options, chain)).toEqual([]);
    expect(backlogReasons(waiting, options, { ...chain, headAgeMs: 9_000 })).toEqual([]);
    expect(backlogReasons(waiting, options)).toEqual([]);
    expect(backlogReasons({ ...waiting, lost: 2 }, options)).toEqual([expect.stringMatching(/^READINGS_LOST: 2 acknowledged readings/)]);
  });

  /** A backlog on a chain with 200 ms blocks (limit 10 intervals: 2 s; window 10 intervals), counted on every call. */
  const paced = (store: { pending: number }, clock: { now: number }) =>
    new Backlog({ pendingCount: () => store.pending, oldestPendingReceivedAtMs: () => undefined, lostCount: () => 0 }, { ...options, backlogReadingsMax: 10_000, backlogRefreshMs: 0, backlogWaitBlockIntervals: 10, chainStallBlockIntervals: 10 }, () => clock.now, () => 200);

  it("refuses new readings BACKLOG_BEHIND when those waiting would take longer than the limit at the chain's pace", () => {
    const store = { pending: 100 };
    const clock = { now: 0 };
    const b = paced(store, clock);
    expect(b.refusal(0)).toBeUndefined(); // the first count: no pace yet
    for (clock.now = 200; clock.now <= 1_000; clock.now += 200) {
      b.added(50); // 50 arrive per block...
      store.pending += 50 - 50; // ...and the chain takes 50 (250/s)
      expect(b.refusal(0)).toBeUndefined();
    }
    clock.now = 1_000;
    expect(b.expectedWaitMs()).toBe(400); // 100 waiting at 250/s
    clock.now = 1_200;
    b.added(550); // a burst the pace cannot take within 2 s
    store.pending += 550 - 50;
    const refusal = b.refusal(0)!;
    expect(refusal.code).toBe("BACKLOG_BEHIND");
    expect(refusal.coapCode).toBe("5.03");
    expect(refusal.retryAfterS).toBe(1); // 0.4 s past the limit, rounded up to a whole second
    expect(refusal.message).toBe("the chain is behind: readings wait ~2.4 s here (limit 2.0 s); keep this one, retry in 1 s");
    const status = b.status();
    expect(status).toMatchObject({ pending: 600, expectedWaitMs: 2400, waitLimitMs: 2000, behind: true, full: false });
    expect(backlogReasons(status, options)).toEqual(["BACKLOG_BEHIND: 600 acknowledged readings would wait ~2 s at the chain's pace (limit 2 s); new readings get 5.03"]);
    clock.now = 1_400;
    store.pending -= 300; // the chain catches up: 300 at 600 in 1.4 s is 0.7 s
    expect(b.expectedWaitMs()).toBe(700);
    expect(b.refusal(0)).toBeUndefined();
  });

  it("paces a burst after an idle spell by what the chain does with it: time with nothing waiting does not count", () => {
    const store = { pending: 0 };
    const clock = { now: 0 };
    const b = paced(store, clock);
    // Idle, counted now and then (health checks, a stray reading): nothing waits, nothing drains.
    for (; clock.now <= 2_000; clock.now += 200) expect(b.refusal(0)).toBeUndefined();
    clock.now = 2_000;
    b.added(500); // the fleet wakes up together
    store.pending = 500;
    clock.now = 2_200;
    store.pending = 400; // the first block takes 100 of them
    expect(b.refusal(0)).toBeUndefined(); // its span began idle: no pace yet, not a slow one
    clock.now = 2_400;
    store.pending = 300;
    expect(b.expectedWaitMs()).toBe(600); // 100 per 200 ms: 300 waiting take 0.6 s
    expect(b.refusal(0)).toBeUndefined();
  });

  it("tells a device to come back within the pace window at most, however long the wait at the pace it measured", () => {
    const store = { pending: 0 };
    const clock = { now: 0 };
    const b = paced(store, clock);
    b.pending();
    // A chain that takes nothing for a whole window while readings arrive, then 10 of them.
    for (clock.now = 200; clock.now <= 3_000; clock.now += 200) {
      b.added(100);
      store.pending += 100;
      b.pending();
    }
    clock.now = 3_200;
    b.added(100);
    store.pending += 100 - 10;
    const refusal = b.refusal(0)!;
    expect(b.expectedWaitMs()).toBe(349_800); // 1,590 waiting at 10 per 2.2 s (the spans ending inside the window)
    expect(refusal.code).toBe("BACKLOG_BEHIND");
    expect(refusal.retryAfterS).toBe(2); // the window (10 intervals of 200 ms), not 348 s
    expect(refusal.message).toBe("the chain is behind: readings wait ~349.8 s here (limit 2.0 s); keep this one, retry in 2 s");
  });

  it("leaves a stalled chain (no drain in the window) to the count limit, and a gateway without a chain too", () => {
    const store = { pending: 10 };
    const clock = { now: 0 };
    const b = paced(store, clock);
    b.pending();
    for (clock.now = 200; clock.now <= 400; clock.now += 200) {
      store.pending -= 5;
      b.pending();
    }
    clock.now = 400;
    expect(b.expectedWaitMs()).toBe(0);
    // The chain stops; readings keep coming. Behind at first, at the last pace seen (5 in 200 ms)...
    for (clock.now = 600; clock.now <= 2_400; clock.now += 200) {
      b.added(100);
      store.pending += 100;
      b.pending();
    }
    clock.now = 2_400;
    expect(b.expectedWaitMs()).toBe(40_000);
    expect(b.refusal(0)?.code).toBe("BACKLOG_BEHIND");
    // ...and once a whole window (10 intervals) saw no drain, stalled: buffered up to the count limit.
    clock.now = 2_600;
    expect(b.expectedWaitMs()).toBeUndefined();
    expect(b.refusal(0)).toBeUndefined();
    expect(b.refusal(10_000 - store.pending)?.code).toBe("BACKLOG_FULL");
    // A count after a quiet spell: its drain is spread over the window at most, not the whole spell.
    clock.now = 3_600_000;
    store.pending -= 500;
    expect(b.expectedWaitMs()).toBe(2_000);
    const unpaced = new Backlog({ pendingCount: () => store.pending, oldestPendingReceivedAtMs: () => undefined, lostCount: () => 0 }, { ...options, backlogRefreshMs: 0 }, () => clock.now);
    for (let i = 0; i < 3; i++, clock.now += 200, store.pending -= 1) unpaced.pending();
    expect(unpaced.expectedWaitMs()).toBeUndefined();
    expect(unpaced.status()).toMatchObject({ expectedWaitMs: null, waitLimitMs: null, behind: false });
  });
});
