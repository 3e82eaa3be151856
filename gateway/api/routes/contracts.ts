// Contracts (gateway/contracts): the deployed ones, one with its code hash, subscriptions,
// balance and gas used, its events (from the contract index, by topic, paged), and its storage,
// each entry with a sparse Merkle proof against the head's state root like every provable state.
import { decode } from "../../../shared/cbor.ts";
import { fromHex } from "../../../shared/ed25519.ts";
import { stateKey } from "../../chain/keys.ts";
import { verifyStateProof } from "../../chain/proof.ts";
import { ContractState } from "../../contracts/contract-state.ts";
import { eventTopicBytesMax, storageKeyBytesMax } from "../../contracts/limits.ts";
import type { ApiContext } from "../context.ts";
import { contractView, eventCursorPattern, indexedEventView, indexedRunView, parseEventCursor, stateProofView } from "../contract-views.ts";
import { badRequest, notFound } from "../errors.ts";
import { errorResponse, hexId, limitParam, page, ref, type RouteSpec } from "../route-spec.ts";

const contractIdParams = { type: "object", required: ["id"], properties: { id: hexId(16, "contract id (SHA-256 of its deployer and deploy nonce, first 16 bytes)") } };
/** Runs listed inline with a contract (its gas over its latest runs). */
const recentRunsListed = 50;

function contractOf(ctx: ApiContext, idHex: string) {
  const id = fromHex(idHex.toLowerCase());
  const cs = new ContractState(ctx.chain.state());
  const record = cs.contract(id);
  if (!record) throw notFound("CONTRACT_NOT_FOUND", `no contract ${idHex.toLowerCase()} on this chain; GET /v1/contracts lists them`);
  return { id, cs, record };
}

/** A state key's value at the head with its proof, decoded from the stored CBOR byte string. */
function provenEntry(ctx: ApiContext, key: string) {
  const p = ctx.chain.prove(key);
  const head = ctx.chain.head();
  return { p, proof: stateProofView(key, p.value, p.proof, verifyStateProof(head.header, key, p.value, p.proof)) };
}

function storageItem(ctx: ApiContext, id: Uint8Array, keyHex: string) {
  const { p, proof } = provenEntry(ctx, stateKey.contractStorage(id, fromHex(keyHex)));
  const value = p.value === undefined ? null : (decode(p.value) as Uint8Array);
  return { key: keyHex, value: value ? Buffer.from(value).toString("hex") : null, proof };
}

const utf8 = new TextEncoder();

