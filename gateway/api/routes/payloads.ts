// Off-chain payloads (issue 13 item 2, docs/payloads.md): the bytes by their SHA-256, and their proof
// chain: the finalized readings that anchor the digest (shared/payload-anchor.ts), each with its full
// provenance (provenance.ts). A client checks sha256(bytes) = the digest a reading names, and that
// reading's provenance from genesis (gateway/payloads/verify-payload.ts does both: `mote payload get --verify`).
import { mediaTypeOf } from "../../../shared/payload-anchor.ts";
import type { AnchorRow } from "../../payloads/anchor-index.ts";
import type { PayloadService } from "../../payloads/payload-service.ts";
import type { ApiContext } from "../context.ts";
import { ApiError, notFound } from "../errors.ts";
import { readingProvenance } from "../provenance.ts";
import { errorResponse, hexId, type JsonSchema, type RouteSpec } from "../route-spec.ts";
import { hex } from "../views.ts";

/** Anchoring readings served with their provenance in one proof answer. */
export const proofAnchorsMax = 4;

const obj = (properties: Record<string, JsonSchema>): JsonSchema => ({ type: "object", properties });
const anchorSchema = obj({
  deviceId: { type: "string" },
  sequence: { type: "integer" },
  name: { type: "string", description: "the SenML name of the anchor's records" },
  bytes: { type: "integer" },
  contentFormat: { type: "integer", description: "CoAP Content-Format (RFC 9193 ct)" },
  height: { type: "integer" },
  gatewayId: { type: "string", description: "the gateway that relayed the reading" },
});
const statusSchema = obj({
  sha256: { type: "string" },
  present: { type: "boolean", description: "false: anchored on chain but not on this gateway yet (being fetched, or not uploaded)" },
  bytes: { type: ["integer", "null"] },
  contentFormat: { type: ["integer", "null"] },
  mediaType: { type: ["string", "null"] },
  anchors: { type: "array", items: anchorSchema },
  fetch: { type: ["object", "null"], description: "while missing: attempts, next attempt (Unix ms), last error" },
});

function service(ctx: ApiContext): PayloadService {
  if (!ctx.payloads) throw new ApiError(503, "PAYLOADS_UNAVAILABLE", "this gateway keeps no payloads (it runs without a data directory)");
  return ctx.payloads;
}

const anchorView = (a: AnchorRow) => ({ deviceId: hex(a.deviceId), sequence: a.sequence, name: a.name, bytes: a.bytes, contentFormat: a.contentFormat, height: a.height, gatewayId: hex(a.gatewayId) });

function statusView(ctx: ApiContext, sha: string) {
  const s = service(ctx).status(sha);
  const first = s.anchors[0];
  return {
    sha256: sha,
    present: s.present,
    bytes: first?.bytes ?? service(ctx).store.size(sha) ?? null,
    contentFormat: first?.contentFormat ?? null,
    mediaType: first ? mediaTypeOf(first.contentFormat) : null,
    anchors: s.anchors.map(anchorView),
    fetch: s.fetch && { attempts: s.fetch.attempts, nextAttemptMs: Number.isFinite(s.fetch.nextAttemptMs) ? s.fetch.nextAttemptMs : null, lastError: s.fetch.lastError, tooLarge: s.fetch.tooLarge },
  };
}

export function payloadRoutes(ctx: ApiContext): RouteSpec[] {
  const sha256Param = { type: "object", required: ["sha256"], properties: { sha256: hexId(32, "the payload's SHA-256") } } as JsonSchema;
  return [
    {
      method: "GET",
      url: "/v1/payloads/:sha256",
      operationId: "getPayload",
      tag: "payloads",
      summary: "An off-chain payload's bytes by their SHA-256, with the media type its anchoring reading names (RFC 9193 ct)",
      description: "Also what gateways fetch missing payloads from. 404 PAYLOAD_MISSING: a finalized reading anchors it, but it is not here yet (uploaded later, or being fetched from another gateway).",
      params: sha256Param,
      responses: { 200: { description: "the bytes", contentType: "application/octet-stream" }, 404: errorResponse("PAYLOAD_NOT_FOUND or PAYLOAD_MISSING") },
      handler: (req: { params: { sha256: string } }, reply) => {
        const sha = req.params.sha256.toLowerCase();
        const bytes = service(ctx).store.get(sha);
        if (!bytes) {
          const s = service(ctx).status(sha);
          if (s.anchors.length) throw notFound("PAYLOAD_MISSING", `payload ${sha} is anchored by ${s.anchors.length} finalized reading(s) but not on this gateway yet${s.fetch?.lastError ? ` (last fetch: ${s.fetch.lastError})` : ""}; retry later or ask another gateway`);
          throw notFound("PAYLOAD_NOT_FOUND", `no payload ${sha} on this gateway and no finalized reading anchors it`);
        }
        const first = service(ctx).status(sha).anchors[0];
        reply.type(first ? mediaTypeOf(first.contentFormat) : "application/octet-stream");
        reply.header("cache-control", "public, max-age=31536000, immutable");
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      },
    },
    {
      method: "GET",
      url: "/v1/payloads/:sha256/proof",
      operationId: "getPayloadProof",
      tag: "payloads",
      summary: "A payload's proof chain: whether it is here, and the finalized readings that anchor its digest, each with its full provenance (as GET /v1/devices/{id}/readings/{seq})",
      description: `At most ${proofAnchorsMax} anchoring readings carry their provenance (anchors lists up to 16). A client checks sha256(bytes) = the digest the reading names and the reading's provenance from genesis.`,
      params: sha256Param,
      responses: { 200: { description: "status and proof chain", schema: { ...statusSchema, properties: { ...(statusSchema.properties as object), proofs: { type: "array", items: { type: "object" } } } } as JsonSchema }, 404: errorResponse("PAYLOAD_NOT_FOUND") },
      handler: (req: { params: { sha256: string } }) => {
        const sha = req.params.sha256.toLowerCase();
        const view = statusView(ctx, sha);
        if (!view.present && view.anchors.length === 0) throw notFound("PAYLOAD_NOT_FOUND", `no payload ${sha} on this gateway and no finalized reading anchors it`);
        const proofs = service(ctx)
          .status(sha)
          .anchors.slice(0, proofAnchorsMax)
          .map((a) => ({ anchor: anchorView(a), provenance: readingProvenance(ctx.chain, ctx.queries, ctx.reader, a.deviceId, a.sequence) }));
        return { ...view, proofs };
      },
    },
  ];
}
