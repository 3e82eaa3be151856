// Runs many seeded schedules and summarises them for a test: failures with the command that
// reproduces each, the worst recovery time against the stated bound, and which faults were covered.
import { livenessBoundMs, runSchedule, type ScheduleOptions, type ScheduleResult } from "./run.ts";

/**
 * A suite of 500-1,000 schedules is a fixed amount of synchronous CPU work: about 45 s alone on this
 * 2-core machine, two to three times that while the rest of \`npm test\` shares the cores. Its limit is
 * not a performance bound, only a guard against a hang.
 */
export const simTimeoutMs = 360_000;

export interface Summary {
  schedules: number;
  violations: ScheduleResult[];
  halts: ScheduleResult[];
  worstRecoveryMs: number;
  boundMs: number;
  heightsFinalized: number;
  evidence: number;
  coverage: Map<string, number>;
}

export function runMany(n: number, firstSeed: number, count: number, extra: Partial<ScheduleOptions> = {}): Summary {
  const s: Summary = { schedules: 0, violations: [], halts: [], worstRecoveryMs: 0, boundMs: livenessBoundMs(n), heightsFinalized: 0, evidence: 0, coverage: new Map() };
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const r = runSchedule({ seed, n, ...extra });
    s.schedules++;
    if (r.violation) s.violations.push(r);
    else if (!r.live) s.halts.push(r);
    s.worstRecoveryMs = Math.max(s.worstRecoveryMs, r.recoveryMs);
    s.heightsFinalized += r.heightFinal;
    s.evidence += r.evidence;
    for (const f of r.faults.split(", ")) {
      const kind = f.replace(/[@×:|0-9].*$/, "");
      s.coverage.set(kind, (s.coverage.get(kind) ?? 0) + 1);
    }
  }
  return s;
}

export function describe(s: Summary, n: number): string {
  const cover = [...s.coverage].map(([k, v]) => `${k}:${v}`).join(" ");
  return `n=${n}: ${s.schedules} schedules, ${s.violations.length} safety violations, ${s.halts.length} halts, ${s.heightsFinalized} heights finalized, ${s.evidence} double signatures caught, worst recovery after heal ${s.worstRecoveryMs} ms (bound ${s.boundMs} ms); faults ${cover}`;
}

export function reproduce(r: ScheduleResult, extra = ""): string {
  return `seed ${r.seed} [${r.faults}]: ${r.violation ?? "no finality within the bound after heal"} — reproduce: npx tsx test/consensus/sim/cli.ts --n ${r.n} --seed ${r.seed}${extra}`;
}
