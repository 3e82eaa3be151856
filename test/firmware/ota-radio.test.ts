// Over the air, end to end with real parts: a solo chain in SQLite with a release and a rollout, a
// gateway on loopback UDP that fetches the image over HTTP, offers it in its 2.01 to the device's
// reading and serves it with Block2; a board emulator running the real firmware.wasm, provisioned
// with the publisher's key, pulls it, its boot loader verifies and starts it on trial, the next
// acknowledged reading confirms it, and the chain's fleet map shows the device on v2. Then an image
// that traps in init: the board is back on v2 at once and the chain records the failed attempt.
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { toHex } from "../../shared/ed25519.ts";
import { manifestImageId } from "../../shared/firmware-manifest.ts";
import { defaultConfig, mergeConfig } from "../../gateway/config.ts";
import { IngestGateway } from "../../gateway/ingest/ingest-gateway.ts";
import { silentLogger } from "../../gateway/log.ts";
import { ChainDeviceRegistry } from "../../gateway/node/chain-registry.ts";
import { FirmwareImageStore } from "../../gateway/firmware/image-store.ts";
import { FirmwareService, firmwareServiceDefaults } from "../../gateway/firmware/firmware-service.ts";
import { FirmwareState } from "../../gateway/chain/firmware-state.ts";
import { NodeSigner } from "../../gateway/chain/node-signer.ts";
import { SoloProducer } from "../../gateway/chain/producer.ts";
import { ReadingFeed } from "../../gateway/chain/reading-feed.ts";
import { TxOutbox } from "../../gateway/chain/tx-outbox.ts";
import { Board } from "../../hardware/emulator/board.ts";
import { Firmware } from "../../hardware/emulator/firmware.ts";
import { SlotStore } from "../../hardware/emulator/slot-store.ts";
import { RealClock, ScaledClock } from "../../hardware/emulator/clock.ts";
import { makeFixture, openChain, seedIdentity, signed } from "../chain/fixture.ts";
import { tempDir } from "../support/gateway-fixtures.ts";
import { firmwareImage, manifestFor, trapInInit } from "../support/firmware-images.ts";

const publisher = seedIdentity("ota-radio/publisher");
const v1 = firmwareImage();
const images = new Map<string, Uint8Array>();

let dir: { path: string; remove: () => void };
let http: Server;
let base = "";
let gw: IngestGateway;
let board: Board;
let chainParts: ReturnType<typeof openChain>;
let producer: SoloProducer;
let outbox: TxOutbox;
let owner: ReturnType<typeof seedIdentity>;
let releaser: ReturnType<typeof seedIdentity>;
let nonces = { owner: 0, releaser: 0 };
let deviceId: Uint8Array;

function produce(n = 1): void {
  for (let i = 0; i < n; i++) producer.produce();
}

/** Readings until `done` holds, producing blocks between them (the firmware's clock runs 20× fast). */
async function readUntil(done: () => boolean, what: string, readingsMax = 60): Promise<void> {
  for (let i = 0; i < readingsMax; i++) {
    if (board.pending() < 4) board.reading(0, 20 + i / 10);
    await new Promise((r) => setTimeout(r, 150));
    produce();
    if (done()) return;
  }
  throw new Error(`${what}: not after ${readingsMax} readings`);
}

function firmwareOnChain() {
  return new FirmwareState(chainParts.chain.state()).deviceFirmware(deviceId);
}

function release(version: number, image: Uint8Array): string {
  const manifest = manifestFor({ seed: publisher.seed, publicKey: publisher.publicKey }, image, version);
  const imageId = manifestImageId(manifest);
  images.set(`/${imageId}.wasm`, image);
  const chainId = chainParts.chain.chainId;
  chainParts.mempool.add(signed(chainId, releaser, nonces.releaser++, { kind: "publishRelease", manifest, location: `${base}/${imageId}.wasm` }), Date.now());
  produce();
  chainParts.mempool.add(signed(chainId, owner, nonces.owner++, { kind: "startRollout", imageId: Buffer.from(imageId, "hex"), selector: { kind: "ids" }, targets: [deviceId], inFlightMax: 1 }), Date.now());
  produce();
  return imageId;
}

