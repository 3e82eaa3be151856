// Transactions: look one up (finalized or still pending), and submit signed transaction bytes to
// this gateway's mempool, where they are checked at once (signature, nonce, fee, state) so the
// client learns why a transaction would fail before waiting for a block.
import { fromHex, toHex } from "../../../shared/ed25519.ts";
import { decodeTx, TxError } from "../../../shared/tx.ts";
import { TxRejected } from "../../chain/errors.ts";
import type { ApiContext } from "../context.ts";
import { ApiError, badRequest, notFound } from "../errors.ts";
import { errorResponse, hexId, ref, type RouteSpec } from "../route-spec.ts";
import { txView } from "../views.ts";

/** Refusals that are the request's fault, the state's, or the node's load: 400, 422 or 503. */
const malformedCodes = new Set(["TX_MALFORMED", "TX_TOO_LARGE", "TX_VERSION", "TX_UNKNOWN_TYPE"]);
const busyCodes = new Set(["MEMPOOL_FULL", "MEMPOOL_AUTHOR_FULL"]);

function statusOf(code: string): number {
  if (malformedCodes.has(code)) return 400;
  if (code === "TX_DUPLICATE") return 409;
  if (busyCodes.has(code)) return 503;
  return 422;
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeTxText(text: string, encoding: "hex" | "base64"): Uint8Array {
  if (encoding === "hex") {
    if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) throw badRequest("BAD_ENCODING", "tx is not hex: use an even number of 0-9a-f digits, or set encoding to base64");
    return fromHex(text);
  }
  if (!base64Pattern.test(text)) throw badRequest("BAD_ENCODING", "tx is not base64 (RFC 4648 §4, with padding)");
  return new Uint8Array(Buffer.from(text, "base64"));
}

export function txRoutes(ctx: ApiContext): RouteSpec[] {
  const o = ctx.options;
  // Hex doubles the bytes; the JSON around it is small.
  const txTextMax = o.submitBodyBytesMax - 64;
  return [
    {
      method: "GET",
      url: "/v1/txs/:id",
      operationId: "getTx",
      tag: "transactions",
      summary: "A transaction by id: finalized (with its block) or pending in this gateway's mempool",
      params: { type: "object", required: ["id"], properties: { id: hexId(32, "transaction id (SHA-256 of its unsigned part)") } },
      responses: { 200: { description: "the transaction", schema: ref("Tx") }, 400: errorResponse("not a transaction id"), 404: errorResponse("unknown here") },
      handler: (req: { params: { id: string } }) => {
        const id = fromHex(req.params.id.toLowerCase());
        const row = ctx.queries.tx(id);
        if (row) {
          const tx = ctx.reader.tx(row.height, row.index);
          if (!tx && ctx.reader.prunedTx(row.height, row.index)) {
            throw new ApiError(410, "TX_PRUNED", `transaction ${req.params.id} (block ${row.height}) held readings past their retention: its bytes were pruned; each reading's digest stays provable at /v1/devices/{id}/readings/{seq}`);
          }
          if (!tx) throw new Error(`index row for tx ${req.params.id} points at a missing transaction`);
          return txView(tx, { status: "finalized", height: row.height, index: row.index, result: ctx.reader.result(row.height, row.index) }, o.txReadingsListedMax, ctx.chain.resolveKid);
        }
        const pending = ctx.mempool.take(Number.MAX_SAFE_INTEGER).find((t) => Buffer.compare(t.id, id) === 0);
        if (pending) return txView(pending, { status: "pending" }, o.txReadingsListedMax, ctx.chain.resolveKid);
        throw notFound("TX_NOT_FOUND", `transaction ${req.params.id} is neither finalized nor pending on this gateway`);
      },
    },
    {
      method: "POST",
      url: "/v1/txs",
      operationId: "submitTx",
      tag: "transactions",
      summary: "Submit a signed transaction (shared/tx.ts encoding) to the mempool",
      description:
        "The body carries the exact transaction bytes as hex (default) or base64. The transaction is decoded and checked against the committed state and the pending transactions at once: 202 means it waits for the next block (poll GET /v1/txs/{id}); 400 means it cannot decode, 409 that it is already pending or finalized, 422 that the state refuses it (code says why: TX_BAD_NONCE, TX_FEE_TOO_LOW, DEVICE_NOT_OWNER...), 503 that the mempool is full (retry after Retry-After seconds).",
      bodyLimit: o.submitBodyBytesMax,
      body: {
        type: "object",
        required: ["tx"],
        additionalProperties: false,
        properties: { tx: { type: "string", minLength: 2, maxLength: txTextMax, description: "the signed transaction bytes" }, encoding: { type: "string", enum: ["hex", "base64"], default: "hex" } },
      },
      responses: {
        202: { description: "admitted to the mempool", schema: ref("TxAccepted") },
        400: errorResponse("malformed body or transaction"),
        409: errorResponse("already pending or finalized"),
        413: errorResponse("body over the size limit"),
        415: errorResponse("not application/json"),
        422: errorResponse("refused by the chain's rules"),
        503: errorResponse("mempool full; retry later"),
      },
      handler: (req: { body: { tx: string; encoding: "hex" | "base64" } }, reply) => {
        const bytes = decodeTxText(req.body.tx, req.body.encoding);
        let id: Uint8Array;
        try {
          id = decodeTx(bytes).id;
        } catch (e) {
          if (e instanceof TxError) throw badRequest(e.code, e.message);
          throw e;
        }
        const onChain = ctx.queries.tx(id);
        if (onChain) throw new ApiError(409, "TX_FINALIZED", `transaction ${toHex(id)} is already in block ${onChain.height}`);
        try {
          ctx.submitTx(bytes);
        } catch (e) {
          if (!(e instanceof TxRejected)) throw e;
          const retry = busyCodes.has(e.code) ? Math.ceil(ctx.chain.params().blockIntervalMs / 1000) : undefined;
          throw new ApiError(statusOf(e.code), e.code, e.message, retry);
        }
        reply.code(202);
        return { id: toHex(id), status: "pending" };
      },
    },
  ];
}
