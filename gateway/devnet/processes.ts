// Gateway child processes for a local network: each is `mote gateway start` with its own data
// directory, ports and log file, stopped with SIGTERM (graceful) and SIGKILL after a grace period.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { fileURLToPath } from "node:url";
import { MoteError } from "../../shared/errors.ts";

export const moteBin = fileURLToPath(new URL("../../bin/mote.js", import.meta.url));

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
  serialPath?: string;
}

export class GatewayProcess {
  private exited: Promise<number | null>;

  constructor(
    readonly spec: GatewayProcessSpec,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.spec.apiPort}`;
  }

  static spawn(spec: GatewayProcessSpec): GatewayProcess {
    const args = [
      moteBin, "gateway", "start",
      "--data-dir", spec.dataDir,
      "--genesis", spec.genesisPath,
      "--key", spec.keyPath,
      "--consensus", "pbft",
      "--udp-host", "127.0.0.1", "--udp-port", String(spec.udpPort),
      "--p2p-host", "127.0.0.1", "--p2p-port", String(spec.p2pPort),
      ...spec.peers.flatMap((p) => ["--peer", `127.0.0.1:${p}`]),
      "--api-host", "127.0.0.1", "--api-port", String(spec.apiPort),
      ...(spec.serialPath ? ["--serial", spec.serialPath] : []),
      "--log-level", "info",
    ];
    const log = createWriteStream(spec.logPath, { flags: "a" });
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    return new GatewayProcess(spec, child);
  }

  /** Resolves when the gateway's API answers; rejects if the process exits first or time runs out. */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new MoteError("GATEWAY_EXITED", `gateway ${this.spec.index} exited during start; see ${this.spec.logPath}`);
      try {
        const res = await fetch(`${this.apiUrl}/v1/head`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new MoteError("GATEWAY_START_TIMEOUT", `gateway ${this.spec.index} did not serve its API within ${timeoutMs} ms; see ${this.spec.logPath}`);
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
