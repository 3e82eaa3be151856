// Firmware over CoAP with real parts: a chain (in memory) with a release and a rollout, a gateway on
// loopback UDP that fetches the release's image over real HTTP (checking it against the manifest),
// puts the manifest in its answer to the offered device's reading, and serves the image with Block2
// in 512-byte blocks, to our own Block2 client and to libcoap's coap-client.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentFormat } from "../../shared/constants.ts";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { manifestImageId, signManifest } from "../../shared/firmware-manifest.ts";
import { encodeReading } from "../../shared/reading.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import { defaultConfig, mergeConfig } from "../../gateway/config.ts";
import { IngestGateway } from "../../gateway/ingest/ingest-gateway.ts";
import { silentLogger } from "../../gateway/log.ts";
import { ChainDeviceRegistry } from "../../gateway/node/chain-registry.ts";
import { FirmwareImageStore } from "../../gateway/firmware/image-store.ts";
import { FirmwareService, firmwareServiceDefaults } from "../../gateway/firmware/firmware-service.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { decodeBlockOption, encodeBlockOption } from "../../gateway/coap/block-option.ts";
import { option } from "../../gateway/coap/message.ts";
import { buildAndCommit } from "../chain/drive.ts";
import { makeFixture, openChain, seedIdentity, signed } from "../chain/fixture.ts";
import { tempDir } from "../support/gateway-fixtures.ts";
import { TestCoapClient } from "../support/gateway-coap-client.ts";

const publisher = seedIdentity("firmware-coap/publisher");
const f = makeFixture({ gateways: 1, users: 1, devices: 2, label: "firmware-coap" });
f.genesis.firmwarePublishers = [toHex(publisher.publicKey)];
const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
const [target, bystander] = f.devices;
const image = randomBytes(5000); // 10 blocks of 512, the last one 392 bytes
const manifest = signManifest(publisher.seed, { version: 2, imageBytes: image.length, imageDigest: sha256(image), abiVersion: 2 });
const imageId = manifestImageId(manifest);
const badImage = randomBytes(700);
const badManifest = signManifest(publisher.seed, { version: 3, imageBytes: 700, imageDigest: sha256(randomBytes(700)), abiVersion: 2 });
const binary = ["/usr/bin/coap-client", "/usr/bin/coap-client-notls", "/usr/bin/coap-client-openssl", "/usr/bin/coap-client-gnutls"].find(existsSync);

let http: Server;
let gw: IngestGateway;
let service: FirmwareService;
let client: TestCoapClient;
let dir: { path: string; remove: () => void };
let seq = 0;

