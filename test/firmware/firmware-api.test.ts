// The firmware API over a real chain (SQLite in memory): image upload checked against the chain's
// publisher keys and the manifest, image serving by SHA-256, releases, rollouts with progress and
// failures, and the fleet by version; every answer checked against the OpenAPI document.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { manifestImageId, signManifest } from "../../shared/firmware-manifest.ts";
import { encodeReading } from "../../shared/reading.ts";
import { createApiServer, SoloConsensusSource, type ApiServer } from "../../gateway/api/index.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { FirmwareImageStore } from "../../gateway/firmware/image-store.ts";
import { buildAndCommit } from "../chain/drive.ts";
import { batchBody, makeFixture, openChain, seedIdentity, signed } from "../chain/fixture.ts";
import { tempDir } from "../support/gateway-fixtures.ts";
import { client, expectError } from "../api/http.ts";

const publisher = seedIdentity("firmware-api/publisher");
const stranger = seedIdentity("firmware-api/stranger");
const f = makeFixture({ gateways: 1, users: 1, devices: 3, label: "firmware-api" });
f.genesis.firmwarePublishers = [toHex(publisher.publicKey)];
const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
const image = randomBytes(2000);
const manifest = signManifest(publisher.seed, { version: 2, imageBytes: image.length, imageDigest: sha256(image), abiVersion: 2, versionText: "2.0.0" });
const imageId = manifestImageId(manifest);
const devices = [...f.devices].sort((a, b) => Buffer.compare(a.id, b.id));
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

let api: ApiServer;
let http: ReturnType<typeof client>;
let dir: { path: string; remove: () => void };

beforeAll(async () => {
  dir = tempDir("mote-fw-api-");
  const { chain, mempool } = openChain(f);
  const at = (h: number) => f.genesis.genesisTimeMs + h * 1000;
  const id = f.genesis.chainId;
  buildAndCommit(chain, signers, [signed(id, f.users[0], 0, { kind: "publishRelease", manifest, location: `http://127.0.0.1:1/v1/firmware/images/${toHex(sha256(image))}` })], at(1));
  buildAndCommit(chain, signers, [signed(id, f.owner, 0, { kind: "startRollout", imageId: Buffer.from(imageId, "hex"), selector: { kind: "metadata", key: "model", value: "test" }, targets: devices.map((d) => d.id), inFlightMax: 2 })], at(2));
  const [a, b] = devices;
  const reading = (d: Identity, seq: number, fw: { name: string; value: number }[]) => ({ bytes: encodeReading(d.key, d.id, seq, [{ name: "temp", value: 1 }, ...fw]), receivedAtMs: at(2) });
  const gw = f.gateways[0];
  buildAndCommit(chain, signers, [signed(id, gw, 0, batchBody(gw, [reading(a, 1, [{ name: "fw", value: 2 }]), reading(b, 1, [{ name: "fw", value: 1 }, { name: "fw.fail", value: 2 }, { name: "fw.why", value: 7 }])]))], at(3));
  api = await createApiServer({ chain, mempool, consensus: new SoloConsensusSource(chain, gw.id), firmwareImages: new FirmwareImageStore(dir.path) });
  http = client(api);
});

afterAll(async () => {
  await api?.close();
  dir?.remove();
});

describe("firmware API", () => {
  it("keeps an uploaded image only under a publisher's manifest that matches it, and serves it by SHA-256", async () => {
    const other = signManifest(stranger.seed, { version: 2, imageBytes: image.length, imageDigest: sha256(image), abiVersion: 2 });
    expectError(await http.post("/v1/firmware/images", { manifest: b64(other), image: b64(image) }), 422, "SIGNATURE");
    expectError(await http.post("/v1/firmware/images", { manifest: b64(manifest), image: b64(image.subarray(1)) }), 422, "DIGEST");
    expectError(await http.post("/v1/firmware/images", { manifest: b64(image.subarray(0, 10)), image: b64(image) }), 422, "MANIFEST");
    const path = `/v1/firmware/images/${toHex(sha256(image))}`;
    expectError(await http.get(path), 404, "IMAGE_NOT_FOUND");
    const up = await http.post("/v1/firmware/images", { manifest: b64(manifest), image: b64(image) });
    expect(up.status, up.body).toBe(201);
    expect(up.json).toEqual({ imageId, imageSha256: toHex(sha256(image)), path });
    const got = await api.app.inject({ method: "GET", url: path });
    expect(got.statusCode).toBe(200);
    expect(toHex(sha256(got.rawPayload))).toBe(toHex(sha256(image)));
  });

  it("lists releases and rollouts with progress, failures by name, and the fleet by version", async () => {
    const releases = await http.get("/v1/firmware/releases");
    expect(releases.json.items).toMatchObject([{ imageId, version: 2, versionText: "2.0.0", imageBytes: 2000, abiVersion: 2 }]);
    expect((await http.get(`/v1/firmware/releases/${imageId}`)).json.manifest).toBe(toHex(manifest));
    expectError(await http.get("/v1/firmware/releases/0000000000000000"), 404, "RELEASE_NOT_FOUND");
    const rollouts = await http.get("/v1/firmware/rollouts");
    expect(rollouts.json.items).toMatchObject([{ number: 1, imageId, version: 2, running: true, targets: 3, counts: { updated: 1, failed: 1, offered: 1, waiting: 0, inactive: 0 } }]);
    const one = await http.get("/v1/firmware/rollouts/1");
    expect(one.json.targetList).toEqual([
      { deviceId: toHex(devices[0].id), status: "updated", version: 2, reason: null },
      { deviceId: toHex(devices[1].id), status: "failed", version: 1, reason: "UNCONFIRMED" },
      { deviceId: toHex(devices[2].id), status: "offered", version: 0, reason: null },
    ]);
    expectError(await http.get("/v1/firmware/rollouts/9"), 404, "ROLLOUT_NOT_FOUND");
    const fleet = await http.get("/v1/firmware/fleet");
    expect(fleet.json.versions).toEqual([{ version: 2, devices: 1 }, { version: 1, devices: 1 }, { version: 0, devices: 1 }]);
    expect(fleet.json.devices.find((d: { deviceId: string }) => d.deviceId === toHex(devices[1].id)).failures).toMatchObject([{ version: 2, reason: "UNCONFIRMED" }]);
  });
});
