// Gateways as child processes (node-process.ts) for the real-process tests: spawn, kill -9,
// restart on the same data directory and ports, send transactions, and follow what each one
// finalized through its stdout events.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./node-process.ts", import.meta.url));

export interface NodeArgs {
  dataDir: string;
  genesisPath: string;
  keyPath: string;
  p2pPort: number;
  peers: number[];
  udpPort?: number;
  trustedOwner?: string;
  logLevel?: string;
  consensus?: Record<string, number>;
  /** Ingest options over the defaults (gateway/ingest/options.ts), e.g. bench:net's per-device rate. */
  ingest?: Record<string, number>;
  /** Each finalized event also lists the readings the block carried ([deviceHex, sequence]...), for bench:net. */
  reportReadings?: boolean;
}

export interface Finalized {
  height: number;
  hash: string;
  stateRoot: string;
}

export class NodeProcess {
  child: ChildProcess | undefined;
  /** Every block this node reported, across restarts (height → block). */
  readonly finalized = new Map<number, Finalized>();
  /** Called with every event as it arrives (bench:net times finality here). */
  onRawEvent: ((e: Record<string, unknown>) => void) | undefined;
  private waiters: { test: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  stderr = "";
  restarts = 0;
  /** Heights this node took from block sync rather than deciding them in consensus. */
  synced = 0;
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly args: NodeArgs) {}

  get tip(): number {
    return Math.max(0, ...this.finalized.keys());
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const child = spawn(process.execPath, [...(process.env.HARNESS_NODE_ARGS?.split(" ") ?? []), "--import", "tsx", script, JSON.stringify(this.args)], { stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.exited = new Promise((r) => child.once("exit", () => r()));
    child.once("exit", () => {
      if (this.child === child) this.child = undefined;
    });
    let partial = "";
    // The child's stderr, its tail only (HARNESS_STDERR_BYTES).
    const keep = (text: string) => (this.stderr = (this.stderr + text).slice(-Number(process.env.HARNESS_STDERR_BYTES ?? 20_000)));
    child.stderr!.on("data", (c: Buffer) => keep(c.toString()));
    child.stdout!.on("data", (chunk: Buffer) => {
      partial += chunk.toString();
      const lines = partial.split("\n");
      partial = lines.pop()!;
      // V8's tracing flags (HARNESS_NODE_ARGS="--trace-deopt" and the like) print to stdout too:
      // their lines are kept with stderr's tail rather than read as events.
      for (const line of lines) {
        if (line.startsWith("{")) this.onEvent(JSON.parse(line) as Record<string, unknown>);
        else keep(line + "\n");
      }
    });
    await this.waitFor((e) => e.event === "ready", timeoutMs, `node on p2p port ${this.args.p2pPort} did not start`);
  }

  private onEvent(e: Record<string, unknown>): void {
    this.onRawEvent?.(e);
    if (e.event === "synced") this.synced++;
    if (e.event === "finalized") this.finalized.set(e.height as number, { height: e.height as number, hash: e.hash as string, stateRoot: e.stateRoot as string });
    const ready = this.waiters.filter((w) => w.test(e));
    this.waiters = this.waiters.filter((w) => !w.test(e));
    for (const w of ready) w.resolve(e);
  }

  waitFor(test: (e: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
      this.waiters.push({ test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  /** Waits until this node has finalized `height`. */
  async reach(height: number, timeoutMs: number): Promise<void> {
    if (this.tip >= height) return;
    await this.waitFor((e) => e.event === "finalized" && (e.height as number) >= height, timeoutMs, `node ${this.args.p2pPort} did not reach height ${height} (at ${this.tip})`);
  }

  async sendTx(bytes: Uint8Array): Promise<Record<string, unknown>> {
    const answer = this.waitFor((e) => e.event === "tx", 10_000, "no answer to a transaction");
    this.child!.stdin!.write(JSON.stringify({ cmd: "tx", hex: Buffer.from(bytes).toString("hex") }) + "\n");
    return answer;
  }

  async status(): Promise<Record<string, unknown>> {
    const answer = this.waitFor((e) => e.event === "status", 10_000, "no status");
    this.child!.stdin!.write(JSON.stringify({ cmd: "status" }) + "\n");
    return answer;
  }

  async kill9(): Promise<void> {
    if (!this.child) return;
    this.child.kill("SIGKILL");
    await this.exited;
    this.child = undefined;
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    this.child.kill("SIGTERM");
    await this.exited;
  }
}

/** Every node's view agrees at every height both finalized: hash and state root. */
export function disagreements(nodes: NodeProcess[]): string[] {
  const out: string[] = [];
  const byHeight = new Map<number, Finalized & { node: number }>();
  nodes.forEach((n, i) => {
    for (const f of n.finalized.values()) {
      const first = byHeight.get(f.height);
      if (!first) byHeight.set(f.height, { ...f, node: i });
      else if (first.hash !== f.hash || first.stateRoot !== f.stateRoot) out.push(`height ${f.height}: node ${first.node} has ${first.hash.slice(0, 12)}/${first.stateRoot.slice(0, 12)}, node ${i} has ${f.hash.slice(0, 12)}/${f.stateRoot.slice(0, 12)}`);
    }
  });
  return out;
}
