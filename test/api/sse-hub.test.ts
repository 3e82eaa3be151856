// The stream's back-pressure rule, without sockets: a client whose unsent data passes the limit is
// dropped (it reconnects and resumes with Last-Event-ID), and the others keep receiving.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { BlockReader } from "../../gateway/api/block-reader.ts";
import type { ChainWatcher, FinalizedBlock } from "../../gateway/api/chain-watcher.ts";
import { SseHub } from "../../gateway/api/sse.ts";

/** Just enough of http.ServerResponse: bytes written and not yet flushed accumulate. */
class FakeResponse extends EventEmitter {
  writableLength = 0;
  destroyed = false;
  ended = false;
  text = "";
  constructor(private readonly flushes: boolean) {
    super();
  }
  writeHead(): void {}
  write(chunk: string): boolean {
    this.text += chunk;
    if (!this.flushes) this.writableLength += chunk.length;
    return true;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit("close");
  }
  end(): void {
    this.ended = true;
  }
}

function block(height: number): FinalizedBlock {
  const z = (n: number) => new Uint8Array(n);
  const header = { version: 1, chainId: "c", height, previousHash: z(32), timeMs: height, proposer: z(16), validatorSetHash: z(32), nextValidatorSetHash: z(32), txRoot: z(32), stateRoot: z(32), lastCommitHash: z(32), resultsRoot: z(32) };
  return { height, hash: z(32), header, txs: 0, bodyBytes: 10, readings: [], contractEvents: [], deviceTxs: [], observedAtMs: height, finalityMs: 1 };
}

describe("SseHub back-pressure", () => {
  it("drops a client that stops reading once its queue passes the limit, and keeps the others", () => {
    let emit: (b: FinalizedBlock) => void = () => {};
    const watcher = { on: (fn: (b: FinalizedBlock) => void) => ((emit = fn), () => {}), load: () => undefined } as unknown as ChainWatcher;
    const hub = new SseHub(watcher, {} as BlockReader, { head: () => ({ height: 0 }) }, Date.now, { clientsMax: 4, clientsPerAddressMax: 4, clientBufferBytesMax: 2000, heartbeatMs: 60_000, replayBlocksMax: 10, deviceFilterMax: 10 });
    const attach = (res: FakeResponse) => hub.attach({ headers: {} } as FastifyRequest, { hijack() {}, raw: res } as unknown as FastifyReply, { events: new Set(["block"]), devices: null, contracts: null });
    const stuck = new FakeResponse(false);
    const healthy = new FakeResponse(true);
    attach(stuck);
    attach(healthy);
    expect(hub.size).toBe(2);
    for (let h = 1; h <= 40; h++) emit(block(h));
    expect(stuck.destroyed).toBe(true);
    expect(hub.dropped).toBe(1);
    expect(hub.size).toBe(1);
    expect(healthy.text.match(/event: block/g)).toHaveLength(40);
    hub.close();
    expect(healthy.ended).toBe(true);
  });
});
