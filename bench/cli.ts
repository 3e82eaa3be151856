// npm run bench:cli — how long `mote` takes to start and finish, beside `node -e 0` (this machine's
// floor for any Node process) in the same run: `mote --help`, `mote status` against no network (it
// fails at once with its usual API_UNREACHABLE message) and against a running one-gateway network
// (solo consensus, started here from the compiled CLI, with an empty chain), and `mote --help` from
// the TypeScript sources through tsx (`npm run mote`), which is what every command paid before the
// build. Commands take turns run by run, so a busy machine slows them alike; the ratio to
// `node -e 0` is the figure to compare between runs.
//
//   npm run bench:cli [-- --runs 20] [--no-network] [--no-source]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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

interface Case {
  label: string;
  args: string[];
  /** The exit code this command must end with, so a broken build cannot pass for a fast one. */
  exitCode: number;
  /** Every run's wall time, ms. */
  ms: number[];
  target?: boolean;
}

function run(c: Case): void {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, c.args, { encoding: "utf8", env: { ...process.env, MOTE_API: "" } });
  c.ms.push(performance.now() - t0);
  if (r.status !== c.exitCode) throw new Error(`${c.label}: exit ${r.status ?? r.signal}, expected ${c.exitCode}\n${r.stdout}${r.stderr}`);
}

/** A one-gateway network from the compiled CLI: `mote net init`, then `mote gateway start --consensus solo`. */
async function startSoloGateway(dir: string): Promise<{ api: string; child: ChildProcess }> {
  const [p2pPort, apiPort] = [46_401, 46_080];
  const init = spawnSync(process.execPath, [mote, "net", "init", "--dir", join(dir, "net"), "--gateways", "1", "--base-port", String(p2pPort - 1)], { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`mote net init failed: ${init.stderr}`);
  const child = spawn(
    process.execPath,
    [mote, "gateway", "start", "--data-dir", join(dir, "gw"), "--genesis", join(dir, "net", "genesis.json"), "--key", join(dir, "net", "gateway-1.key.json"), "--consensus", "solo", "--udp-host", "127.0.0.1", "--udp-port", "0", "--p2p-port", String(p2pPort), "--api-port", String(apiPort), "--log-level", "warn"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let said = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 30 s: ${said}`)), 30_000);
    child.stderr!.on("data", (b: Buffer) => {
      said += b.toString();
      if (said.includes("gateway API ")) (clearTimeout(timer), resolve());
    });
    child.once("exit", (code) => (clearTimeout(timer), reject(new Error(`the gateway exited (${code}): ${said}`))));
  });
  return { api: `http://127.0.0.1:${apiPort}`, child };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

const cases: Case[] = [
  { label: "node -e 0", args: ["-e", "0"], exitCode: 0, ms: [] },
  { label: "mote --help", args: [mote, "--help"], exitCode: 0, ms: [], target: true },
  { label: "mote status (no network: API_UNREACHABLE)", args: [mote, "status", "--api", noNetworkApi], exitCode: 1, ms: [], target: true },
];
const dir = mkdtempSync(join(tmpdir(), "bench-cli-"));
let gateway: ChildProcess | undefined;
try {
  if (!values["no-network"]) {
    const solo = await startSoloGateway(dir);
    gateway = solo.child;
    cases.push({ label: "mote status (running 1-gateway network)", args: [mote, "status", "--api", solo.api], exitCode: 0, ms: [], target: true });
  }
  if (!values["no-source"]) cases.push({ label: "mote --help from sources (tsx, before the build)", args: [...nodeArgsFor("gateway/cli/main.ts"), "--help"], exitCode: 0, ms: [] });

  for (const c of cases) run(c); // warm the file cache; not counted
  for (const c of cases) c.ms.length = 0;
  for (let i = 0; i < runs; i++) for (const c of cases) run(c);
} finally {
  gateway?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}

const floorMs = quantile([...cases[0].ms].sort((a, b) => a - b), 0.5);
printTable(
  `start to exit, ${runs} runs each, interleaved (this machine: node -e 0 is the floor)`,
  ["command", "median ms", "p90 ms", "min ms", "max ms", "median ÷ node -e 0", `target < ${targetMs} ms`],
  cases.map((c) => {
    const s = [...c.ms].sort((a, b) => a - b);
    const median = quantile(s, 0.5);
    return [c.label, Math.round(median), Math.round(quantile(s, 0.9)), Math.round(s[0]), Math.round(s[s.length - 1]), `${(median / floorMs).toFixed(1)}×`, c.target ? (quantile(s, 0.9) < targetMs ? "met (p90)" : median < targetMs ? "median only" : "MISSED") : ""];
  }),
);
