// Server-sent events (WHATWG HTML §9.2) of finalized blocks, their readings and contract events:
//
//   GET /v1/stream?events=block,reading,contract,device&devices=<id>,<id>&contracts=<id>,<id>
//   id: <height>            event: block | reading | contract            data: <JSON>
//
// The event id is the block height, so a client that reconnects with Last-Event-ID gets the
// blocks it missed (up to sseReplayBlocksMax). Limits: sseClientsPerAddressMax streams per remote
// address (429 beyond: one client holding idle streams must not take every dashboard offline),
// sseClientsMax streams in all (503 beyond), and a client whose unsent data exceeds
// sseClientBufferBytesMax is dropped rather than buffered without bound; it reconnects and
// resumes from Last-Event-ID.
import type { ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { BlockReader } from "./block-reader.ts";
import type { ChainWatcher, FinalizedBlock } from "./chain-watcher.ts";
import { ApiError, badRequest } from "./errors.ts";
import { deviceStatusTxKinds, type ReadingIndexRow } from "./queries.ts";
import { indexedEventView } from "./contract-views.ts";
import { hex, readingView } from "./views.ts";

export type StreamEvent = "block" | "reading" | "contract" | "device";
const streamEvents: readonly StreamEvent[] = ["block", "reading", "contract", "device"];

interface Client {
  res: ServerResponse;
  /** The remote address the per-client limit counts by (fastify's req.ip). */
  address: string;
  events: Set<StreamEvent>;
  /** Hex device ids whose readings this client wants; null: all devices. */
  devices: Set<string> | null;
  /** Hex contract ids whose events this client wants; null: all contracts. */
  contracts: Set<string> | null;
}

export interface SseOptions {
  clientsMax: number;
  clientsPerAddressMax: number;
  clientBufferBytesMax: number;
  heartbeatMs: number;
  replayBlocksMax: number;
  /** Device ids a client may filter on at once. */
  deviceFilterMax: number;
}

export class SseHub {
  private readonly clients = new Set<Client>();
  /** Open streams per remote address; an address leaves the map with its last stream. */
  private readonly perAddress = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly stopWatching: () => void;
  dropped = 0;

  constructor(
    private readonly watcher: ChainWatcher,
    private readonly reader: BlockReader,
    private readonly chain: { head(): { height: number } },
    private readonly clock: () => number,
    private readonly options: SseOptions,
  ) {
    this.stopWatching = watcher.on((b) => this.broadcast(b));
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) this.write(c, ": keep-alive\n\n");
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Open streams from one remote address. */
  streamsOf(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Parses the stream's query; throws ApiError on anything unknown. */
  parse(query: { events?: string; devices?: string; contracts?: string }): Pick<Client, "events" | "devices" | "contracts"> {
    const events = new Set<StreamEvent>();
    for (const e of (query.events ?? "block,reading").split(",")) {
      if (!streamEvents.includes(e as StreamEvent)) throw badRequest("BAD_EVENTS", `unknown event "${e}"; use block, reading, contract, device or several, comma-separated`);
      events.add(e as StreamEvent);
    }
    return { events, devices: this.idFilter(query.devices, "device", "BAD_DEVICES"), contracts: this.idFilter(query.contracts, "contract", "BAD_CONTRACTS") };
  }

  /** A comma-separated list of 16-byte ids (hex), at most deviceFilterMax; null when absent. */
  private idFilter(list: string | undefined, what: string, code: string): Set<string> | null {
    if (!list) return null;
    const ids = list.split(",");
    if (ids.length > this.options.deviceFilterMax) throw badRequest(code, `at most ${this.options.deviceFilterMax} ${what} ids per stream`);
    for (const id of ids) if (!/^[0-9a-fA-F]{32}$/.test(id)) throw badRequest(code, `"${id}" is not a ${what} id (32 hex digits)`);
    return new Set(ids.map((i) => i.toLowerCase()));
  }

  /** Takes over the HTTP response and keeps it open as an event stream. */
  attach(req: FastifyRequest, reply: FastifyReply, filter: Pick<Client, "events" | "devices" | "contracts">): void {
    const address = req.ip;
    if (this.streamsOf(address) >= this.options.clientsPerAddressMax)
      throw new ApiError(429, "TOO_MANY_STREAMS", `${address} has ${this.options.clientsPerAddressMax} streams open already, the most one client may; close one (a dashboard tab needs one) and retry`, 5);
    if (this.clients.size >= this.options.clientsMax) throw new ApiError(503, "STREAMS_FULL", `this gateway serves ${this.options.clientsMax} streams at most; retry later`, 5);
    const lastId = req.headers["last-event-id"];
    const resumeFrom = typeof lastId === "string" && /^\d{1,15}$/.test(lastId) ? Number(lastId) + 1 : undefined;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", connection: "keep-alive", "x-accel-buffering": "no" });
    res.socket?.setNoDelay(true);
    const client: Client = { res, address, ...filter };
    this.clients.add(client);
    this.perAddress.set(address, this.streamsOf(address) + 1);
    res.on("close", () => this.remove(client));
    this.write(client, "retry: 2000\n\n");
    if (resumeFrom !== undefined) this.replay(client, resumeFrom);
  }

  private replay(client: Client, from: number): void {
    const head = this.chain.head().height;
    const start = Math.max(from, head - this.options.replayBlocksMax + 1);
    for (let h = start; h <= head; h++) {
      const b = this.watcher.load(h, this.clock());
      if (b) this.send(client, b, this.readingsData(b), this.contractData(b));
    }
  }

  private broadcast(b: FinalizedBlock): void {
    if (this.clients.size === 0) return;
    const readings = [...this.clients].some((c) => c.events.has("reading")) ? this.readingsData(b) : [];
    const contracts = [...this.clients].some((c) => c.events.has("contract")) ? this.contractData(b) : [];
    for (const c of this.clients) this.send(c, b, readings, contracts);
  }

  /** Contract events of a block as SSE data lines, encoded once for every client. */
  private contractData(b: FinalizedBlock): { contractHex: string; line: string }[] {
    return b.contractEvents.map((e) => ({ contractHex: hex(e.contractId), line: `id: ${b.height}\nevent: contract\ndata: ${JSON.stringify(indexedEventView(e))}\n\n` }));
  }

  /** Readings of a block as SSE data lines, decoded once for every client. */
  private readingsData(b: FinalizedBlock): { deviceHex: string; line: string }[] {
    return b.readings.map((row: ReadingIndexRow) => {
      const located = this.reader.reading(row.height, row.txIndex, row.position);
      return { deviceHex: hex(row.deviceId), line: `id: ${b.height}\nevent: reading\ndata: ${JSON.stringify(readingView(row, located?.reading))}\n\n` };
    });
  }

  private send(c: Client, b: FinalizedBlock, readings: { deviceHex: string; line: string }[], contracts: { contractHex: string; line: string }[]): void {
    let out = "";
    if (c.events.has("block")) {
      const data = { height: b.height, hash: hex(b.hash), timeMs: b.header.timeMs, proposer: hex(b.header.proposer), txs: b.txs, readings: b.readings.length, bodyBytes: b.bodyBytes, finalityMs: b.finalityMs };
      out += `id: ${b.height}\nevent: block\ndata: ${JSON.stringify(data)}\n\n`;
    }
    if (c.events.has("reading")) for (const r of readings) if (!c.devices || c.devices.has(r.deviceHex)) out += r.line;
    if (c.events.has("contract")) for (const e of contracts) if (!c.contracts || c.contracts.has(e.contractHex)) out += e.line;
    if (c.events.has("device")) {
      // A transaction that may have changed a device's status: the client reads GET /v1/devices/{id}.
      for (const t of b.deviceTxs) {
        const deviceHex = hex(t.deviceId);
        if (!c.devices || c.devices.has(deviceHex)) out += `id: ${b.height}\nevent: device\ndata: ${JSON.stringify({ deviceId: deviceHex, txId: hex(t.txId), kind: deviceStatusTxKinds.get(t.kind), height: b.height })}\n\n`;
      }
    }
    if (out) this.write(c, out);
  }

  private write(c: Client, text: string): void {
    if (c.res.destroyed) return;
    if (c.res.writableLength > this.options.clientBufferBytesMax) {
      this.dropped++;
      c.res.destroy();
      this.remove(c);
      return;
    }
    c.res.write(text);
  }

  /** Idempotent: a dropped client's "close" event comes after its removal. */
  private remove(c: Client): void {
    if (!this.clients.delete(c)) return;
    const n = this.streamsOf(c.address) - 1;
    if (n > 0) this.perAddress.set(c.address, n);
    else this.perAddress.delete(c.address);
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.stopWatching();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.perAddress.clear();
  }
}
