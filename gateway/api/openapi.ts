// The OpenAPI 3.1 document, generated from the same route descriptions fastify validates with
// (route-spec.ts) and the response schemas (schemas.ts). Served at GET /openapi.json and written
// to docs/openapi.json by `tsx gateway/api/write-openapi.ts`.
import type { RouteSpec } from "./route-spec.ts";
import { componentSchemas } from "./schemas.ts";

export const apiVersion = "1.0.0";

/** Fastify's `:name` path parameters become OpenAPI's `{name}`. */
const openapiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

type Schema = Record<string, unknown>;

function parameters(where: "path" | "query", schema: Schema | undefined): Schema[] {
  const props = (schema?.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema?.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === "path" || required.has(name), ...(description !== undefined && { description }), schema: rest };
  });
}

export function openApiDocument(specs: RouteSpec[]): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const s of specs) {
    if (s.hidden) continue;
    const path = openapiPath(s.url);
    const responses = Object.fromEntries(
      Object.entries(s.responses).map(([code, r]) => [code, { description: r.description, ...(r.schema && { content: { [r.contentType ?? "application/json"]: { schema: r.schema } } }) }]),
    );
    paths[path] ??= {};
    paths[path][s.method.toLowerCase()] = {
      operationId: s.operationId,
      summary: s.summary,
      ...(s.description && { description: s.description }),
      tags: [s.tag],
      parameters: [...parameters("path", s.params), ...parameters("query", s.querystring)],
      ...(s.body && { requestBody: { required: true, content: { "application/json": { schema: s.body } } } }),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Moteledger gateway API",
      version: apiVersion,
      description:
        "A gateway's view of the Moteledger chain: finalized blocks, transactions, validators, devices and their signed readings with provenance, transaction submission and a live event stream. Byte strings are lowercase hex, amounts decimal strings, times Unix milliseconds. Every error is `{ error: { code, message } }` with a 4xx (or 503) status. Lists are paged: pass a response's `next` as `cursor`.",
      license: { name: "see the repository" },
    },
    tags: [
      { name: "chain", description: "head, finality and consensus progress" },
      { name: "blocks", description: "the block explorer" },
      { name: "transactions", description: "look up and submit transactions" },
      { name: "validators", description: "DPoS validators, candidates, accounts" },
      { name: "devices", description: "devices, readings and provenance" },
      { name: "contracts", description: "WebAssembly contracts: their state, events, storage with proofs, and gas" },
      { name: "payloads", description: "off-chain payloads by SHA-256, anchored by signed readings, with their proof chain (docs/payloads.md)" },
      { name: "sql", description: "read-only SQL over the index, with proofs (docs/sql.md)" },
      { name: "operations", description: "health, metrics, events, this document" },
    ],
    paths,
    components: { schemas: componentSchemas },
  };
}
