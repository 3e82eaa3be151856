// Firmware on chain (issue 11): releases checked against the genesis's publisher keys, rollouts only
// by the targets' owner, the fleet's versions and failed attempts from the devices' own readings
// (highest sequence wins, repeats are no-ops), and the deterministic offers and progress of a rollout.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encode, type CborValue } from "../../shared/cbor.ts";
import { bodyFromCbor, bodyToCbor, decodeTx, TxError } from "../../shared/tx.ts";
import { randomBytes } from "node:crypto";
import { encodeReading } from "../../shared/reading.ts";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { firmwareVersionMax, signManifest, manifestImageId } from "../../shared/firmware-manifest.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import type { TxBody } from "../../shared/tx.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { FirmwareState } from "../../gateway/chain/firmware-state.ts";
import { firmwareRecordNames, firmwareReport } from "../../gateway/chain/apply-firmware.ts";
import { firmwareOffers, rolloutProgress } from "../../gateway/chain/firmware-rollout.ts";
import { buildAndCommit } from "./drive.ts";
import { batchBody, makeFixture, openChain, seedIdentity, signed } from "./fixture.ts";

const publisher = seedIdentity("firmware/publisher");
const stranger = seedIdentity("firmware/stranger");
const f = makeFixture({ gateways: 1, users: 1, devices: 4, label: "firmware" });
f.genesis.firmwarePublishers = [toHex(publisher.publicKey)];
const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
const chainId = f.genesis.chainId;
const at = (h: number): number => f.genesis.genesisTimeMs + h * 1000;
const image = randomBytes(3000);
const manifestV2 = signManifest(publisher.seed, { version: 2, imageBytes: image.length, imageDigest: sha256(image), abiVersion: 2, versionText: "2.0.0" });
const imageId = new Uint8Array(Buffer.from(manifestImageId(manifestV2), "hex"));
const location = "http://127.0.0.1:8080/v1/firmware/images/" + manifestImageId(manifestV2);
const sortedDevices = [...f.devices].sort((a, b) => Buffer.compare(a.id, b.id));

function reading(device: Identity, sequence: number, fw: SenmlRecord[]): Uint8Array {
  return encodeReading(device.key, device.id, sequence, [{ name: "temp", unit: "Cel", value: 20 }, ...fw]);
}

class Driver {
  readonly chain = openChain(f).chain;
  private nonces = new Map<string, number>();
  private height = 0;
  tx(who: Identity, body: TxBody): Uint8Array {
    const k = toHex(who.id);
    const n = this.nonces.get(k) ?? 0;
    return signed(chainId, who, n, body);
  }
  /** Commits one block; advances the nonce of each included transaction's author. */
  block(txs: { who: Identity; body: TxBody }[]) {
    const bytes = txs.map(({ who, body }) => this.tx(who, body));
    const out = buildAndCommit(this.chain, signers, bytes, at(++this.height));
    out.codes.forEach((c, i) => {
      if (c === undefined) this.nonces.set(toHex(txs[i].who.id), (this.nonces.get(toHex(txs[i].who.id)) ?? 0) + 1);
    });
    return out;
  }
  readings(list: Uint8Array[]) {
    const gw = f.gateways[0];
    return this.block([{ who: gw, body: batchBody(gw, list.map((b) => ({ bytes: b, receivedAtMs: at(this.height) }))) }]);
  }
  fw() {
    return new FirmwareState(this.chain.state());
  }
}

