// When the reading feed flushes (gateway/consensus/feed-timing.ts): a quarter of an interval before
// each round-0 proposal, once per point, and a head decided within its interval gets one flush; a
// node that makes the next proposal flushes for it just before it (ownLeadMs), later points as others.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { feedFlushDue, nextFeedFlushAt, ownLeadMs } from "../../gateway/consensus/feed-timing.ts";

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

  it("flushes again just before its own proposal when this node makes it", () => {
    const head = { intervalMs: interval, headTimeMs: 10_000, headSeenAtMs: 10_150, proposesNext: true };
    // The proposal goes at 10,200: the quarter's flush as every node's, then one 5 ms before the proposal.
    expect(feedFlushDue({ ...head, nowMs: 10_149, flushedAtMs: 9_950 })).toBeUndefined();
    expect(nextFeedFlushAt({ ...head, nowMs: 10_149 })).toBe(10_150);
    expect(feedFlushDue({ ...head, nowMs: 10_151, flushedAtMs: 9_950 })).toBe(10_150);
    expect(feedFlushDue({ ...head, nowMs: 10_194, flushedAtMs: 10_151 })).toBeUndefined();
    expect(nextFeedFlushAt({ ...head, nowMs: 10_151 })).toBe(10_200 - ownLeadMs);
    expect(feedFlushDue({ ...head, nowMs: 10_195, flushedAtMs: 10_151 })).toBe(10_195);
    expect(feedFlushDue({ ...head, nowMs: 10_300, flushedAtMs: 10_195 })).toBeUndefined();
    // Undecided an interval later: the next proposal is another validator's, a quarter early as before.
    expect(nextFeedFlushAt({ ...head, nowMs: 10_196 })).toBe(10_350);
    expect(feedFlushDue({ ...head, nowMs: 10_355, flushedAtMs: 10_195 })).toBe(10_350);
    // A tick that comes after both: one flush, for the later point.
    expect(feedFlushDue({ ...head, nowMs: 10_197, flushedAtMs: 9_950 })).toBe(10_195);
  });

  it("flushes only just before each proposal when this node is the only validator", () => {
    const head = { intervalMs: interval, headTimeMs: 10_000, headSeenAtMs: 10_150, proposesNext: true, alone: true };
    expect(feedFlushDue({ ...head, nowMs: 10_194, flushedAtMs: 9_950 })).toBeUndefined();
    expect(feedFlushDue({ ...head, nowMs: 10_195, flushedAtMs: 9_950 })).toBe(10_195);
    expect(nextFeedFlushAt({ ...head, nowMs: 10_195 })).toBe(10_395);
    expect(feedFlushDue({ ...head, nowMs: 10_395, flushedAtMs: 10_195 })).toBe(10_395);
  });

  it("flushes at once when the head committed after its next proposal was due", () => {
    // The next proposal goes as soon as the parent commits (core.ts proposeAtMs): no waiting for a point.
    expect(feedFlushDue({ intervalMs: interval, headTimeMs: 10_000, headSeenAtMs: 10_450, nowMs: 10_450, flushedAtMs: 10_180 })).toBe(10_400);
  });

  it("flushes once per interval whatever the tick, never more than a tick after a point", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 3_000 }), fc.boolean(), fc.boolean(), (tick, seenLate, span, proposesNext, alone) => {
        const head = { intervalMs: interval, headTimeMs: 50_000, headSeenAtMs: 50_000 + seenLate, proposesNext: proposesNext || alone, alone };
        let flushedAtMs = 0;
        const flushes: { at: number; point: number }[] = [];
        for (let now = 50_000; now <= 50_000 + span; now += tick) {
          const due = feedFlushDue({ ...head, nowMs: now, flushedAtMs });
          if (due === undefined) continue;
          flushes.push({ at: now, point: due });
          flushedAtMs = now;
        }
        const proposal = Math.max(50_200, head.headSeenAtMs);
        const first = proposal - (alone ? ownLeadMs : interval / 4);
        // The schedule: a quarter before the proposal and every interval after; its proposer also just before it.
        const lastTick = 50_000 + Math.floor(span / tick) * tick;
        const points: number[] = [];
        for (let p = first; p <= lastTick; p += interval) points.push(p);
        if (proposesNext && !alone && proposal - ownLeadMs <= lastTick) points.splice(1, 0, proposal - ownLeadMs);
        // Each flush is at a point of the schedule, less than a tick after it, in order; every point
        // is flushed unless a later one fell within the same tick (then that one is).
        const hit = flushes.map((f) => f.point);
        expect(hit.every((p) => points.includes(p))).toBe(true);
        expect([...hit].sort((a, b) => a - b)).toEqual(hit);
        for (const f of flushes) expect(f.at - f.point).toBeLessThan(tick);
        for (const [i, p] of points.entries()) if (!hit.includes(p)) expect(points[i + 1] - p).toBeLessThan(tick);
        expect(points.length === 0 || hit.includes(points[points.length - 1])).toBe(true);
      }),
      { examples: [[5, 606, 585, false, false], [5, 606, 585, true, false], [5, 606, 585, true, true]] },
    );
  });

  it("names the next flush point: after now, due from it on, none before it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), fc.integer({ min: 0, max: 3_000 }), fc.boolean(), fc.boolean(), (seenLate, sinceHead, proposesNext, alone) => {
        const head = { intervalMs: interval, headTimeMs: 50_000, headSeenAtMs: 50_000 + seenLate, proposesNext: proposesNext || alone, alone };
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
