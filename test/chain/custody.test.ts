// An acknowledged reading always reaches the chain (issue 9), on the real pending store, outbox,
// feed, mempool and chain of four gateways (custody-net.ts), each scenario ending with every
// acknowledged reading on every gateway's chain exactly once, nothing pending, nothing lost, and
// never two transactions of one key under one nonce.
import { afterEach, describe, expect, it } from "vitest";
import { sha256, signEd25519, toHex } from "../../shared/ed25519.ts";
import { voteSigningBytes } from "../../shared/consensus-messages.ts";
import { makeEvidence } from "../../gateway/consensus/evidence.ts";
import { deviceStatus } from "../../gateway/chain/records.ts";
import { evidenceKindBatchEquivocation } from "../../gateway/chain/apply-readings.ts";
import { CustodyNet } from "./custody-net.ts";
import { deviceReading, makeFixture, signed } from "./fixture.ts";
import { rng } from "../support/prng.ts";

const f = makeFixture({ gateways: 4, users: 1, devices: 6, label: "custody", params: { epochBlocks: 1000 } });
let net: CustodyNet | undefined;
afterEach(() => net?.close());

function expectCustody(n: CustodyNet, intrinsic: Parameters<CustodyNet["custodyViolations"]>[0] = undefined): void {
  expect(n.custodyViolations(intrinsic)).toEqual([]);
  expect(n.nonceConflicts()).toEqual([]);
  const roots = new Set(n.gateways.map((g) => toHex(g.chain.head().header.stateRoot)));
  expect(roots.size).toBe(1);
}

