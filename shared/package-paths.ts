// Where this package's files are, whether the code runs from its TypeScript sources (tsx, vitest)
// or compiled by `npm run build` into dist/, which mirrors the tree (gateway/cli/main.ts becomes
// dist/gateway/cli/main.js). Files that are not compiled (the dashboard's static files,
// device/build/firmware.wasm, the board's C sources) stay where they are in the source tree and are
// found from the package root, the same way from either form.
//
//   packageFile("gateway/dashboard")                 // <root>/gateway/dashboard, from src or dist
//   spawn(process.execPath, nodeArgsFor("gateway/cli/main.ts"))
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** True when this process runs the compiled JavaScript under dist/, false from TypeScript sources. */
export const runsCompiled = !import.meta.url.endsWith(".ts");

const here = dirname(fileURLToPath(import.meta.url)); // <root>/shared or <root>/dist/shared
/** The package's root directory, where package.json is. */
export const packageRoot = join(here, runsCompiled ? "../.." : "..");
/** What `npm run build` writes (tsconfig.build.json's outDir). */
export const compiledDir = join(packageRoot, "dist");
// A misplaced root would only show later as a missing dashboard or firmware: say so now.
if (!existsSync(join(packageRoot, "package.json"))) throw new Error(`package-paths: no package.json in ${packageRoot} (this module is ${here}); dist/ must sit at the package root`);

/** A file of the source tree that the build does not compile, by its path from the package root. */
export function packageFile(path: string): string {
  return join(packageRoot, path);
}

/**
 * Node's arguments to run one of our TypeScript entry points (path from the package root) in the
 * form this process runs in: its compiled dist/…/*.js when this process is compiled (npm start, the
 * `mote` command), its source through tsx's loader otherwise (tests and benches run the sources),
 * so a parent and its children never mix a fresh source with a stale build.
 */
export function nodeArgsFor(sourcePath: string): string[] {
  if (!sourcePath.endsWith(".ts")) throw new Error(`nodeArgsFor: ${sourcePath} is not a TypeScript entry point`);
  if (runsCompiled) return [join(compiledDir, sourcePath.replace(/\.ts$/, ".js"))];
  // tsx resolved from this package, not from the child's working directory.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return ["--import", tsx, join(packageRoot, sourcePath)];
}
