// Devices, owners and gateways for gateway tests: real keys, real SQLite files in a temp dir,
// a real gateway bound to loopback UDP.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, type KeyObject } from "node:crypto";
import { deviceIdFromPublicKey, privateKeyObject, publicKeyFromSeed } from "../../shared/ed25519.ts";
import { encodeReading } from "../../shared/reading.ts";
import { encodeEnrollment, type EnrollmentMetadata } from "../../shared/enrollment.ts";
import { sensorCatalog } from "../../shared/sensor-catalog.ts";
import { defaultConfig, mergeConfig, type GatewayConfig } from "../../gateway/config.ts";
import { IngestGateway } from "../../gateway/ingest/ingest-gateway.ts";
import { silentLogger, type Logger } from "../../gateway/log.ts";

export interface TestKey {
  seed: Uint8Array;
  privateKey: KeyObject;
  publicKey: Uint8Array;
}

export function makeKey(seed: Uint8Array = new Uint8Array(randomBytes(32))): TestKey {
  return { seed, privateKey: privateKeyObject(seed), publicKey: publicKeyFromSeed(seed) };
}

export class TestDevice {
  readonly key: TestKey;
  readonly deviceId: Uint8Array;
  nextSequence = 0;

  constructor(seed?: Uint8Array) {
    this.key = makeKey(seed);
    this.deviceId = deviceIdFromPublicKey(this.key.publicKey);
  }

  /** A signed reading exactly as the firmware makes it (shared/reading.ts). */
  reading(value = 21.5, sequence = this.nextSequence++, sensor = 0): Uint8Array {
    const s = sensorCatalog[sensor];
    return encodeReading(this.key.privateKey, this.deviceId, sequence, [{ name: s.name, unit: s.unit, value }]);
  }

  enrollment(owner: TestKey, metadata: EnrollmentMetadata = new Map([["site", "lab"]])): Uint8Array {
    return encodeEnrollment(owner.privateKey, owner.publicKey, this.key.publicKey, metadata);
  }
}

export function tempDir(prefix = "mote-gw-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestGateway {
  gw: IngestGateway;
  port: number;
  owner: TestKey;
  dataDir: string;
  /** Enrolls devices straight into the registry (the CoAP path has its own tests). */
  enroll(...devices: TestDevice[]): void;
  stop(): Promise<void>;
}

/** `blockIntervalMs`: the chain's pace, as a chain-running gateway gives it (its backlog then also sheds by wait, ingest/backlog.ts). */
export async function startTestGateway(overrides: Record<string, unknown> = {}, options: { dataDir?: string; log?: Logger; owner?: TestKey; blockIntervalMs?: () => number } = {}): Promise<TestGateway> {
  const dir = options.dataDir ? undefined : tempDir();
  const dataDir = options.dataDir ?? dir!.path;
  const owner = options.owner ?? makeKey();
  const config: GatewayConfig = mergeConfig(defaultConfig(), {
    dataDir,
    udp: { host: "127.0.0.1", port: 0 },
    statsIntervalMs: 0,
    enrollment: { trustedOwners: [Buffer.from(owner.publicKey).toString("hex")] },
    ...overrides,
  });
  const gw = await IngestGateway.start(config, options.log ?? silentLogger(), { blockIntervalMs: options.blockIntervalMs });
  return {
    gw,
    port: gw.udpAddress?.port ?? 0,
    owner,
    dataDir,
    enroll(...devices) {
      for (const d of devices) gw.enrollment.enroll(d.enrollment(owner));
    },
    async stop() {
      await gw.close();
      dir?.remove();
    },
  };
}