describe("custody of acknowledged readings", () => {
  it("a gateway restarted while its pre-crash batches are pending at peers re-offers the same bytes", () => {
    net = new CustodyNet(f, { batchReadingsMax: 3 });
    const [a] = net.gateways;
    a.ack([0, 1, 2, 3, 4, 5, 6].map((s) => deviceReading(f.devices[0], s)), net.timeMs);
    net.tickAll(); // a signs three batches and gossips them
    net.tickAll(); // the peers take them into their mempools
    expect(net.gateways[1].mempool.pendingFrom(a.identity.id)).toBe(3);
    a.crash();
    a.open(); // empty mempool; outbox and pending store on disk
    a.ack([7, 8].map((s) => deviceReading(f.devices[0], s)), net.timeMs);
    net.round(1); // a peer proposes a's pre-crash batches
    net.settle();
    expectCustody(net);
    expect(a.chain.state().device(f.devices[0].id)!.readings).toBe(9);
  });

  it("evidence signed at a proposal that is abandoned keeps its nonce; batches signed before and after still land", () => {
    net = new CustodyNet(f);
    const [a] = net.gateways;
    const accused = f.gateways[3];
    const h1 = sha256(new Uint8Array([1]));
    const h2 = sha256(new Uint8Array([2]));
    const sig = (h: Uint8Array) => signEd25519(accused.key, voteSigningBytes(f.genesis.chainId, "commit", 1, 0, h));
    const evidence = makeEvidence({ height: 1, round: 0, kind: "commit", publicKey: accused.publicKey, a: { blockHash: h2, signature: sig(h2) }, b: { blockHash: h1, signature: sig(h1) } });
    a.ack([deviceReading(f.devices[1], 0)], net.timeMs);
    net.tickAll(); // a's batch (nonce 0) is gossiped
    net.round(0, { evidence: [evidence], abandon: true }); // evidence signed at nonce 1, proposal dropped
    a.ack([deviceReading(f.devices[1], 1)], net.timeMs);
    net.round(2); // another proposer: a's batch and its evidence reach it by gossip
    net.round(0, { evidence: [evidence] }); // a proposes again with the same evidence pooled: no second transaction
    net.settle();
    expectCustody(net);
    expect(a.chain.state().candidate(accused.id)!.jailedUntilEpoch).toBeGreaterThan(0);
    expect(a.chain.state().account(a.identity.id).nonce).toBe(3); // batch, evidence, batch: nothing signed twice
  });

  it("a stall long enough to fill the mempool backs up into the pending store and drains after", () => {
    net = new CustodyNet(f, { batchReadingsMax: 4, batchesOutstandingMax: 3 }, { perAuthorMax: 4 });
    const [a] = net.gateways;
    for (let s = 0; s < 60; s++) {
      a.ack([deviceReading(f.devices[2], s)], net.timeMs + s);
      net.tickAll();
    }
    expect(a.outbox.size).toBe(3); // no more signed ahead of the chain
    expect(a.pending.pendingCount()).toBe(60);
    net.settle();
    expectCustody(net);
  });

  it("a device revoked while its readings are pending: those received before land, other devices unaffected", () => {
    net = new CustodyNet(f, { batchReadingsMax: 2 });
    const [a, b] = net.gateways;
    const revoked = f.devices[3];
    a.ack([0, 1, 2, 3].map((s) => deviceReading(revoked, s)), net.timeMs);
    b.ack([0, 1].map((s) => deviceReading(f.devices[4], s)), net.timeMs);
    // The owner revokes it in the next block, before the batches reach any block.
    const revoke = signed(f.genesis.chainId, f.owner, 0, { kind: "revokeDevice", deviceId: revoked.id });
    net.gateways[2].mempool.add(revoke, net.timeMs);
    expect(net.round(2, { noTick: true }).txs).toBe(1); // only the revocation
    expect(a.chain.state().device(revoked.id)!.status).toBe(deviceStatus.revoked);
    // Acknowledged after the revocation: refused for that reason, intrinsic to the reading.
    a.ack([deviceReading(revoked, 4)], net.timeMs + 1);
    net.settle();
    expectCustody(net, (x) => toHex(x.deviceId) === toHex(revoked.id) && x.sequence === 4);
    expect(a.pending.allReadings().filter((r) => r.rejected).map((r) => [r.sequence, r.rejected!.split(":")[0]])).toEqual([[4, "DEVICE_NOT_ACTIVE"]]);
  });

  it("one reading delivered to every gateway is recorded once; every copy settles", () => {
    net = new CustodyNet(f);
    const r = deviceReading(f.devices[5], 42);
    for (const g of net.gateways) g.ack([r], net.timeMs);
    net.settle();
    expectCustody(net);
    for (const g of net.gateways) {
      expect(g.chain.state().device(f.devices[5].id)!.readings).toBe(1);
      expect(g.pending.allReadings().map((x) => x.includedHeight)).toEqual([g.store.indexes.reading(f.devices[5].id, 42)!.height]);
    }
  });

  it("a device that changes gateway on every reading for 1,000 readings: all land once, in any order", () => {
    net = new CustodyNet(f, { batchReadingsMax: 16 });
    const next = rng(20261127);
    const d = f.devices[0];
    for (let s = 0; s < 1000; s++) {
      net.gateways[s % 4].ack([deviceReading(d, s, s % 50)], net.timeMs);
      if (next() < 0.05) net.round(Math.floor(next() * 4), { abandon: next() < 0.2 });
      else if (next() < 0.3) net.tickAll();
    }
    net.settle();
    expectCustody(net);
    expect(net.gateways[3].chain.state().device(d.id)!.readings).toBe(1000);
  });

  it("two readings under one sequence: the chain records the first, quarantines the device with the evidence", () => {
    net = new CustodyNet(f);
    const [a, b] = net.gateways;
    const d = f.devices[1];
    const first = deviceReading(d, 7, 20);
    const second = deviceReading(d, 7, 99); // a cloned key signs another value under the same sequence
    a.ack([first], net.timeMs);
    net.round(0);
    b.ack([second], net.timeMs);
    net.settle();
    const isSecond = (x: { digest: Uint8Array }) => toHex(x.digest) === toHex(sha256(second));
    expectCustody(net, isSecond);
    const device = a.chain.state().device(d.id)!;
    expect(device.status).toBe(deviceStatus.quarantined);
    const ev = a.chain.state().evidence(d.id, 0)!;
    expect(ev.kind).toBe(evidenceKindBatchEquivocation);
    expect(ev.detail).toEqual([sha256(first), second]);
    expect(b.pending.allReadings()[0].rejected).toMatch(/^READING_EQUIVOCATION/);
  });
});
