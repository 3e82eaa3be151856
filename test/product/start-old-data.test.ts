// `npm start` on a data directory written by another release (here: a chain store whose schema
// version is not this build's) stops with the store's own reason and says how to start over.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mote-start-old-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = promisify(execFile);
const start = (...extra: string[]) =>
  run(process.execPath, ["--import", "tsx", join(root, "scripts", "start.ts"), "--dir", dir, "--gateways", "1", "--devices", "1", "--no-serial", "--no-board", "--duration", "3", "--udp-port", "35700", "--p2p-port", "37400", "--api-port", "38080", ...extra], { cwd: root, timeout: 120_000 });

it("refuses data from another release with the store's reason and the way to start over", async () => {
  await start("--fresh");
  const db = new Database(join(dir, "gateway-1", "chain.sqlite"));
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(Buffer.of(1));
  db.close();
  const failed = await start().then(
    () => undefined,
    (e: { code: number; stderr: string; stdout: string }) => e,
  );
  expect(failed?.code).toBe(1);
  expect(failed!.stderr + failed!.stdout).toMatch(/schema version 1, this build reads \d+.*\[STORE_SCHEMA\].*npm start -- --fresh/);
}, 240_000);
