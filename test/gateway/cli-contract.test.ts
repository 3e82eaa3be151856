// `mote contract …` as a user runs it (real CLI processes) against a live one-gateway network with
// contracts enabled: build the threshold alarm from AssemblyScript, deploy it subscribed to a
// board, fund and configure it, let the board's temperatures trigger it, then read its record,
// events and storage (with proofs). Failures exit with the code a script can branch on: a run that
// aborted 1 with its code, bad arguments 2, a build error 1 with the compiler's message.
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { writeKeyFile } from "../../gateway/chain/keyfile.ts";
import { contractVmReady } from "../../gateway/contracts/binaryen.ts";
import { startTestNet, type TestNet } from "../api/net.ts";
import { tempDir } from "../support/gateway-fixtures.ts";

const cli = fileURLToPath(new URL("../../gateway/cli/main.ts", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function mote(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", cli, ...args], { timeout: 300_000 }, (e, stdout, stderr) => {
      const code = e ? ((e as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === "number" ? code : null, stdout, stderr });
    });
  });
}

let net: TestNet;
const dir = tempDir("mote-cli-contract-");
let key: string;
let contractId: string;

beforeAll(async () => {
  await contractVmReady();
  net = await startTestNet({ boards: 1, live: true, params: { contractsEnabled: 1 } });
  key = join(dir.path, "user.key.json");
  writeKeyFile(key, net.users[0], "test user");
}, 120_000);
afterAll(async () => {
  await net?.close();
  dir.remove();
});

describe("mote contract", () => {
  it("build: AssemblyScript to a checked, instrumentable .wasm; a broken source fails with the compiler's message", async () => {
    const out = join(dir.path, "alarm.wasm");
    const ok = await mote("contract", "build", "contracts/examples/threshold-alarm.ts", "--out", out);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(ok.stdout).toMatch(/functions\s+_initialize, configure, on_reading/);
    const bad = join(dir.path, "bad.ts");
    writeFileSync(bad, "export function f(): f64 { return 1.5 }\nexport function g(): void { undefinedThing(); }\n");
    const failed = await mote("contract", "build", bad, "--out", join(dir.path, "bad.wasm"));
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/CONTRACT_BUILD_FAILED/);
    expect((await mote("contract", "build", join(dir.path, "missing.ts"))).stderr).toMatch(/FILE_NOT_FOUND/);
  }, 360_000); // each build loads the compiler and Binaryen through tsx: tens of seconds on a loaded machine

  it("deploy, fund, call; a call whose run aborts exits 1 with its code", async () => {
    const board = net.boards[0];
    const deployed = await mote("contract", "deploy", join(dir.path, "alarm.wasm"), "--key", key, "--device", board.deviceIdHex, "--reading-gas", "100000", "--api", net.url);
    expect(deployed.code, deployed.stderr).toBe(0);
    contractId = /contract\s+([0-9a-f]{32})/.exec(deployed.stdout)![1];
    expect((await mote("transfer", contractId, "1000", "--key", key, "--api", net.url)).code).toBe(0);
    const configured = await mote("contract", "call", contractId, "configure", "--input-i64", "30000,25000", "--key", key, "--api", net.url);
    expect(configured.code, configured.stderr).toBe(0);
    expect(configured.stdout).toContain(contractId);
    // low above high: the contract aborts; the fee is spent, nothing else changes.
    const refused = await mote("contract", "call", contractId, "configure", "--input-i64", "1,5", "--key", key, "--api", net.url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\[CONTRACT_ABORT\]/);
    const unknown = await mote("contract", "call", contractId, "nothing", "--key", key, "--api", net.url);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no method "nothing"; it exports configure \[CONTRACT_METHOD_UNKNOWN\]/);
  });

  it("show, events and storage after the board's readings triggered it", async () => {
    await net.send([20, 31, 24]);
    await net.waitFor(() => net.gateway.gw.store.counts().pending === 0);
    const shown = await mote("contract", "show", contractId, "--api", net.url);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/methods\s+configure/);
    expect(shown.stdout).toMatch(/runs\s+5 \(1 failed\)/);
    expect(shown.stdout).toMatch(/record proof\s+valid/);
    const events = await mote("contract", "events", contractId, "--asc", "--api", net.url);
    expect(events.code, events.stderr).toBe(0);
    expect([...events.stdout.matchAll(/\b(alarm|clear)\b/g)].map((m) => m[1])).toEqual(["alarm", "clear"]);
    const alarms = await mote("contract", "events", contractId, "--topic", "alarm", "--json", "--api", net.url);
    expect(JSON.parse(alarms.stdout).items.map((e: { topicText: string }) => e.topicText)).toEqual(["alarm"]);
    const storage = await mote("contract", "storage", contractId, "--api", net.url);
    expect(storage.code, storage.stderr).toBe(0);
    expect(storage.stdout).toMatch(/636667\s+cfg\s+3075000000000000a861000000000000\s+valid/);
    const one = await mote("contract", "storage", contractId, toHex(Buffer.from("nope")), "--api", net.url);
    expect(one.stdout).toMatch(/\(absent\)\s+valid/);
    const list = await mote("contract", "list", "--api", net.url);
    expect(list.stdout).toContain(contractId);
  });

  it("bad arguments exit 2 and say what to give", async () => {
    const badId = await mote("contract", "show", "12", "--api", net.url);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/not a contract id: give its 32 hex digits/);
    const badInput = await mote("contract", "call", "00".repeat(16), "m", "--input-hex", "zz", "--key", key, "--api", net.url);
    expect(badInput.code).toBe(2);
    const twoInputs = await mote("contract", "call", "00".repeat(16), "m", "--input-hex", "00", "--input-text", "a", "--key", key, "--api", net.url);
    expect(twoInputs.stderr).toMatch(/give the call's input once/);
    const badMeta = await mote("contract", "deploy", join(dir.path, "alarm.wasm"), "--metadata", "nokey", "--key", key, "--api", net.url);
    expect(badMeta.code).toBe(2);
  });
});
