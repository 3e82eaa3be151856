// The dashboard's static files (gateway/dashboard/, plain HTML/CSS/JS, no build step) and uPlot
// from node_modules, served by the API. Every file is read once at start-up into a fixed table and
// looked up by exact name, so no request path ever reaches the file system (no traversal, no stat
// per request). Served with an ETag so browsers revalidate cheaply, and a CSP that allows only
// this origin.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import type { FastifyReply, FastifyRequest } from "fastify";
import { packageFile } from "../../shared/package-paths.ts";
import { notFound } from "./errors.ts";
import type { RouteSpec } from "./route-spec.ts";

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** Not compiled: served from the source tree by the gateway whether it runs from source or dist/. */
export const dashboardDir = packageFile("gateway/dashboard");

function load(path: string): StaticFile {
  const body = readFileSync(path);
  return { body, type: types[extname(path)] ?? "application/octet-stream", etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` };
}

/** name → file: the dashboard's own files, and uPlot under vendor/. */
export function loadDashboardFiles(dir = dashboardDir): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) if (types[extname(name)]) files.set(name, load(join(dir, name)));
  const uplotDir = join(dirname(createRequire(import.meta.url).resolve("uplot/package.json")), "dist");
  files.set("vendor/uPlot.iife.min.js", load(join(uplotDir, "uPlot.iife.min.js")));
  files.set("vendor/uPlot.min.css", load(join(uplotDir, "uPlot.min.css")));
  return files;
}

const securityHeaders = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export function dashboardRoutes(files: Map<string, StaticFile>): RouteSpec[] {
  const serve = (name: string, req: FastifyRequest, reply: FastifyReply) => {
    const f = files.get(name);
    if (!f) throw notFound("NOT_FOUND", `no dashboard file ${name}`);
    reply.headers({ ...securityHeaders, etag: f.etag, "cache-control": "no-cache" });
    if (req.headers["if-none-match"] === f.etag) return reply.code(304).send();
    return reply.type(f.type).send(f.body);
  };
  const hidden = { tag: "dashboard", hidden: true, responses: { 200: { description: "a file" } } } as const;
  return [
    { ...hidden, method: "GET", url: "/", operationId: "root", summary: "redirect to the dashboard", handler: (_req, reply) => reply.redirect("/dashboard/") },
    { ...hidden, method: "GET", url: "/dashboard", operationId: "dashboardNoSlash", summary: "redirect", handler: (_req, reply) => reply.redirect("/dashboard/") },
    { ...hidden, method: "GET", url: "/dashboard/", operationId: "dashboard", summary: "the dashboard", handler: (req, reply) => serve("index.html", req, reply) },
    {
      ...hidden,
      method: "GET",
      url: "/dashboard/*",
      operationId: "dashboardFile",
      summary: "a dashboard file",
      handler: (req: FastifyRequest<{ Params: { "*": string } }>, reply) => serve(req.params["*"], req, reply),
    },
  ];
}
