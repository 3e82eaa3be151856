// Issue 13 item 1, the join: three gateways (GatewayNode as `mote gateway start` assembles it) run a
// chain with a 2-second retention until the blocks holding a device's readings are pruned on every
// one. A fourth gateway, a separate process started with `mote gateway start` on an empty data
// directory, syncs up to the first pruned block and stalls: /v1/health says SYNC_BEHIND_RETENTION and
// its log says to run `mote gateway join`. It is stopped; `mote gateway join --replace` (another
// process) downloads gateway 0's snapshot, verifies it from the genesis file and installs it; started
// again, the gateway catches up, its blocks and state roots equal the others' at the same heights, and
// it serves the provenance of an expired reading that the CLI's verifier checks from genesis alone.
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { nodeArgsFor } from "../../shared/package-paths.ts";
import { encodeReading } from "../../shared/reading.ts";
import { decodeHeader } from "../../gateway/chain/block.ts";
import { genesisBlock, readGenesisFile } from "../../gateway/chain/genesis.ts";
import { newIdentity, writeKeyFile } from "../../gateway/chain/keyfile.ts";
import { verifyChain } from "../../gateway/chain/recover.ts";
import { smtRoot } from "../../gateway/chain/smt.ts";
import { ApiClient } from "../../gateway/cli/api-client.ts";
import { submitTx, waitFinalized } from "../../gateway/cli/tx-author.ts";
import { verifyReadingProvenance } from "../../gateway/cli/verify-reading.ts";
import { GatewayNode } from "../../gateway/node/gateway-node.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { untilTrue } from "../support/until.ts";
import { startInProcessPbft } from "../support/in-process-pbft.ts";
import { portBase } from "../support/ports.ts";

const dir = mkdtempSync(join(tmpdir(), "mote-join-net-"));
const nodes: GatewayNode[] = [];
let joiner: GatewayProcess | undefined;
afterAll(async () => {
  await joiner?.stop();
  for (const n of nodes.reverse()) await n.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = (what: string, cond: () => boolean | Promise<boolean>, ms = 90_000) => untilTrue(what, cond, ms, 150);

/** `mote <args>` as its own process; resolves with its exit code and output. */
function mote(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...nodeArgsFor("gateway/cli/main.ts"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr })));
}

