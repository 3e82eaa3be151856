// Builds the firmware and the test harnesses with AssemblyScript's compiler.
// The firmware (device/main.ts) is what ships; each device/harness/*.ts is a test-only entry that
// exports pure functions of the very same modules so tests can check them against vectors.
import asc from "assemblyscript/asc";
import { readdirSync, mkdirSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { fileURLToPath } from "node:url";

const deviceDir = dirname(fileURLToPath(import.meta.url));
const buildDir = join(deviceDir, "build");
mkdirSync(buildDir, { recursive: true });

// One set of options for every entry (asconfig.json): the harnesses obey the firmware's budgets too.
const common = ["--config", join(deviceDir, "..", "asconfig.json")];

async function compile(entry, outName) {
  const outFile = join(buildDir, `${outName}.wasm`);
  const { error, stderr } = await asc.main(
    [entry, "-o", outFile, "-t", join(buildDir, `${outName}.wat`), ...common],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    console.error(`asc failed for ${entry}: ${error.message}\n${stderr.toString()}`);
    process.exit(1);
  }
  console.log(`built ${outFile}`);
}

const harnessDir = join(deviceDir, "harness");
const harnesses = (() => {
  try { return readdirSync(harnessDir).filter((f) => f.endsWith(".ts")); } catch { return []; }
})();
const only = process.argv[2]; // optional: build just "firmware" or one harness name
if (!only || only === "firmware") await compile(join(deviceDir, "main.ts"), "firmware");
for (const file of harnesses) {
  const name = `harness-${basename(file, ".ts")}`;
  if (!only || only === name) await compile(join(harnessDir, file), name);
}
