// The checker can fail: with f+1 colluding Byzantine validators (a split-brain attack that shows
// each half of the honest nodes its own block and votes for it) PBFT's guarantee is void, and the
// same harness that passes 2,000 schedules above must report forks or halts here.
import { expect, test } from "vitest";
import { describe as summarise, runMany } from "./sim/suite.ts";

for (const [n, byzantine] of [
  [4, 2],
  [7, 3],
] as const) {
  test(`n=${n} with ${byzantine} colluding Byzantine validators: the checker reports violations`, () => {
    const s = runMany(n, 1, 24, { byzantine, kinds: ["splitBrain"] });
    console.log(summarise(s, n));
    for (const r of s.violations.slice(0, 3)) console.log(`  e.g. seed ${r.seed}: ${r.violation}`);
    expect(s.violations.length).toBeGreaterThan(0);
    expect(s.violations.length + s.halts.length).toBeGreaterThan(s.schedules / 4);
  });
}
