// Helpers for API tests: requests through fastify's inject (no socket), and a check of every
// successful JSON response against the schema the OpenAPI document gives for that operation,
// so the document cannot drift from what the server sends.
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "vitest";
import type { ApiServer } from "../../gateway/api/index.ts";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>; components: { schemas: Record<string, object> } };

/** Finds the OpenAPI path template a concrete path matches (/v1/blocks/12 → /v1/blocks/{id}). */
function templateOf(doc: Doc, path: string): string | undefined {
  return Object.keys(doc.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(path));
}

export function client(api: ApiServer) {
  const doc = api.openapi as Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: "doc", components: doc.components });
  const checked = new Set<string>();
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();

  async function call(method: "GET" | "POST", url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const r = await api.app.inject({ method, url, payload: payload as string | object | undefined, headers });
    let json: unknown;
    try {
      json = JSON.parse(r.body);
    } catch {
      json = undefined;
    }
    const reply = { status: r.statusCode, headers: r.headers, body: r.body, json };
    checkAgainstDocument(method, url, reply);
    return reply;
  }

  function checkAgainstDocument(method: string, url: string, r: Reply): void {
    const template = templateOf(doc, url.split("?")[0]);
    if (!template) return;
    const op = doc.paths[template][method.toLowerCase()];
    if (!op) return; // a method the path does not have: the generic JSON 404
    const spec = op.responses[String(r.status)];
    expect(spec, `${method} ${url} answered ${r.status}, which the OpenAPI document does not list`).toBeDefined();
    const schema = spec!.content?.["application/json"]?.schema;
    if (!schema || r.json === undefined) return;
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) compiled.set(key, (validate = ajv.compile(rewriteRefs(schema))));
    const ok = validate(r.json);
    expect(ok, `${method} ${url} (${r.status}) does not match its documented schema: ${ajv.errorsText(validate.errors)}`).toBe(true);
    checked.add(`${method} ${template} ${r.status}`);
  }

  return { call, get: (url: string) => call("GET", url), post: (url: string, body: unknown, headers?: Record<string, string>) => call("POST", url, body, headers), checked };
}

/** Points local #/components refs at the registered document. */
function rewriteRefs(schema: object): object {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"doc#/components/'));
}

/** The error body every refusal carries. */
export function expectError(r: Reply, status: number, code?: string): void {
  expect(r.status, r.body).toBe(status);
  expect(r.json?.error?.message, r.body).toBeTypeOf("string");
  if (code) expect(r.json.error.code, r.body).toBe(code);
}
