// The gateway's HTTP API, its dashboard and its metrics, as one fastify server: the one entry
// point the gateway process mounts.
//
//   const consensus = new SoloConsensusSource(chain, identity.id);     // or a PBFT adapter
//   const api = await createApiServer({ chain, mempool, consensus, ingest, log, nodeId });
//   const { url } = await api.listen({ host: "127.0.0.1", port: 8080 });
//   ...
//   await api.close();
//
// Routes are described once (route-spec.ts) and both validated by fastify and documented in
// /openapi.json. Every error leaves as { error: { code, message } }.
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from "fastify";
import { createServer, STATUS_CODES } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { pino } from "pino";
import { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import { BlockReader } from "./block-reader.ts";
import { ChainWatcher } from "./chain-watcher.ts";
import type { ApiContext, ApiDeps } from "./context.ts";
import { ApiError, errorBody } from "./errors.ts";
import { openApiDocument } from "./openapi.ts";
import { apiDefaults, type ApiOptions } from "./options.ts";
import { ChainQueries } from "./queries.ts";
import { mountRoutes, type RouteSpec } from "./route-spec.ts";
import { apiRoutes } from "./routes/index.ts";
import { SseHub } from "./sse.ts";
import { dashboardRoutes, loadDashboardFiles } from "./static-files.ts";

export interface ApiServer {
  readonly app: FastifyInstance;
  readonly metrics: GatewayMetrics;
  readonly context: ApiContext;
  /** The OpenAPI document this server serves. */
  readonly openapi: object;
  listen(at: { host: string; port: number }): Promise<{ host: string; port: number; url: string }>;
  /** Ends event streams, stops watching the chain, closes the listener. Idempotent. */
  close(): Promise<void>;
}

/** Fastify's own refusals, as our codes. */
function fastifyErrorBody(e: FastifyError): { status: number; code: string; message: string } {
  if (e.validation) return { status: 400, code: "BAD_REQUEST", message: `${e.message}; the parameters are documented in /openapi.json` };
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, code: "BODY_TOO_LARGE", message: `${e.message}; send at most the documented size` };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: "send the body as application/json" };
    case "FST_ERR_MAX_PARAM_LENGTH":
      return { status: 414, code: "URI_TOO_LONG", message: "a path segment is longer than any id this API takes" };
    case "FST_ERR_BAD_URL":
      return { status: 400, code: "BAD_URL", message: "the request path is not a valid URL (bad percent-encoding?)" };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, code: "EMPTY_BODY", message: "the JSON body is empty" };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { status: 400, code: "MALFORMED_JSON", message: e.message };
  }
  if (e instanceof SyntaxError || e.statusCode === 400) return { status: 400, code: "MALFORMED_JSON", message: `body is not valid JSON: ${e.message}` };
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return { status: e.statusCode, code: e.code ?? "BAD_REQUEST", message: e.message };
  return { status: 500, code: "INTERNAL", message: "the gateway failed to answer; the error is in its log" };
}

/**
 * Node's HTTP parser refusals, before fastify sees a request: malformed request line or headers,
 * headers over Node's maxHeaderSize, a request not whole within requestTimeoutMs. Fastify's
 * default answers these in its own envelope ({"error":"Bad Request","statusCode":400}).
 */
function clientErrorBody(e: NodeJS.ErrnoException, options: ApiOptions): { status: number; code: string; message: string } {
  if (e.code === "ERR_HTTP_REQUEST_TIMEOUT") return { status: 408, code: "REQUEST_TIMEOUT", message: `the request did not arrive whole within ${options.requestTimeoutMs} ms; send headers and body without pausing` };
  if (e.code === "HPE_HEADER_OVERFLOW") return { status: 431, code: "HEADERS_TOO_LARGE", message: "the request headers exceed 16 KiB; send fewer or shorter headers" };
  return { status: 400, code: "BAD_HTTP", message: `the request is not valid HTTP/1.1 (${e.code ?? "parse error"}); check the request line, headers and Content-Length` };
}