test("a gateway behind the pruning horizon reports it, joins from a verified snapshot, catches up and serves expired provenance", { timeout: 300_000 }, async () => {
  const n = 3;
  // Fixed ports only for the validators' p2p endpoints (the genesis names them), in a range no other
  // test uses; every API and the joiner's p2p listen on port 0 and are read back.
  const base = portBase("joinNet");
  const { net, device } = await startInProcessPbft({ dir, gateways: n, basePort: base, params: { blockIntervalMs: 200, epochBlocks: 20 }, nodes });
  const url = (i: number) => nodes[i].apiUrl!;
  const deviceHex = toHex(device.deviceId);
  const json = async (u: string, path: string) => (await fetch(`${u}${path}`, { signal: AbortSignal.timeout(5000) })).json() as Promise<any>;
  await until("every gateway finalizes blocks", () => nodes.every((x) => x.chainParts!.chain.head().height >= 3));

  const sent = [1, 2, 3].map((seq) => encodeReading(device.key.privateKey, device.deviceId, seq, [{ name: "temp", unit: "Cel", value: 20 + seq }]));
  const coap = await TestCoapClient.open(nodes[0].ingest.udpAddress!.port);
  for (const r of sent) expect((await coap.request({ method: "POST", path: "r", payload: r, contentFormat: contentFormat.coseSign1 })).code).toBe("2.01");
  await coap.close();
  const api = new ApiClient(url(0));
  const tx = await submitTx(api, net.owner!.keyPath, { kind: "setRetention", deviceId: null, seconds: 2 });
  await waitFinalized(api, tx.id);
  await until("every reading expired on every gateway", async () => {
    for (let i = 0; i < n; i++) for (const seq of [1, 2, 3]) if ((await json(url(i), `/v1/devices/${deviceHex}/readings/${seq}`)).reading?.expired !== true) return false;
    return true;
  });
  await until("two epochs ended", () => nodes.every((x) => x.chainParts!.chain.head().height >= 45));

  // A new gateway (not a validator) on an empty data directory: it syncs up to the first pruned block.
  const joinDir = join(dir, "joiner");
  const joinKey = join(dir, "joiner.key.json");
  const joinIdentity = newIdentity();
  writeKeyFile(joinKey, joinIdentity, "joining gateway");
  const startArgs = ["--data-dir", joinDir, "--udp-host", "127.0.0.1", "--udp-port", "0", "--genesis", net.genesisPath, "--key", joinKey, "--consensus", "pbft", "--p2p-host", "127.0.0.1", "--p2p-port", "0", ...net.gateways.flatMap((g) => ["--peer", g.endpoint]), "--api-port", "0", "--log-level", "info"];
  /** The joiner's API, from its "gateway node started" line (it listens on port 0). */
  const startJoiner = async () => {
    joiner = await startGatewayProcess(startArgs, 60_000);
    let api: string | undefined;
    await until("the joiner's node starts", () => (api = joiner!.lines.find((l) => l.msg === "gateway node started")?.api as string | undefined) !== undefined);
    // Its health says it is this gateway: an answer from any other process cannot pass for it.
    await until("the joiner's API answers", async () => (await json(api!, "/v1/health")).nodeId === toHex(joinIdentity.id));
    return api!;
  };
  let joinApi = await startJoiner();
  let health: any;
  await until("the joiner reports SYNC_BEHIND_RETENTION", async () => {
    health = await json(joinApi, "/v1/health");
    return health.reasons.some((r: string) => r.startsWith("SYNC_BEHIND_RETENTION"));
  }).catch((e: Error) => {
    // What the joiner saw: its health, and its log lines other than per-block ones.
    const seen = joiner!.lines.filter((l) => l.msg !== "finalized by sync").slice(-40).map((l) => JSON.stringify(l));
    const pruned = nodes.map((x) => x.chainParts!.chain.expiry.store.bodyVersion(health?.height + 1));
    throw new Error(`${e.message}\nhealth: ${JSON.stringify(health)}\nbody version of the next block at the peers: ${pruned}\n${seen.join("\n")}`);
  });
  expect(health.status).toBe("degraded");
  const stalledAt = health.height as number;
  expect(stalledAt).toBeLessThan(nodes[0].chainParts!.chain.head().height);
  const advice = joiner!.lines.filter((l) => l.code === "SYNC_BEHIND_RETENTION");
  expect(advice.length).toBeGreaterThanOrEqual(1);
  expect(String(advice[0].msg)).toContain("mote gateway join");
  expect(advice[0].height).toBe(stalledAt + 1);
  await joiner!.stop();
  joiner = undefined;

  // Without --replace the existing store is kept; with it, the snapshot is verified and installed.
  const refused = await mote(["gateway", "join", "--from", url(0), "--genesis", net.genesisPath, "--data-dir", joinDir]);
  expect(refused.code, refused.stderr).not.toBe(0);
  expect(refused.stderr).toContain("SNAPSHOT_EXISTS");
  const joined = await mote(["gateway", "join", "--from", url(0), "--genesis", net.genesisPath, "--data-dir", joinDir, "--replace"]);
  expect(joined.code, joined.stderr).toBe(0);
  const report = JSON.parse(joined.stdout);
  expect(report.tipHeight).toBeGreaterThan(stalledAt);
  expect(report.epochsWalked).toBeGreaterThanOrEqual(2);
  expect(report.prunedBlocks).toBeGreaterThanOrEqual(1);
  // Expiry's cursor is rebuilt from the bodies: the device's three readings are already expired here.
  const installed = new Database(join(joinDir, "chain.sqlite"), { readonly: true });
  expect(installed.prepare("SELECT log_idx FROM expiry_cursor WHERE device = ?").get(Buffer.from(device.deviceId))).toEqual({ log_idx: 3 });
  installed.close();

  // Started again, it catches up from peers; same blocks and state roots as the others.
  joinApi = await startJoiner();
  const target = nodes[0].chainParts!.chain.head().height + 10;
  await until("the joiner catches up", async () => (await json(joinApi, "/v1/head")).height >= target);
  await until("the joiner is healthy", async () => (await json(joinApi, "/v1/health")).status === "ok");
  for (const h of [report.tipHeight, target]) {
    const mine = await json(joinApi, `/v1/blocks/${h}`);
    for (let i = 0; i < n; i++) {
      const theirs = await json(url(i), `/v1/blocks/${h}`);
      expect([mine.hash, mine.stateRoot], `block ${h} vs gateway ${i}`).toEqual([theirs.hash, theirs.stateRoot]);
    }
  }
  // It serves the provenance of an expired reading, verified from the genesis file alone.
  const g = genesisBlock(readGenesisFile(net.genesisPath));
  for (const seq of [1, 2, 3]) {
    const p = await json(joinApi, `/v1/devices/${deviceHex}/readings/${seq}`);
    expect(p.reading).toMatchObject({ expired: true, cose: null, digest: toHex(sha256(sent[seq - 1])) });
    expect(p.verified).toBe(true);
    expect(await verifyReadingProvenance({ provenance: p, genesis: { header: g.header, validators: g.validators } })).toMatchObject({ expired: true, sequence: seq });
  }
  await joiner!.stop();
  joiner = undefined;
  // Its store: the tree gives the head's root and the whole chain verifies; no snapshot leftovers.
  const store = ChainStore.open(joinDir, { readonly: true });
  expect(toHex(smtRoot(store))).toBe(toHex(decodeHeader(store.block(store.tip()!.height)!.header).stateRoot));
  expect(verifyChain(store)).toBeGreaterThan(target);
  store.close();
});