describe("firmware on chain", () => {
  it("publishes a release only when a genesis publisher key signed its manifest", () => {
    const d = new Driver();
    const other = signManifest(stranger.seed, { version: 3, imageBytes: 10, imageDigest: sha256(Buffer.alloc(10)), abiVersion: 2 });
    const out = d.block([
      { who: f.users[0], body: { kind: "publishRelease", manifest: other, location } },
    ]);
    expect(out.codes).toEqual(["FIRMWARE_SIGNATURE"]);
    expect(d.block([{ who: f.users[0], body: { kind: "publishRelease", manifest: manifestV2.subarray(1), location } }]).codes).toEqual(["FIRMWARE_MANIFEST"]);
    expect(d.block([{ who: f.users[0], body: { kind: "publishRelease", manifest: manifestV2, location } }]).codes).toEqual([undefined]);
    const release = d.fw().release(imageId)!;
    expect(release.version).toBe(2);
    expect(release.location).toBe(location);
    expect(toHex(release.author)).toBe(toHex(f.users[0].id));
    expect(d.fw().releaseIds().map(toHex)).toEqual([toHex(imageId)]);
    expect(d.block([{ who: f.owner, body: { kind: "publishRelease", manifest: manifestV2, location } }]).codes).toEqual(["FIRMWARE_RELEASE_EXISTS"]);
  });

  it("refuses releases on a chain whose genesis names no publisher", () => {
    const g = makeFixture({ label: "firmware-none" });
    const { chain } = openChain(g);
    const s = new Map<string, Identity>([...g.gateways, ...g.users, g.owner].map((p) => [toHex(p.id), p]));
    const out = buildAndCommit(chain, s, [signed(g.genesis.chainId, g.users[0], 0, { kind: "publishRelease", manifest: manifestV2, location })], at(1));
    expect(out.codes).toEqual(["FIRMWARE_SIGNATURE"]);
  });

  it("lets only the devices' owner roll out, to targets matching the selector", () => {
    const d = new Driver();
    d.block([{ who: f.users[0], body: { kind: "publishRelease", manifest: manifestV2, location } }]);
    const ids = sortedDevices.map((x) => x.id);
    const rollout = (who: Identity, body: Partial<Extract<TxBody, { kind: "startRollout" }>>) => ({ who, body: { kind: "startRollout", imageId, selector: { kind: "ids" }, targets: ids, inFlightMax: 2, ...body } as TxBody });
    expect(d.block([rollout(f.users[0], {})]).codes).toEqual(["DEVICE_NOT_OWNER"]);
    expect(d.block([rollout(f.owner, { imageId: Buffer.alloc(8) })]).codes).toEqual(["FIRMWARE_RELEASE_UNKNOWN"]);
    expect(d.block([rollout(f.owner, { selector: { kind: "metadata", key: "model", value: "other" } })]).codes).toEqual(["FIRMWARE_TARGET"]);
    expect(d.block([rollout(f.owner, { selector: { kind: "owner", ownerId: f.users[0].id } })]).codes).toEqual(["FIRMWARE_TARGET"]);
    expect(d.block([rollout(f.owner, { selector: { kind: "metadata", key: "model", value: "test" } })]).codes).toEqual([undefined]);
    expect(d.fw().rolloutIndex()).toEqual({ count: 1, running: [1] });
    expect(d.fw().rollout(1)!.targets.map(toHex)).toEqual(ids.map(toHex));
  });

  it("tracks versions and failures from readings, and moves the offers along in id order", () => {
    const d = new Driver();
    d.block([{ who: f.users[0], body: { kind: "publishRelease", manifest: manifestV2, location } }]);
    d.block([{ who: f.owner, body: { kind: "startRollout", imageId, selector: { kind: "owner", ownerId: f.owner.id }, targets: sortedDevices.map((x) => x.id), inFlightMax: 2 } }]);
    const [a, b, c, e] = sortedDevices;
    const offered = () => [...firmwareOffers(d.chain.state()).keys()].sort();
    expect(offered()).toEqual([a, b].map((x) => toHex(x.id)).sort());
    expect(firmwareOffers(d.chain.state()).get(toHex(a.id))!.manifest).toEqual(manifestV2);
    expect(rolloutProgress(d.chain.state(), 1)!.counts).toEqual({ updated: 0, failed: 0, inactive: 0, unsupported: 0, offered: 2, waiting: 2 });

    // a runs v2 (a later reading), then an older reading saying v1 lands: the version stays 2.
    // b failed v2 with TRAP (6) and reports it twice (two boots): one failure on record.
    const fwRec = (v: number): SenmlRecord => ({ name: "fw", value: v });
    const fail = (v: number, why: number): SenmlRecord[] => [{ name: "fw.fail", value: v }, { name: "fw.why", value: why }];
    d.readings([reading(a, 10, [fwRec(2)]), reading(b, 4, [fwRec(1), ...fail(2, 6)])]);
    d.readings([reading(a, 5, [fwRec(1)]), reading(b, 7, [fwRec(1), ...fail(2, 6)]), reading(a, 5, [fwRec(1)])]);
    expect(d.fw().deviceFirmware(a.id)).toMatchObject({ version: 2, sequence: 10 });
    expect(d.fw().deviceFirmware(b.id)).toMatchObject({ version: 1, sequence: 7, failures: [{ version: 2, reason: 6, sequence: 4 }] });
    expect(d.fw().deviceFirmware(c.id)).toBeUndefined();

    const p = rolloutProgress(d.chain.state(), 1)!;
    expect(p.counts).toEqual({ updated: 1, failed: 1, inactive: 0, unsupported: 0, offered: 2, waiting: 0 });
    expect(p.targets.find((t) => toHex(t.deviceId) === toHex(b.id))).toMatchObject({ status: "failed", reason: 6, version: 1 });
    expect(offered()).toEqual([c, e].map((x) => toHex(x.id)).sort());

    // Only the author stops it; afterwards nothing is offered and the progress stays on record.
    expect(d.block([{ who: f.users[0], body: { kind: "stopRollout", rollout: 1 } }]).codes).toEqual(["DEVICE_NOT_OWNER"]);
    expect(d.block([{ who: f.owner, body: { kind: "stopRollout", rollout: 1 } }]).codes).toEqual([undefined]);
    expect(d.block([{ who: f.owner, body: { kind: "stopRollout", rollout: 1 } }]).codes).toEqual(["FIRMWARE_ROLLOUT_STOPPED"]);
    expect(offered()).toEqual([]);
    const stopped = rolloutProgress(d.chain.state(), 1)!;
    expect(stopped.running).toBe(false);
    expect(stopped.counts).toEqual({ updated: 1, failed: 1, inactive: 0, unsupported: 0, offered: 0, waiting: 2 });
  });

  it("never offers a device that reports version 0 (a host without image slots), and gives its slot to the next", () => {
    const d = new Driver();
    d.block([{ who: f.users[0], body: { kind: "publishRelease", manifest: manifestV2, location } }]);
    d.block([{ who: f.owner, body: { kind: "startRollout", imageId, selector: { kind: "ids" }, targets: sortedDevices.map((x) => x.id), inFlightMax: 1 } }]);
    const [a, b] = sortedDevices;
    expect([...firmwareOffers(d.chain.state()).keys()]).toEqual([toHex(a.id)]);
    d.readings([reading(a, 1, [{ name: "fw", value: 0 }])]);
    expect([...firmwareOffers(d.chain.state()).keys()]).toEqual([toHex(b.id)]);
    const p = rolloutProgress(d.chain.state(), 1)!;
    expect(p.counts).toMatchObject({ unsupported: 1, offered: 1, waiting: 2 });
    expect(p.targets[0]).toMatchObject({ status: "unsupported", version: 0 });
  });
});

