// The chain's per-device sequence window (gateway/chain/sequence-window.ts) against a plain model:
// the set of recorded sequences and its maximum. Any order of recordings, large jumps, edges of
// the window: "recorded" exactly for recorded sequences within the window, "stale" exactly for
// those more than the window below the highest, "new" otherwise.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyWindow, sequenceWindowBits, windowRecord, windowVerdict, type SequenceWindow } from "../../gateway/chain/sequence-window.ts";

function modelVerdict(recorded: Set<number>, last: number, s: number): string {
  if (s > last) return "new";
  if (last - s >= sequenceWindowBits) return "stale";
  return recorded.has(s) ? "recorded" : "new";
}

describe("sequence window", () => {
  it("agrees with a set of recorded sequences for any order of arrivals", () => {
    const seq = fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 2 ** 32 }));
    fc.assert(
      fc.property(fc.array(seq, { maxLength: 300 }), fc.array(seq, { maxLength: 50 }), (arrivals, probes) => {
        const w: SequenceWindow = { last: -1, window: emptyWindow() };
        const recorded = new Set<number>();
        for (const s of arrivals) {
          const expected = modelVerdict(recorded, w.last, s);
          expect(windowVerdict(w, s)).toBe(expected);
          if (expected === "new") {
            windowRecord(w, s);
            recorded.add(s);
          }
          expect(w.last).toBe(Math.max(...recorded));
        }
        for (const s of [...probes, w.last, w.last - 1, w.last - sequenceWindowBits + 1, w.last - sequenceWindowBits, w.last + 1]) {
          if (s >= 0) expect(windowVerdict(w, s)).toBe(modelVerdict(recorded, w.last, s));
        }
      }),
      { numRuns: 500 },
    );
  });

  it("shifts by every distance, keeping exactly the bits still inside the window", () => {
    for (let by = 1; by <= sequenceWindowBits + 1; by++) {
      const w: SequenceWindow = { last: -1, window: emptyWindow() };
      for (let s = 0; s < sequenceWindowBits; s += 3) windowRecord(w, s);
      const top = w.last;
      windowRecord(w, top + by);
      const got: string[] = [];
      const want: string[] = [];
      for (let s = 0; s <= top; s++) {
        got.push(windowVerdict(w, s));
        want.push(top + by - s >= sequenceWindowBits ? "stale" : s % 3 === 0 ? "recorded" : "new");
      }
      if (got.join() !== want.join()) expect(got, `shift ${by}`).toEqual(want);
    }
  });

  it("refuses to record a sequence twice (an invariant, not input handling)", () => {
    const w: SequenceWindow = { last: -1, window: emptyWindow() };
    windowRecord(w, 5);
    expect(() => windowRecord(w, 5)).toThrow(/not new/);
  });
});
