// One sensor catalog: the gateway's table (shared/sensor-catalog.ts), the firmware's sensor count
// (device/sensors.ts) and device/ABI.md's table must agree, or a compact reading's "0" would mean
// one thing on the device and another on chain.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compactName, compactRecord, expandCompactRecord, sensorCatalog } from "../../shared/sensor-catalog.ts";

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), "utf8");

describe("sensor catalog", () => {
  it("matches device/sensors.ts's SENSOR_COUNT and device/ABI.md's table row for row", () => {
    expect(Number(/SENSOR_COUNT: i32 = (\d+)/.exec(read("device/sensors.ts"))![1])).toBe(sensorCatalog.length);
    const abi = read("device/ABI.md");
    const section = abi.slice(abi.indexOf("## Sensor catalog"), abi.indexOf("## Counters"));
    const rows = [...section.matchAll(/^\| (\d+) \| `([^`]+)` \| `([^`]+)` \|/gm)].map((m) => ({ index: Number(m[1]), name: m[2], unit: m[3] }));
    expect(rows).toEqual(sensorCatalog.map((e, index) => ({ index, ...e })));
  });

  it("expands what it compacts, and passes other records through", () => {
    sensorCatalog.forEach((e, i) => {
      expect(compactRecord({ ...e, value: 1 })).toEqual({ name: compactName(i), value: 1 });
      expect(expandCompactRecord({ name: compactName(i), value: 1 })).toEqual({ ...e, value: 1 });
    });
    expect(compactRecord({ name: "temp", unit: "K", value: 1 })).toEqual({ name: "temp", unit: "K", value: 1 });
    expect(expandCompactRecord({ name: "fw", value: 2 })).toEqual({ name: "fw", value: 2 });
    expect(() => compactName(6)).toThrow(RangeError);
  });
});
