// npm run bench:ota [-- cuts [seed]]: power cuts (SIGKILL of the board's process) at random points of
// a firmware transfer over serial and of the install and switch, each followed by a start, checked:
// a verified image, the same device id, a sequence number above all used before. Prints progress and
// a table; exits 1 if any start broke a rule.
import { runPowerCuts } from "../test/support/ota-power-cuts.ts";
import { printTable } from "./table.ts";

const cuts = Number(process.argv[2] ?? 1000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const started = Date.now();
const r = await runPowerCuts(cuts, seed, (done, partial) => {
  if (done % 50 === 0 || done === cuts) {
    process.stderr.write(`${done}/${cuts} cuts, ${partial.failures.length} failures, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
});
printTable(
  "power cuts during firmware updates (SIGKILL of the board process, then a start)",
  ["cuts", "in transfer", "in install/switch", "started v1", "started new (on trial)", "rule broken", "seed"],
  [[r.cuts, r.duringTransfer, r.duringSwitch, r.startedOld, r.startedNew, r.failures.length, seed]],
);
for (const f of r.failures) console.log(f);
process.exit(r.failures.length === 0 ? 0 : 1);
