// `npm start` and what it leaves behind: nothing. Run through npm itself (npm's shell may die on
// SIGTERM without passing it on), the network must be gone after SIGTERM to npm and after kill -9
// of the start script; a second start on the same directory refuses while one runs; and a gateway
// that exits during start (here DATA_DIR_LOCKED, its port still answered by another gateway) is
// reported down, not up.
import { afterAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GatewayProcess } from "../../gateway/devnet/processes.ts";
import { devnetLockFile, lockDevnetDir } from "../../gateway/devnet/devnet.ts";
import { fixedDevnetPorts } from "../support/ports.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "mote-start-signals-"));
const { udp, p2p, api } = fixedDevnetPorts.startSignals;
const ports = ["--udp-port", String(udp), "--p2p-port", String(p2p), "--api-port", String(api)];
const startArgs = ["--dir", dir, "--devices", "2", "--interval", "1", ...ports];
const spawned: ChildProcess[] = [];
const everySeen = new Set<number>();

afterAll(() => {
  // Whatever a failed test left: the process groups we created.
  for (const c of spawned) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const pid of everySeen) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Every descendant of `pid`, from /proc (parent links), at this moment. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) out.push(child), walk(child);
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z "); // a zombie is gone but unreaped
  } catch {
    return false;
  }
};

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    left = left.filter(alive);
  }
  return left.map((pid) => {
    try {
      return Number.isNaN(pid) ? pid : `${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`;
    } catch {
      return pid;
    }
  }) as unknown as number[];
}

/** Starts a network in its own process group; resolves once it is up, with its output so far. */
async function startNetwork(command: string, args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  let output = "";
  const child = spawn(command, args, { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  spawned.push(child);
  child.stdout!.on("data", (b) => (output += b));
  child.stderr!.on("data", (b) => (output += b));
  const deadline = Date.now() + 120_000;
  while (!output.includes("Ctrl-C to stop")) {
    if (child.exitCode !== null) throw new Error(`start exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`start did not come up in 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // The guardian notes the script's children every 250 ms.
  await new Promise((r) => setTimeout(r, 1_000));
  return { child, output: () => output };
}

/** A second start on the same directory, run to its end. */
function secondStart(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = "";
    const c = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "start.ts"), ...startArgs], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    c.stdout!.on("data", (b) => (output += b));
    c.stderr!.on("data", (b) => (output += b));
    c.once("exit", (code) => resolve({ code, output }));
  });
}

describe("npm start", () => {
  it("leaves no process behind after SIGTERM to npm, and refuses a second start meanwhile", async () => {
    const { child } = await startNetwork("npm", ["start", "--", "--fresh", ...startArgs]);
    const pids = descendants(child.pid!);
    pids.forEach((p) => everySeen.add(p));
    // npm's shell, the script (compiled JavaScript: no tsx), the guardian, 4 gateways (and socat, qemu when installed).
    expect(pids.length).toBeGreaterThanOrEqual(7);
    const lockPid = Number(readFileSync(join(dir, devnetLockFile), "utf8"));
    expect(pids).toContain(lockPid);

    const second = await secondStart();
    expect(second.code).toBe(1);
    expect(second.output).toContain(`npm start: a network is already running in ${dir} (npm start, pid ${lockPid}); stop it first (kill ${lockPid}) or use --dir <another directory>`);
    expect(descendants(child.pid!).filter((p) => !pids.includes(p))).toEqual([]); // it started nothing

    // A gateway started over a running one exits with DATA_DIR_LOCKED, though its API port answers.
    const intruder = GatewayProcess.spawn({
      index: 1,
      dataDir: join(dir, "gateway-1"),
      logPath: join(dir, "intruder.log"),
      genesisPath: join(dir, "net", "genesis.json"),
      keyPath: join(dir, "net", "gateway-1.key.json"),
      udpPort: udp + 1,
      p2pPort: p2p + 1,
      apiPort: api,
      peers: [],
    });
    await expect(intruder.ready(30_000)).rejects.toThrow(/gateway 1 exited during start \(code 1\): .*DATA_DIR_LOCKED/);
    expect(await intruder.status()).toEqual({ index: 1, state: "down", exit: "code 1" });

    process.kill(child.pid!, "SIGTERM"); // npm's pid, as `kill <pid>` would
    expect(await waitGone([child.pid!, ...pids], 40_000)).toEqual([]);
    expect(existsSync(join(dir, devnetLockFile))).toBe(false);
  }, 240_000);

  it("leaves no process behind when the start script is killed with -9, and its lock is then stale", async () => {
    const { child } = await startNetwork(process.execPath, ["--import", "tsx", join(root, "scripts", "start.ts"), ...startArgs]);
    const pids = descendants(child.pid!);
    pids.forEach((p) => everySeen.add(p));
    expect(pids.length).toBeGreaterThanOrEqual(5); // guardian, 4 gateways (+ socat)
    process.kill(child.pid!, "SIGKILL");
    expect(await waitGone(pids, 40_000)).toEqual([]);
    // The lock names a dead process: the next start takes it over.
    expect(existsSync(join(dir, devnetLockFile))).toBe(true);
    lockDevnetDir(dir)();
  }, 240_000);
});
