// Issue 13 item 2, the must-show, with real parts: two gateways (GatewayNode, as `mote gateway start`
// assembles it: chain on SQLite, PBFT between the two over loopback TCP, CoAP on UDP, the HTTP API)
// share a chain. A device's signed reading anchoring a 1 MiB payload reaches gateway A first and is
// finalized while the payload is not there (the API says missing); then the payload is uploaded to A
// with Block1 over UDP through a proxy that loses 20% of datagrams each way; gateway B fetches it from A
// (B never saw the upload) and serves it; the client checks, trusting only genesis, that the bytes hash
// to the digest a finalized, device-signed reading names.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, expect, test } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { anchorRecords } from "../../shared/payload-anchor.ts";
import { encodeReading } from "../../shared/reading.ts";
import { genesisBlock, readGenesisFile } from "../../gateway/chain/genesis.ts";
import { GatewayNode } from "../../gateway/node/gateway-node.ts";
import { uploadPayload } from "../../gateway/payloads/block1-client.ts";
import { verifyPayload, type PayloadProofWire } from "../../gateway/payloads/verify-payload.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";
import { LossyUdpProxy } from "../support/lossy-udp-proxy.ts";
import { startInProcessPbft } from "../support/in-process-pbft.ts";
import { portBase } from "../support/ports.ts";

