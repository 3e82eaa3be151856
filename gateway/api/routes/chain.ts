// Chain head and finality, consensus progress, and the block explorer's routes.
import { fromHex } from "../../../shared/ed25519.ts";
import { txKindOfType } from "../../../shared/tx.ts";
import { decodeHeader } from "../../chain/block.ts";
import { paramsToJson } from "../../chain/params.ts";
import type { ApiContext } from "../context.ts";
import { badRequest, notFound } from "../errors.ts";
import { errorResponse, heightParam, limitParam, page, ref, type RouteSpec } from "../route-spec.ts";
import { blockSummaryView, certificateView, headerView, hex } from "../views.ts";
import { certificateCheck } from "../provenance.ts";

const blockIdParam = { type: "object", required: ["id"], properties: { id: { type: "string", pattern: "^([0-9]{1,15}|[0-9a-fA-F]{64})$", description: "a height, or a block hash as 64 hex digits" } } };

/** Height of a block given by height or hash; 404 when there is none. */
export function resolveBlock(ctx: ApiContext, id: string): number {
  const height = id.length === 64 ? ctx.queries.heightOfHash(fromHex(id.toLowerCase())) : Number(id);
  if (height === undefined || height > ctx.chain.head().height) throw notFound("BLOCK_NOT_FOUND", `no finalized block ${id}; the head is at height ${ctx.chain.head().height}`);
  return height;
}

export function headView(ctx: ApiContext) {
  const head = ctx.chain.head();
  const c = ctx.consensus.snapshot();
  return {
    chainId: ctx.chain.chainId,
    height: head.height,
    hash: hex(head.hash),
    timeMs: head.header.timeMs,
    proposer: hex(head.header.proposer),
    stateRoot: hex(head.header.stateRoot),
    finalizedHeight: head.height,
    finality: { mode: c.mode, ...ctx.watcher.recentFinality() },
    consensus: { height: c.height, round: c.round, proposer: c.proposer ? hex(c.proposer) : null },
  };
}

export function chainRoutes(ctx: ApiContext): RouteSpec[] {
  const o = ctx.options;
  return [
    {
      method: "GET",
      url: "/v1/head",
      operationId: "getHead",
      tag: "chain",
      summary: "The finalized head and recent finality latency",
      description: "Every committed block is final (PBFT, or the single validator in development): `finalizedHeight` equals `height`. `finality` gives the latency from a block's header time to its finalization here, over the last blocks this gateway saw.",
      responses: { 200: { description: "the head", schema: ref("Head") } },
      handler: () => headView(ctx),
    },
    {
      method: "GET",
      url: "/v1/params",
      operationId: "getParams",
      tag: "chain",
      summary: "The chain's parameters in force at the head: fees, limits and the contracts' gas schedule",
      description: "What a client needs to pay the least fee: txFee, readingFee per reading, codeByteFee per byte of deployed code, and a call's gas limit at gasPerToken gas per token (gateway/chain/apply-tx.ts minimumFee). Amounts are decimal strings.",
      responses: { 200: { description: "the parameters (gateway/chain/params.ts names)", schema: ref("Params") } },
      handler: () => paramsToJson(ctx.chain.params()),
    },
    {
      method: "GET",
      url: "/v1/consensus",
      operationId: "getConsensus",
      tag: "chain",
      summary: "Consensus progress: height and round being decided, proposer, votes seen",
      responses: { 200: { description: "consensus state", schema: ref("Consensus") } },
      handler: () => {
        const c = ctx.consensus.snapshot();
        const head = ctx.chain.head();
        const stored = ctx.chain.store.block(head.height);
        const cert = certificateView(stored?.certificate ?? null);
        const signed = new Set((cert?.signatures ?? []).map((s) => s.validatorId));
        const votes = new Map(c.votes.map((v) => [hex(v.validatorId), v]));
        return {
          mode: c.mode,
          height: c.height,
          round: c.round,
          proposer: c.proposer ? hex(c.proposer) : null,
          roundChangesTotal: c.roundChangesTotal,
          decidedTotal: c.decidedTotal,
          peersConnected: c.peersConnected ?? null,
          finalizedHeight: head.height,
          validators: ctx.chain.validators().validators.map((v) => {
            const id = hex(v.id);
            return { id, power: v.power.toString(), prepare: votes.get(id)?.prepare ?? false, commit: votes.get(id)?.commit ?? false, signedHead: signed.has(id) };
          }),
        };
      },
    },
    {
      method: "GET",
      url: "/v1/blocks",
      operationId: "listBlocks",
      tag: "blocks",
      summary: "Finalized blocks, newest first by default",
      description: "Heights in [`from`, `to`] (default: genesis to head), one page at a time. Pass the returned `next` as `cursor` for the following page.",
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          from: heightParam,
          to: heightParam,
          order: { type: "string", enum: ["asc", "desc"], default: "desc" },
          limit: limitParam(o.pageItemsMax, o.pageItemsDefault),
          cursor: { type: "string", pattern: "^[0-9]{1,15}$", description: "opaque: the `next` of the previous page" },
        },
      },
      responses: { 200: { description: "a page of block summaries", schema: page("BlockSummary") }, 400: errorResponse("bad range or parameter") },
      handler: (req: { query: { from?: number; to?: number; order: "asc" | "desc"; limit: number; cursor?: string } }) => {
        const q = req.query;
        const head = ctx.chain.head().height;
        const from = q.from ?? 0;
        const to = Math.min(q.to ?? head, head);
        if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw badRequest("BAD_RANGE", `from (${q.from}) is above to (${q.to})`);
        const cursor = q.cursor === undefined ? undefined : Number(q.cursor);
        const lo = q.order === "asc" ? Math.max(from, cursor ?? from) : from;
        const hi = q.order === "desc" ? Math.min(to, cursor ?? to) : to;
        const rows = lo > hi ? [] : ctx.queries.blocks(lo, hi, q.limit, q.order);
        const items = rows.map((r) => blockSummaryView({ ...r, proposer: decodeHeader(r.header).proposer }));
        const last = rows.at(-1);
        let next: string | null = null;
        if (last && rows.length === q.limit) {
          const n = q.order === "asc" ? last.height + 1 : last.height - 1;
          if (n >= lo && n <= hi) next = String(n);
        }
        return { items, next };
      },
    },
    {
      method: "GET",
      url: "/v1/blocks/:id",
      operationId: "getBlock",
      tag: "blocks",
      summary: "One block by height or hash: header, certificate and its transactions",
      params: blockIdParam,
      querystring: { type: "object", additionalProperties: false, properties: { txLimit: limitParam(o.pageItemsMax, o.pageItemsDefault) } },
      responses: { 200: { description: "the block", schema: ref("Block") }, 400: errorResponse("not a height or hash"), 404: errorResponse("no such finalized block") },
      handler: (req: { params: { id: string }; query: { txLimit: number } }) => {
        const height = resolveBlock(ctx, req.params.id);
        const block = ctx.reader.block(height)!;
        const txs = ctx.queries.txsOfBlock(height, 0, req.query.txLimit);
        const readings = ctx.queries.blocks(height, height, 1, "asc")[0]?.readings ?? 0;
        return {
          ...headerView(block.header, block.hash),
          txCount: block.txs.length,
          readings,
          txs: txs.map((t) => ({ id: hex(t.id), index: t.index, kind: txKindOfType(t.kind) ?? null, author: hex(t.author) })),
          certificate: height === 0 ? null : { ...certificateView(block.certificate), check: certificateCheck(ctx.chain, block.header, block.hash, block.certificate) },
          lastCommit: certificateView(block.lastCommit),
        };
      },
    },
  ];
}