describe("firmware transaction bodies", () => {
  it("round-trip, and random bodies of kinds 14-16 only ever throw TxError", () => {
    const bodies: TxBody[] = [
      { kind: "publishRelease", manifest: manifestV2, location },
      { kind: "startRollout", imageId, selector: { kind: "metadata", key: "site", value: "lab" }, targets: sortedDevices.map((x) => x.id), inFlightMax: 3 },
      { kind: "startRollout", imageId, selector: { kind: "owner", ownerId: f.owner.id }, targets: [sortedDevices[0].id], inFlightMax: 1 },
      { kind: "stopRollout", rollout: 7 },
    ];
    for (const b of bodies) {
      const tx = decodeTx(signed(chainId, f.owner, 0, b));
      expect(tx.body).toEqual(b);
      expect(encode(bodyToCbor(tx.body))).toEqual(encode(bodyToCbor(b)));
    }
    const leaf: fc.Arbitrary<CborValue> = fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), fc.constant(null));
    const value = fc.letrec<{ v: CborValue }>((tie) => ({ v: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("v"), { maxLength: 5 })) })).v;
    fc.assert(
      fc.property(fc.constantFrom("publishRelease", "startRollout", "stopRollout") as fc.Arbitrary<"publishRelease" | "startRollout" | "stopRollout">, value, (kind, v) => {
        try {
          bodyFromCbor(kind, v);
        } catch (e) {
          expect(e).toBeInstanceOf(TxError);
        }
      }),
      { numRuns: 5_000 },
    );
    const unsorted = { kind: "startRollout", imageId, selector: { kind: "ids" }, targets: [sortedDevices[1].id, sortedDevices[0].id], inFlightMax: 1 } as TxBody;
    expect(() => decodeTx(signed(chainId, f.owner, 0, unsorted))).toThrowError(expect.objectContaining({ code: "TX_MALFORMED" }));
    expect(() => decodeTx(signed(chainId, f.owner, 0, { kind: "publishRelease", manifest: manifestV2, location: "ftp://x" }))).toThrowError(expect.objectContaining({ code: "TX_MALFORMED" }));
  });
});

describe("a reading's firmware report", () => {
  // The rule, written the plain way: the first record of each name counts, malformed values are ignored.
  const reference = (records: SenmlRecord[]) => {
    const value = (name: string) => records.find((r) => r.name === name)?.value;
    const version = value(firmwareRecordNames.version);
    const failed = value(firmwareRecordNames.failedVersion);
    const reason = value(firmwareRecordNames.reason);
    const ok = (v: number | undefined): v is number => v !== undefined && Number.isSafeInteger(v) && v >= 0 && v <= firmwareVersionMax;
    const report: { version?: number; failed?: { version: number; reason: number } } = {};
    if (ok(version)) report.version = version;
    if (ok(failed) && failed > 0 && reason !== undefined && Number.isSafeInteger(reason) && reason >= 0 && reason <= 255) report.failed = { version: failed, reason };
    return report.version === undefined && report.failed === undefined ? undefined : report;
  };
  const name = fc.constantFrom(firmwareRecordNames.version, firmwareRecordNames.failedVersion, firmwareRecordNames.reason, "temp", "fw.x");
  const value = fc.option(fc.oneof(fc.integer({ min: -2, max: 300 }), fc.constantFrom(firmwareVersionMax, firmwareVersionMax + 1, 1.5, Number.MAX_SAFE_INTEGER + 2)), { nil: undefined });
  const record = fc.record({ name, value }).map(({ name, value }): SenmlRecord => (value === undefined ? { name, stringValue: "x" } : { name, value }));

  it("is what the first record of each name says, in one pass", () => {
    fc.assert(fc.property(fc.array(record, { maxLength: 8 }), (records) => {
        expect(firmwareReport(records)).toEqual(reference(records));
      }), { numRuns: 2000 });
  });
});
