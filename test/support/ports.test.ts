// The test port table (ports.ts): no two entries can meet on a port, and none reaches the ephemeral range.
import { describe, expect, it } from "vitest";
import { fixedDevnetPorts, pidPortRanges, portBase } from "./ports.ts";

const ephemeralFrom = 32_768;
const spans: { what: string; from: number; to: number }[] = [
  ...Object.entries(fixedDevnetPorts).flatMap(([name, p]) => Object.entries(p).map(([kind, base]) => ({ what: `${name}.${kind}`, from: base, to: base + 7 }))),
  ...Object.entries(pidPortRanges).map(([name, r]) => ({ what: name, from: r.from, to: r.from + r.slots * r.width - 1 })),
];

describe("test ports", () => {
  it("no two entries overlap, and all stay below the ephemeral range", () => {
    const sorted = [...spans].sort((a, b) => a.from - b.from);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].from, `${sorted[i - 1].what} and ${sorted[i].what}`).toBeGreaterThan(sorted[i - 1].to);
    expect(sorted[sorted.length - 1].to).toBeLessThan(ephemeralFrom);
    expect(sorted[0].from).toBeGreaterThan(1023);
  });

  it("a file's base stays inside its own range", () => {
    for (const [name, r] of Object.entries(pidPortRanges)) {
      const base = portBase(name as keyof typeof pidPortRanges);
      expect(base).toBeGreaterThanOrEqual(r.from);
      expect(base + r.width - 1).toBeLessThan(r.from + r.slots * r.width);
    }
  });
});