beforeAll(async () => {
  dir = tempDir("mote-ota-radio-");
  const boardDir = join(dir.path, "board");
  // The device's key is born on the board; genesis enrolls it.
  const keygen = new Firmware({ clock: new RealClock(), slots: new SlotStore(boardDir), send: () => false, log: () => {} });
  keygen.init(0);
  const { publicKey } = keygen.identity();
  deviceId = keygen.identity().deviceId;

  const f = makeFixture({ gateways: 1, users: 1, devices: 0, label: "ota-radio", params: { blockIntervalMs: 200 } });
  f.genesis.genesisTimeMs = Date.now() - 1000;
  f.genesis.firmwarePublishers = [toHex(publisher.publicKey)];
  (f.genesis.devices ??= []).push({ publicKey: toHex(publicKey), owner: toHex(f.owner.id), metadata: { model: "node-emulator" }, ttlDays: 0 });
  owner = f.owner;
  releaser = f.users[0];

  http = createServer((req, res) => {
    const body = images.get(req.url ?? "");
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;

  chainParts = openChain(f, join(dir.path, "chain"));
  const { chain, mempool } = chainParts;
  const identity = f.gateways[0];
  const log = pino({ level: "silent" });
  const service = new FirmwareService(chain, new FirmwareImageStore(dir.path), silentLogger(), { ...firmwareServiceDefaults, fetchRetryMs: 0 });
  const config = mergeConfig(defaultConfig(), { dataDir: join(dir.path, "gw"), udp: { host: "127.0.0.1", port: 0 }, statsIntervalMs: 0 });
  gw = await IngestGateway.start(config, silentLogger(), { registry: new ChainDeviceRegistry(chain), firmware: service });
  outbox = TxOutbox.open(join(dir.path, "chain"), identity, chain.chainId);
  const signer = new NodeSigner(chain, mempool, outbox, () => {}, log);
  const feed = new ReadingFeed(chain, signer, gw.store, log);
  producer = new SoloProducer({ chain, mempool, identity, clock: Date.now, signer, feed, options: { emptyBlockIntervalMs: 1000 }, onBlock: () => {} });

  board = await Board.boot({
    dataDir: boardDir,
    link: { kind: "udp", host: "127.0.0.1", port: gw.udpAddress!.port },
    clock: new ScaledClock(20),
    updates: { publisherKey: publisher.publicKey, manifest: manifestFor({ seed: publisher.seed, publicKey: publisher.publicKey }, v1, 1), trialMs: 60_000 },
  });
}, 60_000);

afterAll(async () => {
  await board?.close();
  await gw?.close();
  producer?.stop();
  outbox?.close();
  chainParts?.store.close();
  await new Promise((r) => http?.close(r));
  dir?.remove();
});

describe("over the air, from a rollout on chain to the device's confirmed v2", () => {
  it("rolls v2 out: pulled with Block2, verified, on trial, confirmed by an acknowledged reading; the chain shows v2", async () => {
    const id = board.deviceIdHex;
    await readUntil(() => firmwareOnChain()?.version === 1, "the chain learns the device runs v1");
    release(2, v1);
    await readUntil(() => board.firmwareVersion === 2, "the board starts v2");
    const sequenceAtSwitch = board.stat("sequenceNext");
    await readUntil(() => !board.onTrial && firmwareOnChain()?.version === 2, "v2 confirmed and on chain");
    expect(board.deviceIdHex).toBe(id);
    expect(firmwareOnChain()!.sequence).toBeGreaterThanOrEqual(sequenceAtSwitch);
    expect(firmwareOnChain()!.failures).toEqual([]);
  }, 120_000);

  it("an image that traps in init: the board is back on v2 and the chain records the failed v3", async () => {
    release(3, await trapInInit(v1));
    await readUntil(() => (firmwareOnChain()?.failures.length ?? 0) > 0, "the failed attempt reaches the chain");
    expect(board.firmwareVersion).toBe(2);
    expect(board.onTrial).toBe(false);
    expect(firmwareOnChain()!.failures).toEqual([expect.objectContaining({ version: 3, reason: 6 /* TRAP */ })]);
    expect(firmwareOnChain()!.version).toBe(2);
  }, 120_000);

  it("lost no reading to the updates: every reading signed by v1, v2 and the failed v3's fallback is on chain", async () => {
    await board.idle(30_000);
    for (let i = 0; i < 20 && gw.store.counts().pending > 0; i++) produce();
    const signedTotal = board.total("readingsSigned");
    expect(board.total("readingsAcked")).toBe(signedTotal);
    expect(chainParts.chain.state().device(deviceId)!.readings).toBe(signedTotal);
  }, 60_000);
});
