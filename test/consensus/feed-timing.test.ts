// When the reading feed flushes (gateway/consensus/feed-timing.ts): a quarter of an interval before
// each round-0 proposal, once per point, and a head decided within its interval gets one flush.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { feedFlushDue, nextFeedFlushAt } from "../../gateway/consensus/feed-timing.ts";

const interval = 200;

describe("feed timing", () => {
  it("flushes a quarter of an interval before the next proposal, once", () => {
    const head = { intervalMs: interval, headTimeMs: 10_000, headSeenAtMs: 10_150 };
    expect(feedFlushDue({ ...head, nowMs: 10_149, flushedAtMs: 9_950 })).toBeUndefined();
    expect(feedFlushDue({ ...head, nowMs: 10_151, flushedAtMs: 9_950 })).toBe(10_150);
    expect(feedFlushDue({ ...head, nowMs: 10_300, flushedAtMs: 10_151 })).toBeUndefined();
    // Still undecided an interval later: the proposal after it cannot come sooner, flush before it.
    expect(feedFlushDue({ ...head, nowMs: 10_355, flushedAtMs: 10_151 })).toBe(10_350);
  });

  it("flushes at once when the head committed after its next proposal was due", () => {
    // The next proposal goes as soon as the parent commits (core.ts proposeAtMs): no waiting for a point.
    expect(feedFlushDue({ intervalMs: interval, headTimeMs: 10_000, headSeenAtMs: 10_450, nowMs: 10_450, flushedAtMs: 10_180 })).toBe(10_400);
  });

  it("flushes once per interval whatever the tick, never more than a tick after a point", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 3_000 }), (tick, seenLate, span) => {
        const head = { intervalMs: interval, headTimeMs: 50_000, headSeenAtMs: 50_000 + seenLate };
        let flushedAtMs = 0;
        const flushes: { at: number; point: number }[] = [];
        for (let now = 50_000; now <= 50_000 + span; now += tick) {
          const due = feedFlushDue({ ...head, nowMs: now, flushedAtMs });
          if (due === undefined) continue;
          flushes.push({ at: now, point: due });
          flushedAtMs = now;
        }
        const first = Math.max(50_200, head.headSeenAtMs) - interval / 4;
        for (const [i, f] of flushes.entries()) {
          expect(f.point).toBe(first + i * interval);
          expect(f.at - f.point).toBeLessThan(tick);
        }
        const lastTick = 50_000 + Math.floor(span / tick) * tick;
        expect(flushes.length).toBe(lastTick < first ? 0 : Math.floor((lastTick - first) / interval) + 1);
      }),
      { examples: [[5, 606, 585]] },
    );
  });

  it("names the next flush point: after now, due from it on, none before it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 3_000 }), (seenLate, sinceHead) => {
        const head = { intervalMs: interval, headTimeMs: 50_000, headSeenAtMs: 50_000 + seenLate };
        const nowMs = 50_000 + sinceHead;
        const next = nextFeedFlushAt({ ...head, nowMs });
        expect(next).toBeGreaterThan(nowMs);
        // A feed that flushed at `nowMs` (or whose last point passed) waits exactly until `next`.
        const flushedAtMs = nowMs;
        expect(feedFlushDue({ ...head, nowMs: next - 1, flushedAtMs })).toBeUndefined();
        expect(feedFlushDue({ ...head, nowMs: next, flushedAtMs })).toBe(next);
      }),
    );
    expect(nextFeedFlushAt({ intervalMs: interval, headTimeMs: 10_000, headSeenAtMs: 10_100, nowMs: 10_100 })).toBe(10_150);
    expect(nextFeedFlushAt({ intervalMs: interval, headTimeMs: 10_000, headSeenAtMs: 10_100, nowMs: 10_150 })).toBe(10_350);
  });
});
