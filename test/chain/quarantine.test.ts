// Quarantine by gateways' reports (clause 9.3, gateway/chain/quarantine.ts): f + 1 distinct validators
// within the window quarantine a device; one validator's repeated reports do not; a stale report no
// longer counts; only the owner lifts it, and never a quarantine for equivocation.
import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { deviceStatus } from "../../gateway/chain/records.ts";
import { deviceReports, quarantineCause, reportWindowBlocks } from "../../gateway/chain/quarantine.ts";
import { weakQuorumSize } from "../../shared/consensus-certificate.ts";
import type { TxBody } from "../../shared/tx.ts";
import { buildAndCommit } from "./drive.ts";
import { batchBody, deviceReading, makeFixture, openChain, signed } from "./fixture.ts";

function net() {
  const f = makeFixture({ gateways: 4, users: 1, devices: 2, label: "quarantine", params: { epochBlocks: 100_000 } });
  const { chain } = openChain(f);
  const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
  const nonces = new Map<string, number>();
  let time = f.genesis.genesisTimeMs;
  const commit = (...txs: [Identity, TxBody][]) => {
    time += 1000;
    const bytes = txs.map(([who, body]) => {
      const k = toHex(who.id);
      const n = nonces.get(k) ?? 0;
      nonces.set(k, n + 1);
      return signed(f.genesis.chainId, who, n, body);
    });
    const out = buildAndCommit(chain, signers, bytes, time);
    // A refused transaction uses no nonce.
    out.codes.forEach((c, i) => {
      if (c !== undefined) nonces.set(toHex(txs[i][0].id), nonces.get(toHex(txs[i][0].id))! - 1);
    });
    return out;
  };
  const observed = (deviceId: Uint8Array): TxBody => ({ kind: "reportDevice", deviceId, evidence: "observed", badSignatures: 12, replays: 0, floods: 0 });
  const status = (d: Identity) => chain.state().device(d.id)!.status;
  return { f, chain, commit, observed, status };
}

describe("quarantine by gateways' reports", () => {
  it("needs f + 1 distinct validators: one validator reporting twice is not enough, a second one is", () => {
    const { f, chain, commit, observed, status } = net();
    const [g0, g1] = f.gateways;
    const device = f.devices[0];
    expect(weakQuorumSize(4)).toBe(2);
    expect(commit([g0, observed(device.id)]).codes).toEqual([undefined]);
    expect(commit([g0, observed(device.id)]).codes).toEqual([undefined]);
    expect(status(device)).toBe(deviceStatus.active);
    expect(deviceReports(chain.state(), device.id)!.reports).toHaveLength(1);
    commit([g1, observed(device.id)]);
    expect(status(device)).toBe(deviceStatus.quarantined);
    expect(quarantineCause(chain.state(), device.id)).toBe("reports");
    // From the quarantining block on, a batch with its readings records none of them.
    const out = commit([g0, batchBody(g0, [{ bytes: deviceReading(device, 0), receivedAtMs: Date.now() + 60_000 }])]);
    expect(out.outcomes[0]).toEqual(["DEVICE_NOT_ACTIVE"]);
    expect(status(f.devices[1])).toBe(deviceStatus.active);
  });

  it("forgets reports older than the window", () => {
    const { f, chain, commit, observed, status } = net();
    const [g0, g1] = f.gateways;
    const device = f.devices[0];
    commit([g0, observed(device.id)]);
    for (let i = 0; i < reportWindowBlocks; i++) commit();
    commit([g1, observed(device.id)]);
    expect(status(device)).toBe(deviceStatus.active);
    expect(deviceReports(chain.state(), device.id)!.reports.map((r) => toHex(r.reporter))).toEqual([toHex(g1.id)]);
  });

  it("only registered gateways report; only the owner lifts, and then the device is active with a clean slate", () => {
    const { f, chain, commit, observed, status } = net();
    const [g0, g1] = f.gateways;
    const device = f.devices[0];
    expect(commit([f.users[0], observed(device.id)]).codes).toEqual(["GATEWAY_NOT_REGISTERED"]);
    commit([g0, observed(device.id)], [g1, observed(device.id)]);
    expect(status(device)).toBe(deviceStatus.quarantined);
    expect(commit([f.users[0], { kind: "liftQuarantine", deviceId: device.id }]).codes).toEqual(["DEVICE_NOT_OWNER"]);
    expect(commit([f.owner, { kind: "liftQuarantine", deviceId: device.id }]).codes).toEqual([undefined]);
    expect(status(device)).toBe(deviceStatus.active);
    expect(deviceReports(chain.state(), device.id)).toBeUndefined();
    expect(commit([f.owner, { kind: "liftQuarantine", deviceId: device.id }]).codes).toEqual(["DEVICE_NOT_QUARANTINED"]);
    // One new report after the lift does not quarantine again: earlier reports were cleared.
    commit([g0, observed(device.id)]);
    expect(status(device)).toBe(deviceStatus.active);
  });

  it("never lifts a quarantine for equivocation, even one that reports started", () => {
    const { f, commit, observed, status } = net();
    const [g0, g1] = f.gateways;
    const device = f.devices[0];
    commit([g0, observed(device.id)], [g1, observed(device.id)]);
    expect(status(device)).toBe(deviceStatus.quarantined);
    const a = deviceReading(device, 7, 1);
    const b = deviceReading(device, 7, 2);
    expect(commit([g0, { kind: "reportDevice", deviceId: device.id, evidence: "equivocation", first: a, second: b }]).codes).toEqual([undefined]);
    expect(commit([f.owner, { kind: "liftQuarantine", deviceId: device.id }]).codes).toEqual(["QUARANTINE_NOT_LIFTABLE"]);
    expect(status(device)).toBe(deviceStatus.quarantined);
  });

  it("takes up to 4 attached datagrams that name the device, and refuses one that names another", () => {
    const { f, commit } = net();
    const [g0] = f.gateways;
    const [device, other] = f.devices;
    const samples = [deviceReading(device, 1), deviceReading(device, 2)];
    expect(commit([g0, { kind: "reportDevice", deviceId: device.id, evidence: "observed", badSignatures: 1, replays: 1, floods: 0, samples }]).codes).toEqual([undefined]);
    expect(commit([g0, { kind: "reportDevice", deviceId: device.id, evidence: "observed", badSignatures: 1, replays: 1, floods: 0, samples: [deviceReading(other, 1)] }]).codes).toEqual(["EVIDENCE_INVALID"]);
  });
});