export function contractRoutes(ctx: ApiContext): RouteSpec[] {
  const o = ctx.options;
  return [
    {
      method: "GET",
      url: "/v1/contracts",
      operationId: "listContracts",
      tag: "contracts",
      summary: "Contracts deployed on chain, in id order, with their balance and the gas they used",
      querystring: { type: "object", additionalProperties: false, properties: { limit: limitParam(o.pageItemsMax, o.pageItemsDefault), cursor: hexId(16, "opaque: the `next` of the previous page") } },
      responses: { 200: { description: "a page of contracts", schema: page("Contract") }, 400: errorResponse("bad parameter") },
      handler: (req: { query: { limit: number; cursor?: string } }) => {
        const ids = ctx.queries.contractIds(req.query.cursor?.toLowerCase(), req.query.limit);
        const state = ctx.chain.state();
        const cs = new ContractState(state);
        const items = ids.map((idHex) => {
          const id = fromHex(idHex);
          const record = cs.contract(id)!;
          return contractView(id, record, { balance: state.account(id).balance, code: cs.code(record.codeHash), stats: ctx.queries.contractStats(id) });
        });
        return { items, next: ids.length === req.query.limit ? ids[ids.length - 1] : null };
      },
    },
    {
      method: "GET",
      url: "/v1/contracts/:id",
      operationId: "getContract",
      tag: "contracts",
      summary: "One contract: code hash, deployer, subscriptions, balance, methods, gas used (with its latest runs), and a state proof of its record",
      params: contractIdParams,
      responses: { 200: { description: "the contract", schema: ref("ContractDetail") }, 400: errorResponse("not a contract id"), 404: errorResponse("no such contract") },
      handler: (req: { params: { id: string } }) => {
        const { id, cs, record } = contractOf(ctx, req.params.id);
        const balance = ctx.chain.state().account(id).balance;
        return {
          ...contractView(id, record, { balance, code: cs.code(record.codeHash), stats: ctx.queries.contractStats(id) }),
          recentRuns: ctx.queries.contractRecentRuns(id, recentRunsListed).map(indexedRunView),
          atHeight: ctx.chain.head().height,
          record: provenEntry(ctx, stateKey.contract(id)).proof,
        };
      },
    },
    {
      method: "GET",
      url: "/v1/contracts/:id/events",
      operationId: "listContractEvents",
      tag: "contracts",
      summary: "A contract's events, newest first by default, optionally of one topic",
      description: `Events the contract emitted in finalized blocks (calls and reading-triggered runs that completed), from this gateway's events index. \`topic\` selects one topic given as text (UTF-8), \`topicHex\` as hex bytes. Pass a page's \`next\` as \`cursor\` (same order and topic) for the following page.`,
      params: contractIdParams,
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: {
          topic: { type: "string", minLength: 1, maxLength: eventTopicBytesMax, description: "only events of this topic (UTF-8 text)" },
          topicHex: { type: "string", pattern: `^([0-9a-fA-F]{2}){1,${eventTopicBytesMax}}$`, description: "only events of this topic (bytes as hex)" },
          order: { type: "string", enum: ["asc", "desc"], default: "desc" },
          limit: limitParam(o.pageItemsMax, o.pageItemsDefault),
          cursor: { type: "string", pattern: eventCursorPattern, description: "opaque: the `next` of the previous page" },
        },
      },
      responses: { 200: { description: "a page of events", schema: page("ContractEvent") }, 400: errorResponse("bad parameter"), 404: errorResponse("no such contract") },
      handler: (req: { params: { id: string }; query: { topic?: string; topicHex?: string; order: "asc" | "desc"; limit: number; cursor?: string } }) => {
        const { id } = contractOf(ctx, req.params.id);
        const q = req.query;
        if (q.topic !== undefined && q.topicHex !== undefined) throw badRequest("BAD_TOPIC", "give the topic once: as text (topic) or as hex (topicHex)");
        const topic = q.topic !== undefined ? utf8.encode(q.topic) : q.topicHex !== undefined ? fromHex(q.topicHex.toLowerCase()) : undefined;
        if (topic && topic.length > eventTopicBytesMax) throw badRequest("BAD_TOPIC", `a topic is at most ${eventTopicBytesMax} bytes`);
        const from = q.cursor === undefined ? undefined : parseEventCursor(q.cursor);
        if (q.cursor !== undefined && !from) throw badRequest("BAD_CURSOR", "cursor is not one this API gave; start again without it");
        const rows = ctx.queries.contractEvents(id, { topic, from, order: q.order, limit: q.limit });
        const items = rows.map(indexedEventView);
        return { items, next: rows.length === q.limit ? items[items.length - 1].cursor : null };
      },
    },
    {
      method: "GET",
      url: "/v1/contracts/:id/storage",
      operationId: "listContractStorage",
      tag: "contracts",
      summary: "A contract's storage entries in key order, each with a sparse Merkle proof against the head's state root",
      description: "Keys and values are the bytes the contract chose, as hex. Each entry's `proof` proves the state key `contract/<id>/s/<key>` holds the CBOR byte string of the value (`proof.value`) under `stateRoot` at `atHeight`; verify it as gateway/chain/proof.ts verifyStateProof does.",
      params: contractIdParams,
      querystring: {
        type: "object",
        additionalProperties: false,
        properties: { limit: limitParam(o.pageItemsMax, o.pageItemsDefault), cursor: { type: "string", pattern: `^([0-9a-f]{2}){1,${storageKeyBytesMax}}$`, description: "opaque: the `next` of the previous page" } },
      },
      responses: { 200: { description: "a page of storage entries", schema: ref("ContractStoragePage") }, 400: errorResponse("bad parameter"), 404: errorResponse("no such contract") },
      handler: (req: { params: { id: string }; query: { limit: number; cursor?: string } }) => {
        const { id } = contractOf(ctx, req.params.id);
        const idHex = req.params.id.toLowerCase();
        const rows = ctx.queries.contractStorage(idHex, req.query.cursor, req.query.limit);
        const prefix = `contract/${idHex}/s/`.length;
        const items = rows.map((r) => storageItem(ctx, id, r.key.slice(prefix)));
        const head = ctx.chain.head();
        return { atHeight: head.height, stateRoot: Buffer.from(head.header.stateRoot).toString("hex"), items, next: rows.length === req.query.limit ? items[items.length - 1].key : null };
      },
    },
    {
      method: "GET",
      url: "/v1/contracts/:id/storage/:key",
      operationId: "getContractStorage",
      tag: "contracts",
      summary: "One storage entry of a contract with its state proof; an absent key is proven absent (value null)",
      params: {
        type: "object",
        required: ["id", "key"],
        properties: { id: contractIdParams.properties.id, key: { type: "string", pattern: `^([0-9a-fA-F]{2}){1,${storageKeyBytesMax}}$`, description: "the key bytes as hex" } },
      },
      responses: { 200: { description: "the entry and its proof", schema: ref("ContractStorageProof") }, 400: errorResponse("bad id or key"), 404: errorResponse("no such contract") },
      handler: (req: { params: { id: string; key: string } }) => {
        const { id } = contractOf(ctx, req.params.id);
        const head = ctx.chain.head();
        return { atHeight: head.height, stateRoot: Buffer.from(head.header.stateRoot).toString("hex"), ...storageItem(ctx, id, req.params.key.toLowerCase()) };
      },
    },
  ];
}
