// Firmware (issue 11, docs/firmware-update.md): releases, rollouts with their progress and failures, the
// fleet by version (all from chain state), and the images this gateway keeps: uploaded by a publisher
// (checked against a manifest signed by one of the chain's publisher keys) and served to other gateways
// at the location a release names.
import { fromHex, toHex } from "../../../shared/ed25519.ts";
import { FirmwareError } from "../../../shared/errors.ts";
import { decodeManifest, firmwareFailureName, imageBytesMax, verifyImage, verifyManifest, type SignedManifest } from "../../../shared/firmware-manifest.ts";
import { deviceCodec } from "../../chain/records.ts";
import { decode } from "../../../shared/cbor.ts";
import type { ReleaseRecord, RolloutRecord } from "../../chain/firmware-records.ts";
import { rolloutProgress } from "../../chain/firmware-rollout.ts";
import { FirmwareState } from "../../chain/firmware-state.ts";
import type { FirmwareImageStore } from "../../firmware/image-store.ts";
import type { ApiContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { errorResponse, hexId, type JsonSchema, type RouteSpec } from "../route-spec.ts";

/** Devices the fleet view reads at most (the device index is walked in id order). */
export const fleetDevicesMax = 10_000;

const obj = (properties: Record<string, JsonSchema>): JsonSchema => ({ type: "object", properties });
const releaseSchema = obj({
  imageId: { type: "string" },
  version: { type: "integer" },
  versionText: { type: ["string", "null"] },
  imageBytes: { type: "integer" },
  imageSha256: { type: "string" },
  abiVersion: { type: "integer" },
  publisherKid: { type: "string" },
  location: { type: "string" },
  author: { type: "string" },
  height: { type: "integer" },
});
const countsSchema = obj({ updated: { type: "integer" }, failed: { type: "integer" }, inactive: { type: "integer" }, unsupported: { type: "integer" }, offered: { type: "integer" }, waiting: { type: "integer" } });
const rolloutSchema = obj({
  number: { type: "integer" },
  imageId: { type: "string" },
  version: { type: "integer" },
  author: { type: "string" },
  selector: { type: "object" },
  targets: { type: "integer" },
  inFlightMax: { type: "integer" },
  height: { type: "integer" },
  stoppedHeight: { type: ["integer", "null"] },
  running: { type: "boolean" },
  counts: countsSchema,
});

function releaseView(imageId: string, r: ReleaseRecord, m: SignedManifest) {
  return {
    imageId,
    version: m.manifest.version,
    versionText: m.manifest.versionText ?? null,
    imageBytes: m.manifest.imageBytes,
    imageSha256: toHex(m.manifest.imageDigest),
    abiVersion: m.manifest.abiVersion,
    publisherKid: toHex(m.kid),
    location: r.location,
    author: toHex(r.author),
    height: r.height,
  };
}

function selectorView(r: RolloutRecord) {
  const s = r.selector;
  return s.kind === "ids" ? { kind: "ids" } : s.kind === "owner" ? { kind: "owner", owner: toHex(s.ownerId) } : { kind: "metadata", key: s.key, value: s.value };
}

function rolloutView(ctx: ApiContext, n: number, withTargets: boolean) {
  const p = rolloutProgress(ctx.chain.state(), n);
  if (!p) throw notFound("ROLLOUT_NOT_FOUND", `no rollout ${n} on this chain; GET /v1/firmware/rollouts lists them`);
  const view = {
    number: n,
    imageId: toHex(p.rollout.imageId),
    version: p.release.version,
    author: toHex(p.rollout.author),
    selector: selectorView(p.rollout),
    targets: p.rollout.targets.length,
    inFlightMax: p.rollout.inFlightMax,
    height: p.rollout.height,
    stoppedHeight: p.rollout.stoppedHeight || null,
    running: p.running,
    counts: p.counts,
  };
  if (!withTargets) return view;
  const targets = p.targets.map((t) => ({ deviceId: toHex(t.deviceId), status: t.status, version: t.version, reason: t.reason === undefined ? null : firmwareFailureName(t.reason) }));
  return { ...view, targetList: targets };
}

function imageStore(ctx: ApiContext): FirmwareImageStore {
  if (!ctx.firmwareImages) throw new ApiError(503, "FIRMWARE_IMAGES_UNAVAILABLE", "this gateway keeps no firmware images (it runs without a data directory)");
  return ctx.firmwareImages;
}

function uploadImage(ctx: ApiContext, manifestB64: string, imageB64: string) {
  let signed: SignedManifest;
  const image = new Uint8Array(Buffer.from(imageB64, "base64"));
  try {
    signed = decodeManifest(new Uint8Array(Buffer.from(manifestB64, "base64")));
    verifyManifest(signed, new FirmwareState(ctx.chain.state()).publishers());
    verifyImage(signed.manifest, image);
  } catch (e) {
    if (e instanceof FirmwareError) throw new ApiError(422, e.code, e.message);
    throw e;
  }
  imageStore(ctx).put(signed.manifest, image);
  const sha = toHex(signed.manifest.imageDigest);
  return { imageId: signed.imageId, imageSha256: sha, path: `/v1/firmware/images/${sha}` };
}

export function firmwareRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/firmware/releases",
      operationId: "listFirmwareReleases",
      tag: "firmware",
      summary: "Firmware releases published on chain, oldest first",
      responses: { 200: { description: "the releases", schema: { type: "object", properties: { items: { type: "array", items: releaseSchema } } } } },
      handler: () => {
        const fw = new FirmwareState(ctx.chain.state());
        const items = fw.releaseIds().map((id) => {
          const r = fw.release(id)!;
          return releaseView(toHex(id), r, decodeManifest(r.manifest));
        });
        return { items };
      },
    },
    {
      method: "GET",
      url: "/v1/firmware/releases/:id",
      operationId: "getFirmwareRelease",
      tag: "firmware",
      summary: "One release, with its COSE_Sign1 manifest (hex)",
      params: { type: "object", required: ["id"], properties: { id: hexId(8, "image id") } },
      responses: { 200: { description: "the release", schema: releaseSchema }, 404: errorResponse("no such release") },
      handler: (req: { params: { id: string } }) => {
        const id = req.params.id.toLowerCase();
        const r = new FirmwareState(ctx.chain.state()).release(fromHex(id));
        if (!r) throw notFound("RELEASE_NOT_FOUND", `no release ${id} on this chain; GET /v1/firmware/releases lists them`);
        return { ...releaseView(id, r, decodeManifest(r.manifest)), manifest: toHex(r.manifest) };
      },
    },
    {
      method: "GET",
      url: "/v1/firmware/rollouts",
      operationId: "listFirmwareRollouts",
      tag: "firmware",
      summary: "Every rollout, newest first, with its progress counts (updated, failed, inactive, unsupported, offered, waiting)",
      responses: { 200: { description: "the rollouts", schema: { type: "object", properties: { items: { type: "array", items: rolloutSchema } } } } },
      handler: () => {
        const count = new FirmwareState(ctx.chain.state()).rolloutIndex().count;
        return { items: Array.from({ length: count }, (_, i) => rolloutView(ctx, count - i, false)) };
      },
    },
    {
      method: "GET",
      url: "/v1/firmware/rollouts/:n",
      operationId: "getFirmwareRollout",
      tag: "firmware",
      summary: "One rollout: each target's status (updated, failed with its reason, inactive, unsupported: it reports version 0, a host without image slots, offered, waiting) and reported version",
      params: { type: "object", required: ["n"], properties: { n: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } },
      responses: { 200: { description: "the rollout and its targets", schema: rolloutSchema }, 404: errorResponse("no such rollout") },
      handler: (req: { params: { n: number } }) => rolloutView(ctx, req.params.n, true),
    },
    {
      method: "GET",
      url: "/v1/firmware/fleet",
      operationId: "getFirmwareFleet",
      tag: "firmware",
      summary: `The fleet by firmware version (each device's version from its own signed readings; 0 = never reported), first ${fleetDevicesMax} devices`,
      responses: { 200: { description: "versions with their device counts, and each device", schema: obj({ versions: { type: "array" }, devices: { type: "array" } }) } },
      handler: () => {
        const fw = new FirmwareState(ctx.chain.state());
        const rows = ctx.queries.devices(undefined, fleetDevicesMax);
        const byVersion = new Map<number, number>();
        const devices = rows.map((r) => {
          const d = fw.deviceFirmware(fromHex(r.idHex));
          const version = d?.version ?? 0;
          byVersion.set(version, (byVersion.get(version) ?? 0) + 1);
          const device = deviceCodec.from(decode(r.value));
          return {
            deviceId: r.idHex,
            owner: toHex(device.owner),
            version,
            reportedSequence: d && d.sequence >= 0 ? d.sequence : null,
            reportedHeight: d && d.sequence >= 0 ? d.height : null,
            failures: (d?.failures ?? []).map((f) => ({ version: f.version, reason: firmwareFailureName(f.reason), sequence: f.sequence, height: f.height })),
          };
        });
        const versions = [...byVersion].sort((a, b) => b[0] - a[0]).map(([version, count]) => ({ version, devices: count }));
        return { atHeight: ctx.chain.head().height, versions, devices, truncated: rows.length === fleetDevicesMax };
      },
    },
    {
      method: "POST",
      url: "/v1/firmware/images",
      operationId: "uploadFirmwareImage",
      tag: "firmware",
      summary: "Keep an image on this gateway (before publishing its release): the manifest must be signed by a publisher key of this chain and match the image",
      description: "Answers the path other gateways fetch the image from (GET /v1/firmware/images/{sha256}); use this gateway's URL + path as the release's location.",
      bodyLimit: Math.ceil((imageBytesMax * 4) / 3) + 4096,
      body: {
        type: "object",
        required: ["manifest", "image"],
        additionalProperties: false,
        properties: { manifest: { type: "string", maxLength: 512, description: "the COSE_Sign1 manifest, base64" }, image: { type: "string", maxLength: Math.ceil((imageBytesMax * 4) / 3) + 4, description: "the image, base64" } },
      },
      responses: { 201: { description: "kept", schema: obj({ imageId: { type: "string" }, imageSha256: { type: "string" }, path: { type: "string" } }) }, 422: errorResponse("MANIFEST, SIGNATURE or DIGEST") },
      handler: (req: { body: { manifest: string; image: string } }, reply) => {
        reply.code(201);
        return uploadImage(ctx, req.body.manifest, req.body.image);
      },
    },
    {
      method: "GET",
      url: "/v1/firmware/images/:sha256",
      operationId: "getFirmwareImage",
      tag: "firmware",
      summary: "An image this gateway keeps, by its SHA-256 (what a release's location points at)",
      params: { type: "object", required: ["sha256"], properties: { sha256: hexId(32, "the image's SHA-256") } },
      responses: { 200: { description: "the image", contentType: "application/octet-stream" }, 404: errorResponse("not kept here") },
      handler: (req: { params: { sha256: string } }, reply) => {
        const digest = fromHex(req.params.sha256.toLowerCase());
        const bytes = imageStore(ctx).get(digest); // only bytes that hash to `digest` (image-store.ts)
        if (!bytes) throw notFound("IMAGE_NOT_FOUND", `no image ${req.params.sha256} on this gateway; upload it with mote firmware release`);
        reply.type("application/octet-stream");
        return Buffer.from(bytes);
      },
    },
  ];
}
