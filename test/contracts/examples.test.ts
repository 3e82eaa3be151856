// The three example contracts (contracts/examples/*.ts), built with the real AssemblyScript
// compiler, deployed by transaction and driven by device readings on a real chain (SQLite store,
// blocks built, certified and committed), then replayed from genesis by a second node.
import { beforeAll, describe, expect, it } from "vitest";
import { decode } from "../../shared/cbor.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { stateKey } from "../../gateway/chain/keys.ts";
import { verifyStateProof } from "../../gateway/chain/proof.ts";
import { signed } from "../chain/fixture.ts";
import { callTx, deployTx, examples, i64le, type ExampleName } from "./contract-fixture.ts";
import { Driver, hourMs } from "./example-driver.ts";

let code: Record<ExampleName, Uint8Array>;
beforeAll(async () => {
  code = await examples();
});

const text = (b: Uint8Array) => Buffer.from(b).toString();

describe("example contracts on a chain", () => {
  it("threshold alarm: one alarm per excursion (hysteresis), events in the results, replay agrees", () => {
    const d = new Driver("alarm");
    const [alice] = d.f.users;
    const alarm = deployTx(d.chain, alice, 0, code["threshold-alarm"], [{ kind: "device", deviceId: d.f.devices[0].id }], 100_000);
    d.block([alarm.bytes]);
    expect(d.chain.state().overlay.get(stateKey.contract(alarm.id))).toBeDefined();
    // Fund its gas (reading runs are paid from its balance), then configure: high 30.000 °C, low 25.000 °C.
    d.block([signed(d.chain.chainId, alice, 1, { kind: "transfer", to: alarm.id, amount: 1000n }), callTx(d.chain, alice, 2, alarm.id, "configure", i64le(30_000n, 25_000n))]);
    // Someone else may not configure it: the run aborts, the fee is paid, the state is unchanged.
    const bob = d.f.users[1];
    const refused = d.block([callTx(d.chain, bob, 0, alarm.id, "configure", i64le(1n, 0n))]);
    expect(refused.failures[0]).toBe("CONTRACT_ABORT");

    const temps = [20, 31, 32, 29, 26, 24.9, 25.5, 30, 12];
    const runs = d.readings(temps.map((t, i) => [0, i, t] as [number, number, number]));
    expect(runs).toHaveLength(temps.length);
    expect(runs.every((r) => r.failure === null && r.gasUsed > 0)).toBe(true);
    const events = runs.flatMap((r) => r.events.map((e) => [r.position, text(e.topic), Number(Buffer.from(e.data).readBigInt64LE(16))]));
    expect(events).toEqual([
      [1, "alarm", 31_000],
      [5, "clear", 24_900],
      [7, "alarm", 30_000],
      [8, "clear", 12_000],
    ]);
    // Other devices' readings do not trigger it.
    expect(d.readings([[1, 0, 40]])).toEqual([]);
    d.replay().store.close();
  });

  it("pay-per-reading: the device owner is paid per verified reading until the escrow runs out", () => {
    const d = new Driver("pay");
    const buyer = d.f.users[1];
    const ppr = deployTx(d.chain, buyer, 0, code["pay-per-reading"], [{ kind: "metadata", key: "model", value: "test" }], 100_000);
    d.block([ppr.bytes]);
    d.block([callTx(d.chain, buyer, 1, ppr.id, "configure", i64le(10n)), callTx(d.chain, buyer, 2, ppr.id, "deposit", new Uint8Array(0), 100_000, 105n)]);
    expect(d.balance(ppr.id)).toBe(105n);
    const ownerBefore = d.balance(d.f.owner.id);
    // 12 verified readings from 3 devices (all "model=test"); a reading with a bad signature pays nothing.
    const runs = d.readings(Array.from({ length: 12 }, (_, i) => [i % 3, Math.floor(i / 3), 20 + i] as [number, number, number]));
    const topics = runs.flatMap((r) => r.events.map((e) => text(e.topic)));
    // Each paid reading costs the price (10) and its gas (1 token at gasPerToken 100,000): 9 fit in 105.
    expect(topics.filter((t) => t === "paid")).toHaveLength(9);
    expect(topics.filter((t) => t === "exhausted")).toHaveLength(1);
    expect(d.balance(d.f.owner.id) - ownerBefore).toBe(90n);
    expect(d.balance(ppr.id)).toBeLessThan(10n);
    // Later readings no longer pay; when even gas cannot be reserved the run is skipped.
    const later = d.readings(Array.from({ length: 10 }, (_, i) => [3, i, 1] as [number, number, number]));
    expect(later.some((r) => r.failure === "CONTRACT_UNFUNDED")).toBe(true);
    expect(d.balance(d.f.owner.id) - ownerBefore).toBe(90n);
    d.replay().store.close();
  });

  it("hourly aggregate: count, min, max, mean per device and hour in storage, read with a state proof", () => {
    const d = new Driver("hourly");
    const carol = d.f.users[2];
    const agg = deployTx(d.chain, carol, 0, code["hourly-aggregate"], [{ kind: "owner", ownerId: d.f.owner.id }], 200_000);
    d.block([agg.bytes, signed(d.chain.chainId, carol, 1, { kind: "transfer", to: agg.id, amount: 1000n })]);
    d.timeMs = Math.ceil(d.timeMs / hourMs) * hourMs; // the next readings start an hour
    const hour0 = d.timeMs / hourMs;
    d.readings([[0, 0, 21.5], [0, 1, 22.5], [1, 0, -3.25]]);
    d.readings([[0, 2, 19.75]], 60_000);
    d.readings([[0, 3, 30]], hourMs); // the next hour
    const key = (device: Identity, hour: number) => new Uint8Array([...Buffer.from("h"), ...device.id, ...i64le(BigInt(hour))]);
    const read = (device: Identity, hour: number) => {
      const k = stateKey.contractStorage(agg.id, key(device, hour));
      const p = d.chain.prove(k);
      expect(verifyStateProof(d.chain.head().header, k, p.value, p.proof), "the proof verifies against the head's state root").toBe(true);
      if (!p.value) return undefined;
      const v = Buffer.from(decode(p.value) as Uint8Array);
      return [0, 8, 16, 24, 32].map((o) => Number(v.readBigInt64LE(o)));
    };
    expect(read(d.f.devices[0], hour0)).toEqual([3, 19_750, 22_500, 63_750, 21_250]);
    expect(read(d.f.devices[1], hour0)).toEqual([1, -3_250, -3_250, -3_250, -3_250]);
    expect(read(d.f.devices[0], hour0 + 1)).toEqual([1, 30_000, 30_000, 30_000, 30_000]);
    expect(read(d.f.devices[1], hour0 + 1), "absence is proven too").toBeUndefined();
    d.replay().store.close();
  });
});
