// Writes the API's OpenAPI document to a file (default docs/openapi.json), for readers of the
// repository and for client generators; the gateway serves the same document at /openapi.json,
// and test/api checks the two are equal.
//
//   npx tsx gateway/api/write-openapi.ts [path]
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { ApiContext } from "./context.ts";
import { openApiDocument } from "./openapi.ts";
import { apiDefaults, type ApiOptions } from "./options.ts";
import { apiRoutes } from "./routes/index.ts";

export const openApiFile = "docs/openapi.json";

/** The document for `options`, without a chain: route descriptions need only the options. */
export function openApiFor(options: ApiOptions = apiDefaults): object {
  const specs = apiRoutes({ options } as ApiContext, () => ({}));
  return openApiDocument(specs);
}

export function openApiText(options: ApiOptions = apiDefaults): string {
  return JSON.stringify(openApiFor(options), null, 2) + "\n";
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const path = process.argv[2] ?? openApiFile;
  writeFileSync(path, openApiText());
  console.log(`wrote ${path}`);
}
