// DPoS: the elected validators with their stake-weighted votes, the candidates, and accounts
// (balance, stake, whom they vote for, and the nonce a client must sign its next transaction with).
import { fromHex } from "../../../shared/ed25519.ts";
import { quorumOf } from "../../chain/dpos.ts";
import type { ApiContext } from "../context.ts";
import { errorResponse, hexId, ref, type RouteSpec } from "../route-spec.ts";
import { certificateView, hex } from "../views.ts";

export function validatorsView(ctx: ApiContext) {
  const state = ctx.chain.state();
  const set = state.validators();
  const params = state.params();
  const head = ctx.chain.head();
  const c = ctx.consensus.snapshot();
  const cert = certificateView(ctx.chain.store.block(head.height)?.certificate ?? null);
  const signed = new Set((cert?.signatures ?? []).map((s) => s.validatorId));
  const elected = new Set(set.validators.map((v) => hex(v.id)));
  const proposer = c.proposer ? hex(c.proposer) : null;
  const candidates = state.candidateIds().map((id) => {
    const cand = state.candidate(id)!;
    return { id: hex(id), endpoint: cand.endpoint, votes: cand.votes.toString(), selfStake: state.account(id).staked.toString(), blocksProduced: cand.blocksProduced, jailedUntilEpoch: cand.jailedUntilEpoch, registeredHeight: cand.registeredHeight, elected: elected.has(hex(id)) };
  });
  const byId = new Map(candidates.map((x) => [x.id, x]));
  const nextEpochAtHeight = (Math.floor(head.height / params.epochBlocks) + 1) * params.epochBlocks;
  return {
    epoch: set.epoch,
    epochBlocks: params.epochBlocks,
    nextEpochAtHeight,
    quorum: quorumOf(set.validators.length),
    lastProposer: hex(head.header.proposer),
    nextProposer: proposer,
    validators: set.validators.map((v, rank) => {
      const id = hex(v.id);
      const cand = byId.get(id);
      return {
        id,
        publicKey: hex(v.publicKey),
        rank,
        power: v.power.toString(),
        votes: cand?.votes ?? "0",
        selfStake: cand?.selfStake ?? "0",
        endpoint: cand?.endpoint ?? null,
        blocksProduced: cand?.blocksProduced ?? 0,
        signedHead: signed.has(id),
        proposing: id === proposer,
      };
    }),
    candidates,
  };
}

export function validatorRoutes(ctx: ApiContext): RouteSpec[] {
  return [
    {
      method: "GET",
      url: "/v1/validators",
      operationId: "listValidators",
      tag: "validators",
      summary: "Elected validators (stake-weighted votes, who signed the head, who proposes next) and all candidates",
      description: "`power` is the stake-weighted vote a validator had when the set was elected; `votes` is its backing now (the next election's input). The set changes at `nextEpochAtHeight`.",
      responses: { 200: { description: "the validator set", schema: ref("Validators") } },
      handler: () => validatorsView(ctx),
    },
    {
      method: "GET",
      url: "/v1/accounts/:id",
      operationId: "getAccount",
      tag: "validators",
      summary: "An account: balance, stake, votes, and the nonce its next transaction must carry",
      params: { type: "object", required: ["id"], properties: { id: hexId(16, "account id (first 16 bytes of SHA-256 of the public key)") } },
      responses: { 200: { description: "the account (all zero when it never held anything)", schema: ref("Account") }, 400: errorResponse("not an account id") },
      handler: (req: { params: { id: string } }) => {
        const id = fromHex(req.params.id.toLowerCase());
        const a = ctx.chain.state().account(id);
        return {
          id: hex(id),
          balance: a.balance.toString(),
          staked: a.staked.toString(),
          unbonding: a.unbonding.toString(),
          nonce: a.nonce,
          nextNonce: ctx.mempool.nextNonce(id),
          votes: a.votes.map(hex),
        };
      },
    },
  ];
}
