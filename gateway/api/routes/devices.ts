// Devices (enrolled on chain), their readings by time range, and one reading's provenance.
import { fromHex, toHex } from "../../../shared/ed25519.ts";
import { decode } from "../../../shared/cbor.ts";
import { deviceCodec, deviceStatus } from "../../chain/records.ts";
import { deviceReports, quarantineCause } from "../../chain/quarantine.ts";
import type { ApiContext } from "../context.ts";
import { badRequest, notFound } from "../errors.ts";
import { readingProvenance } from "../provenance.ts";
import { errorResponse, hexId, limitParam, page, ref, timeMsParam, type RouteSpec } from "../route-spec.ts";
import { deviceView, readingView, type QuarantineView } from "../views.ts";
import { evidencePerDeviceMax } from "../../chain/options.ts";

const deviceIdParams = { type: "object", required: ["id"], properties: { id: hexId(16, "device id (first 16 bytes of SHA-256 of its public key)") } };
const sequenceMax = 2 ** 40 - 1; // shared/constants.ts: a 5-byte Partial IV

function device(ctx: ApiContext, idHex: string) {
  const id = fromHex(idHex.toLowerCase());
  const d = ctx.chain.state().device(id);
  if (!d) throw notFound("DEVICE_NOT_FOUND", `device ${idHex.toLowerCase()} is not enrolled on this chain`);
  return { id, d };
}

/** The time window of a readings query: explicit bounds, or the default window ending now. */
function timeRange(ctx: ApiContext, q: { from?: number; to?: number }): { fromMs: number; toMs: number } {
  const o = ctx.options;
  // Receipt times may run slightly ahead of this node's clock (another gateway's clock).
  const toMs = q.to ?? (q.from !== undefined ? q.from + o.readingsRangeMsDefault : ctx.clock() + ctx.chain.params().blockTimeDriftMaxMs);
  const fromMs = q.from ?? Math.max(0, toMs - o.readingsRangeMsDefault);
  if (fromMs > toMs) throw badRequest("BAD_RANGE", `from (${fromMs}) is after to (${toMs})`);
  if (toMs - fromMs > o.readingsRangeMsMax) throw badRequest("RANGE_TOO_WIDE", `the range spans ${toMs - fromMs} ms; at most ${o.readingsRangeMsMax} ms (${o.readingsRangeMsMax / 86_400_000} days) per query: page through narrower ranges`);
  return { fromMs, toMs };
}