function answerClientError(e: NodeJS.ErrnoException, socket: Socket, options: ApiOptions): void {
  // A reset connection has nobody to answer (Node's own rule, http.Server "clientError").
  if (e.code === "ECONNRESET" || socket.destroyed) return;
  const r = clientErrorBody(e, options);
  const body = JSON.stringify(errorBody(r.code, r.message));
  if (socket.writable) socket.write(`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(e);
}

export async function createApiServer(deps: ApiDeps, overrides: Partial<ApiOptions> = {}): Promise<ApiServer> {
  const options: ApiOptions = { ...apiDefaults, ...overrides };
  const log = deps.log ?? pino({ level: "silent" });
  const clock = deps.clock ?? Date.now;
  const metrics = deps.metrics ?? new GatewayMetrics({ mempool: deps.mempool, chain: deps.chain, consensus: deps.consensus, ingest: deps.ingest });
  const queries = new ChainQueries(deps.chain.store, (q, fn) => metrics.timeSqlite(q, fn));
  const reader = new BlockReader(deps.chain, options.batchCacheTxsMax);
  const watcher = new ChainWatcher({ chain: deps.chain, queries, consensus: deps.consensus, clock, log }, { pollMs: options.headPollMs, replayBlocksMax: options.sseReplayBlocksMax });
  watcher.on((b) => metrics.observeFinalized({ headerTimeMs: b.header.timeMs, receivedAtMs: b.readings.map((r) => r.receivedAtMs), nowMs: b.observedAtMs }));
  const sse = new SseHub(watcher, reader, deps.chain, clock, {
    clientsMax: options.sseClientsMax,
    clientsPerAddressMax: options.sseClientsPerAddressMax,
    clientBufferBytesMax: options.sseClientBufferBytesMax,
    heartbeatMs: options.sseHeartbeatMs,
    replayBlocksMax: options.sseReplayBlocksMax,
    deviceFilterMax: 100,
  });
  const submitTx = deps.submitTx ?? ((bytes: Uint8Array) => deps.mempool.add(bytes, clock()));
  const ctx: ApiContext = { chain: deps.chain, mempool: deps.mempool, consensus: deps.consensus, submitTx, nodeId: deps.nodeId, ingest: deps.ingest, metrics, queries, reader, watcher, sse, options, clock, log, startedAtMs: clock(), firmwareImages: deps.firmwareImages, payloads: deps.payloads };

  // Typed as the default instance: pino's Logger is fastify's base logger at run time.
  const app = Fastify({
    loggerInstance: log.child({ subsystem: "api" }),
    // Per-request lines would drown the gateway's log; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyBytesMax,
    // Errors the router raises before any route (bad URL encoding, overlong path segments).
    frameworkErrors: (e, _req, reply) => {
      const r = fastifyErrorBody(e);
      void (reply as FastifyReply).code(r.status).send(errorBody(r.code, r.message));
    },
    // Errors Node's HTTP parser raises before there is a request at all.
    clientErrorHandler: (e, socket) => answerClientError(e as NodeJS.ErrnoException, socket, options),
    // A request must arrive whole within requestTimeoutMs (408 otherwise); Node checks every
    // 30 s by default, which would let slow-loris connections linger: check every second.
    serverFactory: (handler) =>
      createServer({ requestTimeout: options.requestTimeoutMs, headersTimeout: Math.min(options.requestTimeoutMs, 60_000), connectionsCheckingInterval: 1000, keepAliveTimeout: 5000 }, handler),
    // Unknown query parameters and body fields are refused (a typo must not be silently ignored).
    // Query strings are text, so scalars are coerced; arrays are never unwrapped into objects.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
  }) as unknown as FastifyInstance;

  // JSON is the only request body: a text/plain body gets 415 rather than a confusing schema error.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler((e: FastifyError | ApiError, req, reply) => {
    if (e instanceof ApiError) {
      if (e.retryAfterS !== undefined) reply.header("retry-after", String(e.retryAfterS));
      return reply.code(e.statusCode).send(errorBody(e.code, e.message));
    }
    const r = fastifyErrorBody(e);
    if (r.status >= 500) log.error({ err: e, method: req.method, url: req.url }, "API request failed");
    return reply.code(r.status).send(errorBody(r.code, r.message));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody("NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}; the routes are listed in /openapi.json`)));
  app.addHook("onResponse", async (req, reply) => {
    metrics.observeHttp(req.routeOptions.url ?? "unmatched", req.method, reply.statusCode, reply.elapsedTime / 1000);
  });

  const specs: RouteSpec[] = apiRoutes(ctx, () => document);
  const document = openApiDocument(specs);
  mountRoutes(app, [...specs, ...dashboardRoutes(loadDashboardFiles())]);
  await app.ready();
  watcher.start();

  let closing: Promise<void> | undefined;
  return {
    app,
    metrics,
    context: ctx,
    openapi: document,
    async listen(at) {
      await app.listen({ host: at.host, port: at.port });
      const a = app.server.address() as AddressInfo;
      const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
      return { host: a.address, port: a.port, url: `http://${host}:${a.port}` };
    },
    close() {
      closing ??= (async () => {
        watcher.stop();
        sse.close();
        await app.close();
      })();
      return closing;
    },
  };
}
