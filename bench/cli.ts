// npm run bench:cli — how long `mote` takes to start and finish, beside `node -e 0` (this machine's
// floor for any Node process) in the same run: `mote --help`, `mote status` against no network (it
// fails at once with its usual API_UNREACHABLE message) and against a running one-gateway network
// (solo consensus, started here from the compiled CLI, with an empty chain), and `mote --help` from
// the TypeScript sources through tsx (`npm run mote`), which is what every command paid before the
// build. Commands take turns run by run, so a busy machine slows them alike; the ratio to
// `node -e 0` is the figure to compare between runs. With GNU time installed (/usr/bin/time), each
// run's CPU time (user + system, all threads) is shown too: on a machine shared with other work the
// wall time is mostly waiting for a core, the CPU time is what the command itself costs.
//
//   npm run bench:cli [-- --runs 20] [--no-network] [--no-source]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nodeArgsFor, packageFile } from "../shared/package-paths.ts";
import { printTable } from "./table.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "20" }, "no-network": { type: "boolean" }, "no-source": { type: "boolean" } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 2 || runs > 1000) throw new Error(`--runs ${values.runs}: give a whole number from 2 to 1000`);
const targetMs = 300; // issue 14: `mote --help` and `mote status` start in under 300 ms

const mote = packageFile("bin/mote.js"); // what `mote` (node_modules/.bin/mote) runs: the compiled CLI
const noNetworkApi = "http://127.0.0.1:1"; // nothing listens on port 1: connection refused at once
const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const cpuMark = "bench-cli-cpu";

interface Case {
  label: string;
  args: string[];
  /** The exit code this command must end with, so a broken build cannot pass for a fast one. */
  exitCode: number;
  /** Every run's wall time, ms. */
  ms: number[];
  /** Every run's CPU time (user + system), ms, when GNU time measures it. */
  cpuMs: number[];
  target?: boolean;
}

function run(c: Case): void {
  const [command, args] = gnuTime ? [gnuTime, ["-f", `${cpuMark} %U %S`, process.execPath, ...c.args]] : [process.execPath, c.args];
  const t0 = performance.now();
  const r = spawnSync(command, args, { encoding: "utf8", env: { ...process.env, MOTE_API: "" } });
  c.ms.push(performance.now() - t0);
  if (r.status !== c.exitCode) throw new Error(`${c.label}: exit ${r.status ?? r.signal}, expected ${c.exitCode}\n${r.stdout}${r.stderr}`);
  const cpu = r.stderr.match(new RegExp(`${cpuMark} ([0-9.]+) ([0-9.]+)`));
  if (cpu) c.cpuMs.push((Number(cpu[1]) + Number(cpu[2])) * 1000);
}

/** A one-gateway network from the compiled CLI: `mote net init`, then `mote gateway start --consensus solo` on free ports. */
async function startSoloGateway(dir: string): Promise<{ api: string; child: ChildProcess }> {
  const init = spawnSync(process.execPath, [mote, "net", "init", "--dir", join(dir, "net"), "--gateways", "1"], { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`mote net init failed: ${init.stderr}`);
  const child = spawn(
    process.execPath,
    [mote, "gateway", "start", "--data-dir", join(dir, "gw"), "--genesis", join(dir, "net", "genesis.json"), "--key", join(dir, "net", "gateway-1.key.json"), "--consensus", "solo", "--udp-host", "127.0.0.1", "--udp-port", "0", "--p2p-port", "0", "--api-port", "0", "--log-level", "warn"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let said = "";
  const api = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 30 s: ${said}`)), 30_000);
    child.stderr!.on("data", (b: Buffer) => {
      said += b.toString();
      const listening = said.match(/gateway API (http:\/\/\S+)/); // "gateway API http://127.0.0.1:<port>  dashboard …"
      if (listening) (clearTimeout(timer), resolve(listening[1]));
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`the gateway exited (${code}): ${said}`))));
  });
  return { api, child };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

const cases: Case[] = [
  { label: "node -e 0", args: ["-e", "0"], exitCode: 0, ms: [], cpuMs: [] },
  { label: "mote --help", args: [mote, "--help"], exitCode: 0, ms: [], cpuMs: [], target: true },
  { label: "mote status (no network: API_UNREACHABLE)", args: [mote, "status", "--api", noNetworkApi], exitCode: 1, ms: [], cpuMs: [], target: true },
];
const dir = mkdtempSync(join(tmpdir(), "bench-cli-"));
let gateway: ChildProcess | undefined;
try {
  if (!values["no-network"]) {
    const solo = await startSoloGateway(dir);
    gateway = solo.child;
    cases.push({ label: "mote status (running 1-gateway network)", args: [mote, "status", "--api", solo.api], exitCode: 0, ms: [], cpuMs: [], target: true });
  }
  if (!values["no-source"]) cases.push({ label: "mote --help from sources (tsx, before the build)", args: [...nodeArgsFor("gateway/cli/main.ts"), "--help"], exitCode: 0, ms: [], cpuMs: [] });

  for (const c of cases) run(c); // warm the file cache; not counted
  for (const c of cases) c.ms.length = c.cpuMs.length = 0;
  for (let i = 0; i < runs; i++) for (const c of cases) run(c);
} finally {
  gateway?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}

const floorMs = quantile([...cases[0].ms].sort((a, b) => a - b), 0.5);
const median = (xs: number[]) => (xs.length ? quantile([...xs].sort((a, b) => a - b), 0.5) : NaN);
const load = `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;
printTable(
  `start to exit, ${runs} runs each, interleaved (${load}; node -e 0 is the floor)`,
  ["command", "median ms", "p90 ms", "min ms", "max ms", "median ÷ node -e 0", "CPU ms median", `target < ${targetMs} ms`],
  cases.map((c) => {
    const s = [...c.ms].sort((a, b) => a - b);
    const p50 = quantile(s, 0.5);
    const verdict = quantile(s, 0.9) < targetMs ? "met (p90)" : p50 < targetMs ? "median only" : "missed";
    return [c.label, Math.round(p50), Math.round(quantile(s, 0.9)), Math.round(s[0]), Math.round(s[s.length - 1]), `${(p50 / floorMs).toFixed(1)}×`, c.cpuMs.length ? Math.round(median(c.cpuMs)) : "-", c.target ? verdict : ""];
  }),
);
