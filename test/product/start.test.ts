// `npm start`, shortened: the real script starts 4 PBFT gateway processes, boards running the real
// firmware over UDP and one over a socat serial line, enrolls them on chain and sends readings.
// The test waits until every device has finalized readings, then reads them back through the
// HTTP API and through the `mote` CLI, and stops the network with SIGINT as a person would.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { qemuBoardUnavailable } from "../../hardware/mps2-an385/qemu-board.ts";
import { fixedDevnetPorts } from "../support/ports.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const api = `http://127.0.0.1:${fixedDevnetPorts.start.api}`;
const devices = 4; // over UDP, plus one over the serial line
// …and the emulated Cortex-M3 board under qemu on a second serial line, when its toolchain is installed.
const qemuBoard = qemuBoardUnavailable() === undefined;
const enrolled = devices + 1 + (qemuBoard ? 1 : 0);
let start: ChildProcess;
let output = "";
let dir = "";

async function json(path: string): Promise<any> {
  const res = await fetch(`${api}${path}`, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  return res.json();
}

/** Runs the CLI against this network's first gateway (or offline, for commands that need no API). */
async function mote(...args: string[]): Promise<string> {
  const offline = args[0] === "key";
  const { stdout } = await promisify(execFile)(process.execPath, [join(root, "bin", "mote.js"), ...args, ...(offline ? [] : ["--api", api])], { timeout: 30_000 });
  return stdout;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mote-start-"));
  start = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "start.ts"), "--dir", dir, "--fresh", "--devices", String(devices), "--interval", "1", "--duration", "240", "--udp-port", String(fixedDevnetPorts.start.udp), "--p2p-port", String(fixedDevnetPorts.start.p2p), "--api-port", String(fixedDevnetPorts.start.api)], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  start.stdout!.on("data", (b) => (output += b));
  start.stderr!.on("data", (b) => (output += b));
  const deadline = Date.now() + 90_000;
  while (!output.includes("Ctrl-C to stop")) {
    if (start.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up in 90 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  if (start && start.exitCode === null) {
    start.kill("SIGKILL");
  }
});

describe("npm start", () => {
  it("prints where the dashboard and the API are, after progress lines", () => {
    expect(output).toMatch(/\[1\/5\] created network: 4 validators/);
    expect(output).toContain(`[4/5] devices enrolled on chain: ${enrolled}/${enrolled}`);
    if (qemuBoard) expect(output).toMatch(/mps2-an385 board [0-9a-f]{32} on gateway 1's serial line/);
    else expect(output).toMatch(/no emulated Cortex-M board: /);
    expect(output).toContain(`dashboard  ${api}/dashboard/`);
  });

  it("finalizes readings from every simulated device, the serial one included", async () => {
    const deadline = Date.now() + 90_000;
    let listed: any[] = [];
    while (Date.now() < deadline) {
      listed = (await json("/v1/devices?limit=100")).items;
      if (listed.length === enrolled && listed.every((d) => d.readings > 0)) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect(listed.map((d) => d.readings > 0)).toEqual(Array(enrolled).fill(true));
    const names = listed.map((d) => d.metadata.name).sort();
    expect(names).toContain("mote-serial");
    const head = await json("/v1/head");
    expect(head.finality.mode).toBe("pbft");
    expect((await json("/v1/validators")).validators).toHaveLength(4);
    // PBFT's view in progress: per validator, its prepare/commit at the height being decided and
    // whether it signed the head's certificate (a quorum of 3 of 4 at least).
    const consensus = await json("/v1/consensus");
    expect(consensus.mode).toBe("pbft");
    expect(consensus.validators).toHaveLength(4);
    expect(consensus.validators.filter((v: any) => v.signedHead).length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it("serves a device's readings through the API and the CLI alike", async () => {
    const [device] = (await json("/v1/devices?limit=1")).items;
    const since = Date.now() - 600_000; // a query spans at most 31 days
    const page = await json(`/v1/devices/${device.id}/readings?from=${since}&to=${Date.now() + 60_000}&limit=5`);
    expect(page.items.length).toBeGreaterThan(0);
    const fromCli = JSON.parse(await mote("reading", "list", device.id, "--since", String(since), "--until", String(Date.now() + 60_000), "--limit", "5", "--json"));
    // Readings keep arriving between the two queries: the CLI's page starts with the API's.
    expect(fromCli.items.slice(0, page.items.length).map((r: any) => r.sequence)).toEqual(page.items.map((r: any) => r.sequence));
    const status = JSON.parse(await mote("status", "--json"));
    expect(status.head.chainId).toBe("mote-local");
    expect(await mote("device", "show", device.id)).toContain(device.publicKey);
    const provenance = await json(`/v1/devices/${device.id}/readings/${page.items[0].sequence}`);
    expect(provenance.verified).toBe(true);
    // Operations: Prometheus metrics include the block commits' SQLite timings.
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/query="commit_block"/);
  }, 60_000);

  it("moves tokens and stake with signed transactions from the CLI", async () => {
    const key = join(dir, "alice.key.json");
    const alice = /id\s+([0-9a-f]{32})/.exec(await mote("key", "new", "--out", key))![1];
    expect(await mote("transfer", alice, "500", "--key", join(dir, "net", "owner.key.json"))).toMatch(/finalized in block \d+/);
    expect(await mote("stake", "200", "--key", key)).toMatch(/finalized in block \d+/);
    const account = await json(`/v1/accounts/${alice}`);
    expect([account.staked, account.nextNonce]).toEqual(["200", 1]);
    expect(BigInt(account.balance)).toBeLessThan(300n); // 500 - 200 staked - the fee
  }, 60_000);

  it("stops cleanly on Ctrl-C", async () => {
    const exited = new Promise<number | null>((r) => start.once("exit", (code) => r(code)));
    start.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(output).toMatch(/stopping \(Ctrl-C\)…[\s\S]*stopped/);
    await expect(fetch(`${api}/v1/head`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  }, 60_000);
});
