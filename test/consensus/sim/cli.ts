// Runs simulator schedules from the command line, to reproduce a failure from its seed or to
// explore:  npx tsx test/consensus/sim/cli.ts --n 7 --seed 42 [--count 100] [--byzantine 3 --kinds splitBrain]
import { parseArgs } from "node:util";
import { runSchedule } from "./run.ts";
import type { ByzantineKind } from "./byzantine.ts";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "4" },
    seed: { type: "string", default: "1" },
    count: { type: "string", default: "1" },
    byzantine: { type: "string" },
    crashes: { type: "string" },
    kinds: { type: "string" },
  },
});
const n = Number(values.n);
const first = Number(values.seed);
const started = performance.now();
let worst = 0;
let failures = 0;
for (let seed = first; seed < first + Number(values.count); seed++) {
  const r = runSchedule({
    seed,
    n,
    byzantine: values.byzantine === undefined ? undefined : Number(values.byzantine),
    crashes: values.crashes === undefined ? undefined : Number(values.crashes),
    kinds: values.kinds?.split(",") as ByzantineKind[] | undefined,
  });
  worst = Math.max(worst, r.recoveryMs);
  if (r.violation || !r.live || Number(values.count) === 1) {
    if (r.violation || !r.live) failures++;
    console.log(JSON.stringify(r));
  }
}
console.log(`${values.count} schedules in ${((performance.now() - started) / 1000).toFixed(1)} s, ${failures} failing, worst recovery ${worst} ms`);