beforeAll(async () => {
  dir = tempDir("mote-fw-coap-");
  http = createServer((req, res) => {
    const body = req.url === "/good.wasm" ? image : req.url === "/bad.wasm" ? badImage : undefined;
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  const { chain } = openChain(f);
  const at = (h: number) => f.genesis.genesisTimeMs + h * 1000;
  const u = f.users[0];
  const out1 = buildAndCommit(chain, signers, [
    signed(f.genesis.chainId, u, 0, { kind: "publishRelease", manifest, location: `${base}/good.wasm` }),
    signed(f.genesis.chainId, u, 1, { kind: "publishRelease", manifest: badManifest, location: `${base}/bad.wasm` }),
  ], at(1));
  expect(out1.codes).toEqual([undefined, undefined]);
  const out2 = buildAndCommit(chain, signers, [signed(f.genesis.chainId, f.owner, 0, { kind: "startRollout", imageId: Buffer.from(imageId, "hex"), selector: { kind: "ids" }, targets: [target.id], inFlightMax: 1 })], at(2));
  expect(out2.codes).toEqual([undefined]);
  service = new FirmwareService(chain, new FirmwareImageStore(dir.path), silentLogger(), { ...firmwareServiceDefaults, fetchRetryMs: 0 });
  const config = mergeConfig(defaultConfig(), { dataDir: dir.path, udp: { host: "127.0.0.1", port: 0 }, statsIntervalMs: 0 });
  gw = await IngestGateway.start(config, silentLogger(), { registry: new ChainDeviceRegistry(chain), firmware: service });
  client = await TestCoapClient.open(gw.udpAddress!.port);
});

afterAll(async () => {
  await client?.close();
  await gw?.close();
  await new Promise((r) => http?.close(r));
  dir?.remove();
});

function post(device: Identity, records: SenmlRecord[] = []) {
  const bytes = encodeReading(device.key, device.id, ++seq, [{ name: "temp", unit: "Cel", value: 20 }, ...records]);
  return client.request({ method: "POST", path: "r", payload: bytes, contentFormat: contentFormat.coseSign1 });
}

async function getBlock(num: number, szx = 5) {
  return client.request({ method: "GET", path: `f/${imageId}`, extraOptions: [{ number: option.block2, value: encodeBlockOption({ num, more: false, szx }) }] });
}

describe("firmware over CoAP", () => {
  it("fetches the image over HTTP first (5.03 meanwhile), then offers the manifest in the reading's 2.01", async () => {
    const first = await post(target);
    expect(first.code).toBe("2.01");
    expect(first.payload.length).toBe(0); // the image is not here yet: no offer
    expect((await getBlock(0)).code).toBe("5.03");
    await service.settled();
    const offered = await post(target);
    expect(offered.code).toBe("2.01");
    expect(Buffer.from(offered.payload).equals(Buffer.from(manifest))).toBe(true);
    const cf = offered.options.find((o) => o.number === option.contentFormat)!;
    expect(cf.value.readUIntBE(0, cf.value.length)).toBe(contentFormat.coseSign1);
    // Not offered: a device outside the rollout, and the target once its reading says it runs v2.
    expect((await post(bystander)).payload.length).toBe(0);
    expect((await post(target, [{ name: "fw", value: 2 }])).payload.length).toBe(0);
  });

  it("does not offer it again to a device whose last report here says it runs it, before the chain knows", async () => {
    // The device reports its version only in its first reading after a boot (above: v2); the chain
    // still says nothing of it, and the next readings carry no report.
    expect((await post(target)).payload.length).toBe(0);
    expect((await post(target)).payload.length).toBe(0);
    // A later report wins (a rollback to v1 is reported after the v2 report): offered again.
    expect(Buffer.from((await post(target, [{ name: "fw", value: 1 }])).payload).equals(Buffer.from(manifest))).toBe(true);
    expect(Buffer.from((await post(target)).payload).equals(Buffer.from(manifest))).toBe(true);
  });

  it("serves the image with Block2 in the 512-byte blocks asked for; the digest matches", async () => {
    await service.settled();
    const parts: Buffer[] = [];
    for (let num = 0; ; num++) {
      const r = await getBlock(num);
      expect(r.code).toBe("2.05");
      const b = decodeBlockOption(r.options.find((o) => o.number === option.block2)!.value);
      expect(b.num).toBe(num);
      expect(b.szx).toBe(5);
      parts.push(Buffer.from(r.payload));
      if (!b.more) break;
      expect(r.payload.length).toBe(512);
    }
    expect(parts).toHaveLength(10);
    expect(toHex(sha256(Buffer.concat(parts)))).toBe(toHex(sha256(image)));
    expect((await client.request({ method: "GET", path: "f/0000000000000000" })).code).toBe("4.04");
    expect((await client.request({ method: "GET", path: "f/nothex" })).code).toBe("4.04");
  });

  it("never keeps or serves an image that does not match its manifest", async () => {
    const badId = manifestImageId(badManifest);
    expect((await client.request({ method: "GET", path: `f/${badId}` })).code).toBe("5.03");
    await service.settled();
    expect((await client.request({ method: "GET", path: `f/${badId}` })).code).toBe("5.03");
    expect(existsSync(join(dir.path, "firmware", `${toHex(sha256(badImage))}.wasm`))).toBe(false);
  });

  it("libcoap's coap-client fetches the image with Block2 (-b 512) and the digest matches", async () => {
    expect(binary, "install Debian's libcoap3-bin").toBeDefined();
    const file = join(dir.path, "fetched.wasm");
    await promisify(execFile)(binary!, ["-m", "get", "-b", "512", "-B", "20", "-o", file, `coap://127.0.0.1:${gw.udpAddress!.port}/f/${imageId}`], { timeout: 30_000 });
    expect(toHex(sha256(readFileSync(file)))).toBe(toHex(sha256(image)));
  });
});
