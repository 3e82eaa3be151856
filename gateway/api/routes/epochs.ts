// The chain's validator-set history for light clients: one transition per ended epoch (its last
// header, that header's commit certificate, the set it announces), paged. A client holding the
// genesis header and set walks it with gateway/consensus/light-client.ts walkEpochs and trusts
// nothing this gateway says; a client that already trusts epoch k asks from k on.
import { epochOfHeight } from "../../chain/dpos.ts";
import type { ApiContext } from "../context.ts";
import { epochPageMax, epochTransitions } from "../provenance.ts";
import { limitParam, type JsonSchema, type RouteSpec } from "../route-spec.ts";

const hexAny: JsonSchema = { type: "string", pattern: "^[0-9a-f]*$" };
const hash32: JsonSchema = { type: "string", pattern: "^[0-9a-f]{64}$" };
const int: JsonSchema = { type: "integer", minimum: 0 };

const transition: JsonSchema = {
  type: "object",
  required: ["epoch", "height", "header", "certificate", "nextSet", "nextSetHash"],
  properties: {
    epoch: int,
    height: { ...int, description: "the epoch's last block: (epoch + 1) × epochBlocks" },
    header: { ...hexAny, description: "the stored header, CBOR (gateway/chain/block.ts)" },
    certificate: { anyOf: [hexAny, { type: "null" }], description: "its commit certificate, signed by the set of `epoch`" },
    nextSet: { ...hexAny, description: "the set of epoch + 1, CBOR [epoch, [[id, publicKey, power]...]]; SHA-256 of it is the header's nextValidatorSetHash" },
    nextSetHash: hash32,
  },
};

export function epochRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/epochs",
      operationId: "listEpochTransitions",
      tag: "validators",
      summary: "Validator-set hand-overs, one per ended epoch: what a light client walks from genesis to trust any header",
      description:
        "Each transition is an epoch's last header, its certificate (a quorum of that epoch's set) and the set it announces for the next epoch. Starting from the genesis header and set, a client verifies each header with the set it trusts, then takes the announced set after checking its hash against the header's `nextValidatorSetHash`. Old sets stay on chain (state `validators/epoch/<n>`), so any epoch's blocks remain checkable.",
      querystring: { type: "object", properties: { from: { ...int, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: "first epoch" }, limit: limitParam(epochPageMax, 64) } },
      responses: {
        200: {
          description: "a page of transitions",
          schema: {
            type: "object",
            required: ["epochBlocks", "headEpoch", "items", "next"],
            properties: { epochBlocks: int, headEpoch: int, items: { type: "array", items: transition }, next: { anyOf: [int, { type: "null" }], description: "the epoch to ask from next (?from=), null when the page reaches the head's epoch" } },
          },
        },
      },
      handler: (req: { query: { from: number; limit: number } }) => {
        const epochBlocks = ctx.chain.params().epochBlocks;
        const headEpoch = epochOfHeight(ctx.chain.head().height, epochBlocks);
        const from = Math.min(req.query.from, headEpoch);
        const to = Math.min(headEpoch, from + req.query.limit);
        return { epochBlocks, headEpoch, items: epochTransitions(ctx.chain, from, to), next: to < headEpoch ? to : null };
      },
    },
  ];
}
