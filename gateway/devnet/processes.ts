// Gateway child processes for a local network: each is `mote gateway start` with its own data
// directory, ports and log file, stopped with SIGTERM (graceful) and SIGKILL after a grace period.
// Each watches its parent (exit-with-parent.mjs, preloaded) and stops when the parent is gone, so
// a killed `npm start` leaves no gateway behind.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { MoteError } from "../../shared/errors.ts";
import { nodeArgsFor } from "../../shared/package-paths.ts";

const exitWithParentUrl = new URL("./exit-with-parent.mjs", import.meta.url).href;

/** A gateway as npm start's progress line shows it. */
export interface GatewayStatus {
  index: number;
  /** "down": the process exited; "unreachable": running, its API does not answer. */
  state: "up" | "down" | "unreachable";
  exit?: string;
  height?: number;
  pendingReadings?: number | null;
  reasons?: string[];
  /** Ingest refusals by code since the gateway started (its /metrics). */
  refused?: Record<string, number>;
}

export interface GatewayProcessSpec {
  index: number;
  dataDir: string;
  logPath: string;
  genesisPath: string;
  keyPath: string;
  udpPort: number;
  p2pPort: number;
  apiPort: number;
  peers: number[];
  /** The other gateways' API ports: where this one fetches anchored payloads it lacks (docs/payloads.md). */
  payloadPeerApiPorts?: number[];
  /** Serial ports (SLIP-framed CoAP) this gateway opens. */
  serialPaths?: string[];
}

export class GatewayProcess {
  private exited: Promise<number | null>;
  /** How the process ended ("code 1", "SIGKILL"), once it has. */
  exit: string | undefined;
  /** The gateway itself said its API listens (`mote gateway start` prints "gateway API <url>"). */
  private listening = false;
  /** The end of its stderr: the CLI's last words ("mote: … [CODE]") if it exits. */
  private said = "";

  constructor(
    readonly spec: GatewayProcessSpec,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      // "close": after the exit and the last of its output (the reason it exited is in it).
      child.once("close", (code, signal) => {
        this.exit = signal ? signal : `code ${code}`;
        resolve(code);
      }),
    );
    child.stderr?.on("data", (b: Buffer) => {
      this.said = (this.said + b.toString()).slice(-4096);
      if (this.said.includes("gateway API ")) this.listening = true;
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.spec.apiPort}`;
  }

  static spawn(spec: GatewayProcessSpec): GatewayProcess {
    // The CLI in this process's own form: compiled under npm start, the sources under tests.
    const args = [
      ...nodeArgsFor("gateway/cli/main.ts"), "gateway", "start",
      "--data-dir", spec.dataDir,
      "--genesis", spec.genesisPath,
      "--key", spec.keyPath,
      "--consensus", "pbft",
      "--udp-host", "127.0.0.1", "--udp-port", String(spec.udpPort),
      "--p2p-host", "127.0.0.1", "--p2p-port", String(spec.p2pPort),
      ...spec.peers.flatMap((p) => ["--peer", `127.0.0.1:${p}`]),
      "--api-host", "127.0.0.1", "--api-port", String(spec.apiPort),
      ...(spec.payloadPeerApiPorts ?? []).flatMap((p) => ["--payload-peer", `http://127.0.0.1:${p}`]),
      ...(spec.serialPaths ?? []).flatMap((path) => ["--serial", path]),
      "--log-level", "info",
    ];
    const log = createWriteStream(spec.logPath, { flags: "a" });
    const child = spawn(process.execPath, ["--import", exitWithParentUrl, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MOTE_PARENT_PID: String(process.pid) } });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    return new GatewayProcess(spec, child);
  }

  /**
   * Resolves when this process said its API listens and the API answers: a port still answered by
   * another process (a gateway of a network left running) does not count. Rejects if the process
   * exits first (with the reason from its log, e.g. DATA_DIR_LOCKED), time runs out, or `signal` aborts.
   */
  async ready(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      if (!this.running) {
        const why = exitReason(this.said);
        // Data written by an older release (block or storage format changed): a devnet can start over.
        const hint = /\[(STORE_SCHEMA|GENESIS_MISMATCH)\]/.test(why) ? "; this network's data is from another release: start over with `npm start -- --fresh`" : "";
        throw new MoteError("GATEWAY_EXITED", `gateway ${this.spec.index} exited during start (${this.exit})${why}${hint}; see ${this.spec.logPath}`);
      }
      try {
        const res = this.listening && (await fetch(`${this.apiUrl}/v1/head`, { signal: AbortSignal.timeout(1_000) }));
        if (res && res.ok && this.running) return;
      } catch {
        // not answering yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new MoteError("GATEWAY_START_TIMEOUT", `gateway ${this.spec.index} did not serve its API within ${timeoutMs} ms; see ${this.spec.logPath}`);
  }

  /** Up or down, its head and backlog, and its ingest refusals; never throws. */
  async status(): Promise<GatewayStatus> {
    const index = this.spec.index;
    if (!this.running) return { index, state: "down", exit: this.exit };
    try {
      const get = (path: string) => fetch(`${this.apiUrl}${path}`, { signal: AbortSignal.timeout(2_000) });
      const [health, metrics] = await Promise.all([get("/v1/health").then((r) => r.json()), get("/metrics").then((r) => r.text())]);
      const h = health as { height: number; pendingReadings: number | null; reasons: string[] };
      return { index, state: "up", height: h.height, pendingReadings: h.pendingReadings, reasons: h.reasons, refused: refusalsOf(metrics) };
    } catch {
      return { index, state: this.running ? "unreachable" : "down", exit: this.exit };
    }
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** `moteledger_readings_rejected_total{code="X"} n` lines of a Prometheus text page, by code. */
export function refusalsOf(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^moteledger_readings_rejected_total\{code="([A-Z_]+)"\} (\d+)/gm)) if (Number(m[2]) > 0) out[m[1]] = Number(m[2]);
  return out;
}

/**
 * Why a gateway exited, from the tail of its stderr: the CLI's last error line ("mote: … [CODE]"),
 * else its last lines (an error that escaped the CLI prints a stack and no such line, and the
 * devnet's data directory, log included, may be gone by the time someone reads the message).
 */
export function exitReason(stderrTail: string): string {
  const lines = stderrTail.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const cli = lines.filter((l) => l.startsWith("mote: "));
  if (cli.length) return `: ${cli[cli.length - 1].slice(6)}`;
  return lines.length ? `: ${lines.slice(-6).join(" | ")}` : "";
}
