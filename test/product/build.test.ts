// The compiled product (`npm run build` → dist/, which `npm test` builds first): `mote` runs it with
// no TypeScript loader, its imports point at emitted .js files, and the files the build does not
// compile (dashboard, firmware.wasm) are found from the package root whether the code runs from
// dist/ or from its sources. Start times are measured by `npm run bench:cli`, not here: on a shared
// machine a time limit would fail for reasons that are not the code's.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import * as source from "../../shared/package-paths.ts";

const root = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
const dist = join(root, "dist");

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(join(dir, e.name)) : /\.m?js$/.test(e.name) ? [join(dir, e.name)] : []));
}

beforeAll(() => {
  if (!existsSync(join(dist, "gateway", "cli", "main.js"))) throw new Error("dist/ is not built: run `npm run build` (npm test does it first)");
});

describe("npm run build", () => {
  it("emits JavaScript whose relative imports all name emitted files, the devnet's .mjs preloads included", () => {
    // Only outputs whose source still exists: the build never deletes what a removed source left.
    const files = jsFiles(dist).filter((f) => existsSync(join(root, f.slice(dist.length + 1).replace(/\.js$/, ".ts"))) || f.endsWith(".mjs"));
    expect(files.length).toBeGreaterThan(100);
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)"(\.{1,2}\/[^"]+)"/g)) {
        const target = resolve(dirname(file), m[1]);
        if (m[1].endsWith(".ts") || !existsSync(target)) broken.push(`${file.slice(root.length + 1)} → ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
    expect(existsSync(join(dist, "gateway", "devnet", "exit-with-parent.mjs"))).toBe(true);
    expect(existsSync(join(dist, "gateway", "devnet", "guardian.mjs"))).toBe(true);
  });

  it("bin/mote.js runs the compiled CLI: --help, and status against no network fails at once with its message", () => {
    const help = spawnSync(process.execPath, [join(root, "bin", "mote.js"), "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: mote");
    const status = spawnSync(process.execPath, [join(root, "bin", "mote.js"), "status", "--api", "http://127.0.0.1:1"], { encoding: "utf8", timeout: 30_000 });
    expect(status.status).toBe(1);
    expect(status.stderr).toMatch(/^mote: cannot reach the gateway API at http:\/\/127\.0\.0\.1:1 \(connect ECONNREFUSED .*\[API_UNREACHABLE\]\n$/);
  });

  it("finds what the build does not compile from the package root, and spawns entry points in its own form", async () => {
    const compiled = (await import(pathToFileURL(join(dist, "shared", "package-paths.js")).href)) as typeof source;
    expect([compiled.runsCompiled, source.runsCompiled]).toEqual([true, false]);
    expect([compiled.packageRoot, source.packageRoot]).toEqual([root, root]);
    expect(existsSync(compiled.packageFile("gateway/dashboard/index.html"))).toBe(true);
    expect(compiled.nodeArgsFor("gateway/cli/main.ts")).toEqual([join(dist, "gateway", "cli", "main.js")]);
    const fromSource = source.nodeArgsFor("gateway/cli/main.ts");
    expect(fromSource[0]).toBe("--import");
    expect(fromSource[1]).toMatch(/^file:\/\/.*\/node_modules\/tsx\//);
    expect(fromSource[2]).toBe(join(root, "gateway", "cli", "main.ts"));
  });
});
