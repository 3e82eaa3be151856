// The event stream over a real HTTP connection: finalized blocks and their readings as they are
// committed, filters, resumption with Last-Event-ID, the stream limit, and bad parameters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseClient } from "./sse-client.ts";
import { startTestNet, type TestNet } from "./net.ts";

let net: TestNet;
const clients: SseClient[] = [];
const open = async (query = "", headers: Record<string, string> = {}) => {
  const c = await SseClient.open(`${net.url}/v1/stream${query}`, headers);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  net = await startTestNet({ boards: 2, listen: true, api: { sseClientsMax: 4, sseHeartbeatMs: 200 } });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await net?.close();
});

type BlockEvent = { height: number; hash: string; readings: number; txs: number; finalityMs: number };
type ReadingEvent = { deviceId: string; sequence: number; height: number; records: { name: string; value: number }[] };

describe("GET /v1/stream", () => {
  it("sends each finalized block and its readings as they are committed", async () => {
    const all = await open();
    expect(all.response.statusCode).toBe(200);
    expect(all.response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const sent = await net.send([18.25, 18.5]);
    const block = net.producer.produce();
    await all.waitFor(() => all.of("reading").length === sent.length);
    const blocks = all.of("block") as BlockEvent[];
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ height: block.head.height, readings: 4, txs: 1 });
    expect(blocks[0].finalityMs).toBeLessThan(1000); // pushed by the producer, not polled
    const readings = all.of("reading") as ReadingEvent[];
    expect(readings.map((r) => `${r.deviceId}/${r.sequence}=${r.records[0].value}`).sort()).toEqual(sent.map((s) => `${s.board.deviceIdHex}/${s.sequence}=${s.value}`).sort());
    expect(all.events.every((e) => e.id === String(block.head.height))).toBe(true);
    // Idle streams get keep-alive comments.
    await all.waitFor(() => all.comments > 0, 2000);
  });

  it("filters by event type and by device", async () => {
    const blocksOnly = await open("?events=block");
    const one = net.boards[1];
    const deviceOnly = await open(`?events=reading&devices=${one.deviceIdHex.toUpperCase()}`);
    await net.send([17]);
    const block = net.producer.produce();
    await blocksOnly.waitFor(() => blocksOnly.of("block").length === 1);
    await deviceOnly.waitFor(() => deviceOnly.of("reading").length === 1);
    net.producer.produce(); // an empty block: nothing for the device stream
    await blocksOnly.waitFor(() => blocksOnly.of("block").length === 2);
    expect(blocksOnly.of("reading")).toEqual([]);
    expect(deviceOnly.of("block")).toEqual([]);
    expect(deviceOnly.of("reading")).toEqual([expect.objectContaining({ deviceId: one.deviceIdHex, height: block.head.height, records: [expect.objectContaining({ value: 17 })] })]);
    blocksOnly.destroy();
    deviceOnly.destroy();
  });

  it("replays the blocks a reconnecting client missed (Last-Event-ID)", async () => {
    const from = net.chain.head().height;
    for (let i = 0; i < 3; i++) net.producer.produce();
    const c = await open("?events=block", { "last-event-id": String(from) });
    await c.waitFor(() => c.of("block").length === 3);
    expect((c.of("block") as BlockEvent[]).map((b) => b.height)).toEqual([from + 1, from + 2, from + 3]);
    c.destroy();
  });

  it("refuses unknown event types and device ids with 400, and streams beyond the limit with 503", async () => {
    for (const q of ["?events=blocks", "?devices=xyz", `?devices=${"ab".repeat(16)},nope`, "?other=1"]) {
      const r = await fetch(`${net.url}/v1/stream${q}`);
      expect(r.status, q).toBe(400);
      expect((await r.json()).error.code).toMatch(/BAD_/);
    }
    for (const c of clients) c.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const held = await Promise.all([open(), open(), open(), open()]);
    const refused = await fetch(`${net.url}/v1/stream`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect((await refused.json()).error.code).toBe("STREAMS_FULL");
    held[0].destroy();
    await new Promise((r) => setTimeout(r, 50));
    const again = await open();
    expect(again.response.statusCode).toBe(200);
  });
});