export function deviceRoutes(ctx: ApiContext): RouteSpec[] {
  const o = ctx.options;
  return [
    {
      method: "GET",
      url: "/v1/devices",
      operationId: "listDevices",
      tag: "devices",
      summary: "Devices enrolled on chain, in id order, with status, sequence and last reading",
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: { limit: limitParam(o.pageItemsMax, o.pageItemsDefault), cursor: { ...hexId(16, "opaque: the `next` of the previous page") } },
      },
      responses: { 200: { description: "a page of devices", schema: page("Device") }, 400: errorResponse("bad parameter") },
      handler: (req: { query: { limit: number; cursor?: string } }) => {
        const rows = ctx.queries.devices(req.query.cursor?.toLowerCase(), req.query.limit);
        const items = rows.map((r) => deviceView(r.idHex, deviceCodec.from(decode(r.value)), ctx.queries.lastReading(fromHex(r.idHex))));
        return { items, next: rows.length === req.query.limit ? rows[rows.length - 1].idHex : null };
      },
    },
    {
      method: "GET",
      url: "/v1/devices/:id",
      operationId: "getDevice",
      tag: "devices",
      summary: "One device: key, owner, status (and since when), last sequence, reading count, last reading, and the evidence on chain that explains a quarantine",
      params: deviceIdParams,
      responses: { 200: { description: "the device", schema: ref("Device") }, 400: errorResponse("not a device id"), 404: errorResponse("not enrolled") },
      handler: (req: { params: { id: string } }) => {
        const { id, d } = device(ctx, req.params.id);
        const state = ctx.chain.state();
        const evidence = Array.from({ length: Math.min(d.evidence, evidencePerDeviceMax) }, (_, i) => state.evidence(id, i)).filter((e) => e !== undefined);
        let quarantine: QuarantineView | undefined;
        if (d.status === deviceStatus.quarantined) {
          const reports = deviceReports(state, id);
          const cause = quarantineCause(state, id);
          quarantine = { cause, liftable: cause === "reports", reporters: (reports?.reports ?? []).map((r) => toHex(r.reporter)), sinceHeight: reports?.quarantinedAt ?? null };
        }
        return deviceView(id, d, ctx.queries.lastReading(id), evidence, quarantine);
      },
    },
    {
      method: "GET",
      url: "/v1/devices/:id/readings",
      operationId: "listReadings",
      tag: "devices",
      summary: "A device's finalized readings received in a time range, with their values",
      description: `Readings received in [\`from\`, \`to\`] (Unix ms, inclusive), ordered by receipt time then sequence. Without bounds: the last ${o.readingsRangeMsDefault / 3_600_000} hours. A range spans at most ${o.readingsRangeMsMax / 86_400_000} days. Pass \`next\` as \`cursor\` with the same range for the following page.`,
      params: deviceIdParams,
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          from: timeMsParam("earliest receipt time"),
          to: timeMsParam("latest receipt time"),
          order: { type: "string", enum: ["asc", "desc"], default: "asc" },
          limit: limitParam(o.pageItemsMax, o.pageItemsDefault),
          cursor: { type: "string", pattern: "^[0-9]{1,16}\\.[0-9]{1,13}$", description: "opaque: the `next` of the previous page" },
        },
      },
      responses: { 200: { description: "a page of readings", schema: page("Reading") }, 400: errorResponse("bad range, cursor or parameter"), 404: errorResponse("device not enrolled") },
      handler: (req: { params: { id: string }; query: { from?: number; to?: number; order: "asc" | "desc"; limit: number; cursor?: string } }) => {
        const { id } = device(ctx, req.params.id);
        const q = req.query;
        const range = timeRange(ctx, q);
        const after = q.cursor === undefined ? undefined : { receivedAtMs: Number(q.cursor.split(".")[0]), sequence: Number(q.cursor.split(".")[1]) };
        const rows = ctx.queries.readings(id, range, after, q.limit, q.order);
        const items = rows.map((r) => readingView(r, ctx.reader.reading(r.height, r.txIndex, r.position)?.reading));
        const last = rows.at(-1);
        return { items, next: last && rows.length === q.limit ? `${last.receivedAtMs}.${last.sequence}` : null };
      },
    },
    {
      method: "GET",
      url: "/v1/devices/:id/readings/:seq",
      operationId: "getReadingProvenance",
      tag: "devices",
      summary: "One finalized reading with its provenance: device signature, gateway co-signature and Merkle proof, block, certificate, and the two-step state proof (device record, then the device's reading log)",
      description:
        "Each link carries the material to check it independently (keys, signatures, signed bytes, audit paths, header) and this gateway's verdict (`valid`); `verified` is true when every link holds. The state link has two steps against the head's state root: `state.device` proves the device's record (a sparse Merkle proof of `device/<id>`); the record's log frontier gives the root of the device's RFC 6962 reading log, and `state.log` carries the reading's leaf and its audit path to that root.",
      params: { type: "object", required: ["id", "seq"], properties: { id: deviceIdParams.properties.id, seq: { type: "integer", minimum: 0, maximum: sequenceMax } } },
      responses: { 200: { description: "the reading and its provenance", schema: ref("Provenance") }, 400: errorResponse("bad id or sequence"), 404: errorResponse("no such finalized reading") },
      handler: (req: { params: { id: string; seq: number } }) => {
        const { id } = device(ctx, req.params.id);
        return readingProvenance(ctx.chain, ctx.queries, ctx.reader, id, req.params.seq);
      },
    },
  ];
}