const dir = mkdtempSync(join(tmpdir(), "mote-payload-net-"));
const nodes: GatewayNode[] = [];
let proxy: LossyUdpProxy | undefined;
afterAll(async () => {
  await proxy?.close();
  for (const n of nodes.reverse()) await n.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test("a 1 MiB payload uploaded with Block1 over UDP at 20% loss, anchored by a finalized reading, fetched and served by a second gateway, verified by the client from genesis", { timeout: 300_000 }, async () => {
  const base = portBase("payloadNet");
  const url = (i: number) => `http://127.0.0.1:${base + 4 + i}`;
  const { net, device } = await startInProcessPbft({
    dir, gateways: 2, basePort: base, params: { blockIntervalMs: 200, epochBlocks: 100_000 }, nodes,
    configFor: (i) => ({ api: { host: "127.0.0.1", port: base + 4 + i }, payloads: { peers: [url(1 - i)], fetchRetryMaxMs: 2000 } }),
  });
  const [a, b] = nodes;
  await until("both gateways finalize blocks", () => nodes.every((n) => n.chainParts!.chain.head().height >= 3));

  // The payload and the reading that anchors it: SHA-256, size and Content-Format 22 (image/jpeg).
  const payload = randomBytes(1 << 20);
  const digest = toHex(sha256(payload));
  const reading = encodeReading(device.key.privateKey, device.deviceId, 1, [{ name: "temp", unit: "Cel", value: 21.5 }, ...anchorRecords({ name: "img", digest: sha256(payload), bytes: payload.length, contentFormat: 22 })]);
  const coap = await TestCoapClient.open(a.ingest.udpAddress!.port);
  expect((await coap.request({ method: "POST", path: "r", payload: reading, contentFormat: contentFormat.coseSign1 })).code).toBe("2.01");
  await coap.close();
  const get = (i: number, path: string) => fetch(`${url(i)}${path}`);
  await until("the anchoring reading is final on both gateways", async () => (await get(0, `/v1/devices/${toHex(device.deviceId)}/readings/1`)).status === 200 && (await get(1, `/v1/devices/${toHex(device.deviceId)}/readings/1`)).status === 200);

  // Anchored before it exists anywhere: both gateways say missing.
  await until("gateway A indexed the anchor", async () => ((await (await get(0, `/v1/payloads/${digest}/proof`)).json()) as { anchors?: unknown[] }).anchors?.length === 1);
  const missing = (await (await get(0, `/v1/payloads/${digest}/proof`)).json()) as { present: boolean; bytes: number; mediaType: string };
  expect(missing).toMatchObject({ present: false, bytes: 1 << 20, mediaType: "image/jpeg" });
  const absent = await get(0, `/v1/payloads/${digest}`);
  expect(absent.status).toBe(404);
  expect(((await absent.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_MISSING");

  // The upload: 1,024 blocks of 1 KiB, lock-step CON, through 20% loss each way.
  proxy = await LossyUdpProxy.open({ host: "127.0.0.1", port: a.ingest.udpAddress!.port }, 0.2, 13);
  const started = Date.now();
  const up = await uploadPayload(payload, { host: "127.0.0.1", port: proxy.port, blockBytes: 1024, ackTimeoutMs: 15, retransmitMax: 12 });
  const uploadMs = Date.now() - started;
  expect(up).toMatchObject({ code: "2.01", blocks: 1024, sha256: digest });
  expect(proxy.stats.droppedUp + proxy.stats.droppedDown).toBeGreaterThan(200);
  expect(a.payloads!.uploads.stats).toMatchObject({ completed: 1 });
  expect((await get(0, `/v1/payloads/${digest}`)).status).toBe(200);

  // Gateway B never saw the upload: it fetches the payload from A (the reading's relay) and serves it.
  await until("gateway B fetched the payload from A", async () => (await get(1, `/v1/payloads/${digest}`)).status === 200, 60_000);
  expect(b.payloads!.service.stats.fetched).toBe(1);
  expect(b.payloads!.uploads.stats.completed).toBe(0);
  const served = await get(1, `/v1/payloads/${digest}`);
  expect(served.headers.get("content-type")).toBe("image/jpeg");
  const bytes = new Uint8Array(await served.arrayBuffer());
  const proof = (await (await get(1, `/v1/payloads/${digest}/proof`)).json()) as PayloadProofWire & { present: boolean };
  expect(proof.present).toBe(true);

  // The client: the bytes' digest, and the anchoring reading's provenance from the genesis file alone.
  const g = genesisBlock(readGenesisFile(net.genesisPath));
  const report = await verifyPayload({ sha256: digest, bytes, proof, genesis: { header: g.header, validators: g.validators } });
  expect(report.verified).toEqual([expect.objectContaining({ deviceId: toHex(device.deviceId), sequence: 1, anchor: "img", contentFormat: 22 })]);
  // One flipped byte of the payload, or a reading that names another digest, fails.
  const flipped = Uint8Array.from(bytes);
  flipped[12345] ^= 1;
  await expect(verifyPayload({ sha256: digest, bytes: flipped, proof, genesis: { header: g.header, validators: g.validators } })).rejects.toMatchObject({ code: "VERIFY_DIGEST" });
  const forged = structuredClone(proof);
  forged.proofs[0].provenance.reading.cose = toHex(encodeReading(device.key.privateKey, device.deviceId, 1, [{ name: "temp", unit: "Cel", value: 21.5 }, ...anchorRecords({ name: "img", digest: sha256(payload), bytes: payload.length, contentFormat: 42 })]));
  await expect(verifyPayload({ sha256: digest, bytes, proof: forged, genesis: { header: g.header, validators: g.validators } })).rejects.toMatchObject({ code: "VERIFY_NO_ANCHOR" });

  // The same check from the CLI against gateway B: mote payload get --verify --genesis.
  const out = join(dir, "fetched.jpg");
  const cli = await promisify(execFile)(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../../gateway/cli/main.ts", import.meta.url)), "payload", "get", digest, "--out", out, "--verify", "--genesis", net.genesisPath, "--api", url(1)], { timeout: 60_000 });
  expect(cli.stdout).toMatch(/digest\s+matches/);
  expect(cli.stdout).toMatch(new RegExp(`verified from genesis: reading ${toHex(device.deviceId)}/1 `));
  expect(toHex(sha256(readFileSync(out)))).toBe(digest);

  console.log(
    `1 MiB upload through 20% loss: ${up.blocks} blocks, ${up.retransmissions} retransmissions, ${uploadMs} ms; proxy dropped ${proxy.stats.droppedUp} of ${proxy.stats.upstream} up, ${proxy.stats.droppedDown} of ${proxy.stats.downstream} down; ` +
      `gateway B fetched it (${b.payloads!.service.stats.fetchFailures} failed rounds before); client verified reading ${report.verified[0].deviceId}/${report.verified[0].sequence} at block ${report.verified[0].height}, head ${report.verified[0].headHeight}`,
  );
});
