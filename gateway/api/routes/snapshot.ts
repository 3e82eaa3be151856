// GET /v1/snapshot: a consistent copy of this gateway's chain store, for `mote gateway join`
// (gateway/snapshot/). The joining node verifies it from its genesis file and trusts nothing this
// gateway says; this route only copies (serve.ts) and streams.
import { createReadStream } from "node:fs";
import type { FastifyReply } from "fastify";
import { SnapshotError } from "../../snapshot/errors.ts";
import { SnapshotServer } from "../../snapshot/serve.ts";
import type { ApiContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { errorResponse, type RouteSpec } from "../route-spec.ts";

const statusOf = { SNAPSHOT_BUSY: 503, SNAPSHOT_RATE: 429, SNAPSHOT_UNAVAILABLE: 503 } as Record<string, number>;

export function snapshotRoutes(ctx: ApiContext): RouteSpec[] {
  let server: SnapshotServer | undefined; // created on first use: it sweeps stale copies from the data dir
  return [
    {
      method: "GET",
      url: "/v1/snapshot",
      operationId: "getSnapshot",
      tag: "operations",
      summary: "A consistent copy of this gateway's chain store (SQLite), for `mote gateway join`",
      description:
        "The chain file only (blocks, state, indexes), never the node's key, outbox, pending readings or consensus WAL. One copy at a time (503 SNAPSHOT_BUSY) and one per `snapshotIntervalMinMs` (429 SNAPSHOT_RATE). The joining node trusts nothing in it: `mote gateway join` verifies the genesis block, every header's hash link, the epoch walk and the tip's certificate, the state root and rebuilds the indexes before installing it. `X-Mote-Snapshot-Height` is the tip when the copy started (the copy holds at least that height).",
      responses: {
        200: { description: "the SQLite file", contentType: "application/vnd.sqlite3", schema: { type: "string", format: "binary" } },
        429: errorResponse("a snapshot was taken less than snapshotIntervalMinMs ago"),
        503: errorResponse("another snapshot is being sent, or the chain is not in a file"),
      },
      handler: async (_req: never, reply: FastifyReply) => {
        server ??= new SnapshotServer(ctx.chain.store, { intervalMinMs: ctx.options.snapshotIntervalMinMs }, ctx.clock);
        let taken;
        try {
          taken = await server.take();
        } catch (e) {
          if (e instanceof SnapshotError) throw new ApiError(statusOf[e.code] ?? 500, e.code, e.message, e.code === "SNAPSHOT_RATE" ? Math.ceil(ctx.options.snapshotIntervalMinMs / 1000) : undefined);
          throw e;
        }
        ctx.log.info({ bytes: taken.bytes, heightMin: taken.heightMin }, "sending a chain snapshot");
        const stream = createReadStream(taken.path);
        stream.once("close", taken.release);
        reply.header("content-type", "application/vnd.sqlite3").header("content-length", taken.bytes).header("x-mote-snapshot-height", taken.heightMin);
        return reply.send(stream);
      },
    },
  ];
}
