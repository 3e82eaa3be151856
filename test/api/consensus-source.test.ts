// The consensus interface the gateway fills from either engine: the PBFT adapter over a node's
// status (height, round, peers) drives /v1/consensus, /v1/head and the metrics the same way the
// solo producer does; the proposer follows PbftCore's rotation validators[(h + r) mod n].
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { createApiServer, PbftConsensusSource, type ApiServer } from "../../gateway/api/index.ts";
import { startTestNet, type TestNet } from "./net.ts";

let net: TestNet;
let api: ApiServer;
const status = { height: 0, round: 0, peers: ["a", "b", "c"], decidedByConsensus: 0, decidedBySync: 0 };
let source: PbftConsensusSource;
const ids = [new Uint8Array(16).fill(1), new Uint8Array(16).fill(2), new Uint8Array(16).fill(3), new Uint8Array(16).fill(4)];

beforeAll(async () => {
  net = await startTestNet({ boards: 1 });
  source = new PbftConsensusSource({ status: () => status }, { validators: () => ({ validators: ids.map((id) => ({ id })) }) });
  api = await createApiServer({ chain: net.chain, mempool: net.mempool, consensus: source, submitTx: (b) => net.mempool.add(b, Date.now()) });
});
afterAll(async () => {
  await api?.close();
  await net?.close();
});

describe("PbftConsensusSource", () => {
  it("reports height, round, rotating proposer, peers and round changes", async () => {
    status.height = 5;
    status.round = 0;
    let c = (await api.app.inject({ method: "GET", url: "/v1/consensus" })).json();
    expect(c).toMatchObject({ mode: "pbft", height: 5, round: 0, proposer: toHex(ids[1]), peersConnected: 3, roundChangesTotal: 0 });
    status.round = 2; // two proposers failed at height 5
    c = (await api.app.inject({ method: "GET", url: "/v1/consensus" })).json();
    expect(c).toMatchObject({ round: 2, proposer: toHex(ids[3]), roundChangesTotal: 2 });
    status.height = 6;
    status.round = 0;
    status.decidedByConsensus = 1;
    source.finalized(5);
    c = (await api.app.inject({ method: "GET", url: "/v1/consensus" })).json();
    expect(c).toMatchObject({ height: 6, round: 0, proposer: toHex(ids[2]), roundChangesTotal: 2, decidedTotal: 1 });
    const head = (await api.app.inject({ method: "GET", url: "/v1/head" })).json();
    expect(head.finality.mode).toBe("pbft");
    expect(head.consensus).toEqual({ height: 6, round: 0, proposer: toHex(ids[2]) });
    const metrics = (await api.app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain("moteledger_consensus_round_changes_total 2");
    expect(metrics).toContain("moteledger_consensus_peers 3");
  });

  it("pushes finalizations to the API's watchers (no polling delay)", async () => {
    const before = api.context.watcher.recentFinality().blocks;
    net.producer.produce();
    source.finalized(net.chain.head().height);
    expect(api.context.watcher.recentFinality().blocks).toBe(before + 1);
  });
});
