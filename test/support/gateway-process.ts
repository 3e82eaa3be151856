// A gateway as a child process, started the way an operator starts it (`mote gateway start`), so
// tests can kill -9 it and start it again on the same data directory and port.
import { spawn, type ChildProcess } from "node:child_process";
// Tests run the sources, and so do the gateways they start (shared/package-paths.ts: no stale dist/).
import { nodeArgsFor } from "../../shared/package-paths.ts";

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

export function startGatewayProcess(args: string[], timeoutMs = 30_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...nodeArgsFor("gateway/cli/main.ts"), "gateway", "start", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  let partial = "";
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gateway did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening: ${stderr}`));
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      partial += chunk.toString();
      const parts = partial.split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg !== "gateway listening") continue;
        clearTimeout(timer);
        resolve({
          child,
          lines,
          port: (entry.udp as { port: number }).port,
          kill9: async () => {
            child.kill("SIGKILL");
            await exited;
          },
          stop: async () => {
            child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
  });
}
