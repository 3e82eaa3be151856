// device/build.mjs while others read device/build/: tests read firmware.wasm while a test that runs
// `npm start` builds again (its prestart). A build whose outputs are already there must leave every
// file as it is, the same inode and the same time; one that writes in place once let a test read
// firmware.wasm half-arranged (16,227 bytes against its manifest's 16,254).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { deviceBuildDir } from "../support/wasm.ts";

const snapshot = () =>
  readdirSync(deviceBuildDir)
    .sort()
    .map((f) => {
      const s = statSync(join(deviceBuildDir, f));
      return `${f} ${s.ino} ${s.mtimeMs} ${s.size}`;
    });

test("a build with nothing new writes nothing and leaves no scratch folder behind", { timeout: 120_000 }, () => {
  const before = snapshot();
  expect(before.some((l) => l.startsWith("firmware.wasm "))).toBe(true);
  const run = spawnSync(process.execPath, [join(deviceBuildDir, "..", "build.mjs")], { encoding: "utf8" });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^unchanged .*firmware\.wasm$/m);
  expect(run.stdout).not.toMatch(/^built /m);
  expect(snapshot()).toEqual(before);
});
