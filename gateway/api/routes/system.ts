// Operations: health, Prometheus metrics, the OpenAPI document and the event stream.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiContext } from "../context.ts";
import { errorResponse, ref, type RouteSpec } from "../route-spec.ts";
import { hex } from "../views.ts";

export function healthView(ctx: ApiContext) {
  const head = ctx.chain.head();
  const c = ctx.consensus.snapshot();
  const nowMs = ctx.clock();
  const headAgeMs = Math.max(0, nowMs - head.header.timeMs);
  const reasons: string[] = [];
  if (headAgeMs > ctx.options.headStaleMs) reasons.push(`HEAD_STALE: no block finalized for ${Math.round(headAgeMs / 1000)} s`);
  reasons.push(...(ctx.ingest?.healthReasons?.({ headAgeMs, blockIntervalMs: ctx.chain.params().blockIntervalMs }) ?? []));
  if (c.behindRetention) reasons.push(`SYNC_BEHIND_RETENTION: peers pruned block ${c.behindRetention.height}, the next this node needs; it cannot sync: stop it and run mote gateway join --replace (docs/expiry.md)`);
  if (ctx.chain.expiry.stats.failing) reasons.push(`EXPIRY_FAILING: pruning expired readings failed ${ctx.chain.expiry.stats.failures} time(s), last: ${ctx.chain.expiry.stats.lastError}`);
  return {
    status: reasons.length ? ("degraded" as const) : ("ok" as const),
    reasons,
    chainId: ctx.chain.chainId,
    nodeId: ctx.nodeId ? hex(ctx.nodeId) : null,
    height: head.height,
    headAgeMs,
    consensus: { mode: c.mode, round: c.round, peersConnected: c.peersConnected ?? null },
    mempool: { txs: ctx.mempool.size, bytes: ctx.mempool.sizeBytes },
    pendingReadings: ctx.ingest?.pendingReadings?.() ?? null,
    streams: ctx.sse.size,
    uptimeS: Math.floor((nowMs - ctx.startedAtMs) / 1000),
  };
}

export function systemRoutes(ctx: ApiContext, openapi: () => object): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/health",
      operationId: "getHealth",
      tag: "operations",
      summary: "Liveness and readiness: 200 when the head advances, 503 (with reasons) when it is stale",
      responses: { 200: { description: "healthy", schema: ref("Health") }, 503: { description: "degraded: see reasons", schema: ref("Health") } },
      handler: (_req, reply) => {
        const h = healthView(ctx);
        reply.code(h.status === "ok" ? 200 : 503);
        return h;
      },
    },
    {
      method: "GET",
      url: "/metrics",
      operationId: "getMetrics",
      tag: "operations",
      summary: "Prometheus metrics (text exposition format 0.0.4)",
      responses: { 200: { description: "metrics", contentType: "text/plain; version=0.0.4", schema: { type: "string" } } },
      handler: async (_req, reply) => {
        const text = await ctx.metrics.text();
        reply.header("content-type", ctx.metrics.contentType);
        return text;
      },
    },
    {
      method: "GET",
      url: "/openapi.json",
      operationId: "getOpenApi",
      tag: "operations",
      summary: "This API's OpenAPI 3.1 document",
      responses: { 200: { description: "the document", schema: { type: "object" } } },
      handler: () => openapi(),
    },
    {
      method: "GET",
      url: "/v1/stream",
      operationId: "streamEvents",
      tag: "operations",
      summary: "Server-sent events: each finalized block (`block`), its readings (`reading`), its contract events (`contract`) and its transactions that may change a device's status (`device`)",
      description:
        "text/event-stream. The event id is the block height: reconnect with Last-Event-ID to receive the blocks missed meanwhile (the last 100 at most). `events` picks event types (default block and reading; add `contract` for contract events, the ContractEvent schema; `device` for revocations, misbehaviour reports and quarantine lifts of a device: {deviceId, txId, kind, height}, then read GET /v1/devices/{id}); `devices` restricts `reading` and `device` events to up to 100 device ids, `contracts` restricts `contract` events to up to 100 contract ids. A client that does not keep up is disconnected. One remote address may hold a few streams (429 beyond), the gateway a bounded number in all (503 beyond).",
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          events: { type: "string", maxLength: 32, description: "comma-separated: block, reading, contract, device" },
          devices: { type: "string", maxLength: 3300, description: "comma-separated device ids (hex)" },
          contracts: { type: "string", maxLength: 3300, description: "comma-separated contract ids (hex)" },
        },
      },
      responses: {
        200: { description: "the stream", contentType: "text/event-stream", schema: { type: "string" } },
        400: errorResponse("unknown event type, device id or contract id"),
        429: errorResponse("this client (remote address) holds the most streams one client may"),
        503: errorResponse("too many open streams"),
      },
      handler: (req: FastifyRequest<{ Querystring: { events?: string; devices?: string; contracts?: string } }>, reply: FastifyReply) => {
        ctx.sse.attach(req, reply, ctx.sse.parse(req.query));
      },
    },
  ];
}
