// 1,000 seeded schedules with n = 4 validators (f = 1) plus a spare node that may be elected:
// crashes (some torn between persisting and sending), restarts, partitions and heals, loss,
// duplication, reordering, delay, clock skew, and up to f Byzantine validators of every kind.
// Safety must hold in every one; finality must resume within the stated bound after the heal.
import { expect, test } from "vitest";
import { describe as summarise, reproduce, runMany, simTimeoutMs } from "./sim/suite.ts";

test("n=4: 1,000 seeded schedules keep safety and liveness", () => {
  const s = runMany(4, 1, 1000);
  console.log(summarise(s, 4));
  expect(s.violations.map((r) => reproduce(r))).toEqual([]);
  expect(s.halts.map((r) => reproduce(r))).toEqual([]);
  expect(s.schedules).toBe(1000);
  for (const kind of ["equivocate", "doubleVote", "invalidBlock", "withhold", "garbage", "splitBrain", "crash", "partition", "links"]) expect(s.coverage.get(kind) ?? 0).toBeGreaterThan(10);
  expect(s.evidence).toBeGreaterThan(0);
}, simTimeoutMs);
