// One description per route, used twice: to register it with fastify (request validation from
// its JSON schemas) and to write the OpenAPI document (openapi.ts). The documentation cannot
// drift from what the server checks, because it is the same object.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export type JsonSchema = Record<string, unknown>;

export interface ResponseSpec {
  description: string;
  /** A JSON schema, or a $ref into components.schemas. */
  schema?: JsonSchema;
  /** Default application/json. */
  contentType?: string;
}

export interface RouteSpec {
  method: "GET" | "POST";
  /** Fastify path syntax (/v1/blocks/:id); openapi.ts rewrites it to /v1/blocks/{id}. */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
  bodyLimit?: number;
  responses: Record<number, ResponseSpec>;
  /** Not listed in the OpenAPI document (static files). */
  hidden?: boolean;
  /** `req` is typed by each route from its own schemas (fastify validated them before the call). */
  handler: (req: never, reply: FastifyReply) => unknown;
}

export function mountRoutes(app: FastifyInstance, specs: RouteSpec[]): void {
  for (const s of specs) {
    app.route({
      method: s.method,
      url: s.url,
      bodyLimit: s.bodyLimit,
      schema: { ...(s.params && { params: s.params }), ...(s.querystring && { querystring: s.querystring }), ...(s.body && { body: s.body }) },
      handler: s.handler as (req: FastifyRequest, reply: FastifyReply) => unknown,
    });
  }
}

/** Shared parameter schemas. */
export const hexId = (bytes: number, what: string): JsonSchema => ({ type: "string", pattern: `^[0-9a-fA-F]{${bytes * 2}}$`, description: `${what}: ${bytes} bytes as ${bytes * 2} hex digits` });
export const limitParam = (max: number, dflt: number): JsonSchema => ({ type: "integer", minimum: 1, maximum: max, default: dflt, description: `items per page, 1 to ${max}` });
export const heightParam: JsonSchema = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
export const timeMsParam = (what: string): JsonSchema => ({ type: "integer", minimum: 0, maximum: 8_640_000_000_000_000, description: `${what}, Unix milliseconds` });
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const errorResponse = (description: string): ResponseSpec => ({ description, schema: ref("Error") });
export const page = (item: string): JsonSchema => ({
  type: "object",
  required: ["items", "next"],
  properties: { items: { type: "array", items: ref(item) }, next: { type: ["string", "null"], description: "cursor of the next page (pass as ?cursor=), null on the last page" } },
});
