// A solo chain in SQLite that trusts a firmware publisher, with a gateway in front of it (loopback UDP
// and, optionally, a serial port) that serves releases, and an HTTP server standing where releases'
// images are published. For end-to-end update tests: a board's device key is born on its flash first
// and enrolled in genesis.
import { createServer, type Server } from "node:http";
import { join } from "node:path";
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
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { Firmware } from "../../hardware/emulator/firmware.ts";
import { SlotStore } from "../../hardware/emulator/slot-store.ts";
import { RealClock } from "../../hardware/emulator/clock.ts";
import { makeFixture, openChain, seedIdentity, signed } from "../chain/fixture.ts";
import { manifestFor, type Publisher } from "./firmware-images.ts";

export interface FirmwareChain {
  publisher: Publisher;
  deviceId: Uint8Array;
  /** Its gateway (startGateway, unless started with gatewayLater). */
  readonly gateway: IngestGateway;
  chain: ReturnType<typeof openChain>["chain"];
  /** Starts the gateway, on loopback UDP and `serialPath` if given. */
  startGateway(serialPath?: string): Promise<void>;
  /** Produces one block (or n). */
  produce(n?: number): void;
  /** Publishes `image` as `version` and rolls it out to the board; returns the image id. */
  release(version: number, image: Uint8Array): string;
  /** What the chain knows of the board's firmware from its own readings. */
  firmware(): ReturnType<FirmwareState["deviceFirmware"]>;
  close(): Promise<void>;
}

/** The board's identity is created in `boardDir` (as `mote device keygen` does) and enrolled in genesis. */
export async function startFirmwareChain(dir: string, boardDir: string, o: { serialPath?: string; gatewayLater?: boolean } = {}): Promise<FirmwareChain> {
  const seed = seedIdentity(`firmware-chain/publisher/${dir}`);
  const publisher: Publisher = { seed: seed.seed, publicKey: seed.publicKey };
  const keygen = new Firmware({ clock: new RealClock(), slots: new SlotStore(boardDir), send: () => false, log: () => {} });
  keygen.init(0);
  const { publicKey, deviceId } = keygen.identity();

  const f = makeFixture({ gateways: 1, users: 1, devices: 0, label: "firmware-chain", params: { blockIntervalMs: 200 } });
  f.genesis.genesisTimeMs = Date.now() - 1000;
  f.genesis.firmwarePublishers = [toHex(publisher.publicKey)];
  (f.genesis.devices ??= []).push({ publicKey: toHex(publicKey), owner: toHex(f.owner.id), metadata: { model: "node-emulator" }, ttlDays: 0 });

  const images = new Map<string, Uint8Array>();
  const http: Server = createServer((req, res) => {
    const body = images.get(req.url ?? "");
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;

  const parts = openChain(f, join(dir, "chain"));
  const { chain, mempool, store } = parts;
  const identity = f.gateways[0];
  const log = pino({ level: "silent" });
  const outbox = TxOutbox.open(join(dir, "chain"), identity, chain.chainId);
  const signer = new NodeSigner(chain, mempool, outbox, () => {}, log);
  let gateway: IngestGateway | undefined;
  let producer: SoloProducer | undefined;
  const nonces = new Map<string, number>();
  const running = () => {
    if (!producer) throw new Error("startGateway first");
    return producer;
  };
  const submit = (who: Identity, body: Parameters<typeof signed>[3]) => {
    const n = nonces.get(toHex(who.id)) ?? 0;
    nonces.set(toHex(who.id), n + 1);
    mempool.add(signed(chain.chainId, who, n, body), Date.now());
    running().produce();
  };
  const net: FirmwareChain = {
    publisher,
    deviceId,
    get gateway() {
      if (!gateway) throw new Error("startGateway first");
      return gateway;
    },
    chain,
    async startGateway(serialPath) {
      const service = new FirmwareService(chain, new FirmwareImageStore(dir), silentLogger(), { ...firmwareServiceDefaults, fetchRetryMs: 0 });
      const config = mergeConfig(defaultConfig(), {
        dataDir: join(dir, "gw"),
        udp: { host: "127.0.0.1", port: 0 },
        statsIntervalMs: 0,
        ...(serialPath ? { serial: [{ path: serialPath, baudRate: 115_200 }] } : {}),
      });
      gateway = await IngestGateway.start(config, silentLogger(), { registry: new ChainDeviceRegistry(chain), firmware: service });
      const feed = new ReadingFeed(chain, signer, gateway.store, log);
      producer = new SoloProducer({ chain, mempool, identity, clock: Date.now, signer, feed, options: { emptyBlockIntervalMs: 1000 }, onBlock: () => {} });
    },
    produce: (n = 1) => {
      for (let i = 0; i < n; i++) running().produce();
    },
    release(version, image) {
      const manifest = manifestFor(publisher, image, version);
      const imageId = manifestImageId(manifest);
      images.set(`/${imageId}.wasm`, image);
      submit(f.users[0], { kind: "publishRelease", manifest, location: `${base}/${imageId}.wasm` });
      submit(f.owner, { kind: "startRollout", imageId: Buffer.from(imageId, "hex"), selector: { kind: "ids" }, targets: [deviceId], inFlightMax: 1 });
      return imageId;
    },
    firmware: () => new FirmwareState(chain.state()).deviceFirmware(deviceId),
    async close() {
      await gateway?.close();
      producer?.stop();
      outbox.close();
      store.close();
      await new Promise((r) => http.close(r));
    },
  };
  if (!o.gatewayLater) await net.startGateway(o.serialPath);
  return net;
}
