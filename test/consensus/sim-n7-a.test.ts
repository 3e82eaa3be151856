// Seeded schedules 1–500 with n = 7 validators (f = 2) plus a spare (together with
// sim-n7-b.test.ts: 1,000 schedules, split in two files so both test workers share them).
// The same faults as sim-n4.test.ts, up to two Byzantine validators of any mix of kinds.
import { expect, test } from "vitest";
import { describe as summarise, reproduce, runMany, simTimeoutMs } from "./sim/suite.ts";

test("n=7: schedules 1–500 keep safety and liveness", () => {
  const s = runMany(7, 1, 500);
  console.log(summarise(s, 7));
  expect(s.violations.map((r) => reproduce(r))).toEqual([]);
  expect(s.halts.map((r) => reproduce(r))).toEqual([]);
  expect(s.schedules).toBe(500);
  for (const kind of ["equivocate", "doubleVote", "invalidBlock", "withhold", "garbage", "splitBrain", "crash", "partition", "links"]) expect(s.coverage.get(kind) ?? 0).toBeGreaterThan(5);
}, simTimeoutMs);
