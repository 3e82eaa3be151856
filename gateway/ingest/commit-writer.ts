// Where group commits are written: in a worker thread (the gateway) so the fsync overlaps the next
// batch's verification, or inline (tools, simple tests). Both write the same PendingStore file.
import { Worker } from "node:worker_threads";
import type { BatchAttestation } from "../../shared/attestation.ts";
import type { CommitReply, CommitRequest } from "./commit-worker.ts";
import type { AcceptedReading, MisbehaviourDelta, PendingStore } from "./pending-store.ts";

export interface CommitWriter {
  /** Resolves with the batch id once the transaction is durable. */
  commit(readings: AcceptedReading[], attestation: BatchAttestation | undefined, counters: MisbehaviourDelta[]): Promise<number | undefined>;
  close(): Promise<void>;
}

export class InlineCommitWriter implements CommitWriter {
  constructor(private readonly store: PendingStore) {}

  async commit(readings: AcceptedReading[], attestation: BatchAttestation | undefined, counters: MisbehaviourDelta[]): Promise<number | undefined> {
    return this.store.commitBatch(readings, attestation, counters);
  }

  async close(): Promise<void> {}
}

/**
 * A worker's code is loaded by plain Node: when the gateway runs from TypeScript (tsx), the worker
 * registers tsx's loader first, then imports its module.
 */
function bootstrap(moduleUrl: string): string {
  if (!moduleUrl.endsWith(".ts")) return `import(${JSON.stringify(moduleUrl)});`;
  // import.meta.resolve follows tsx's "import" export; where a test runner hides it, the bare name
  // resolves from the working directory.
  const tsx = typeof import.meta.resolve === "function" ? import.meta.resolve("tsx/esm/api") : "tsx/esm/api";
  return `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); });`;
}

export class WorkerCommitWriter implements CommitWriter {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: number | undefined) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: CommitReply) => {
      const w = this.waiting.get(reply.id);
      if (!w) return;
      this.waiting.delete(reply.id);
      if ("error" in reply) w.reject(new Error(reply.error));
      else w.resolve(reply.batchId);
    });
    const fail = (e: Error) => {
      this.failure = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`commit worker exited with code ${code}`)));
  }

  static async start(dataDir: string): Promise<WorkerCommitWriter> {
    const url = new URL(`./commit-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url).href;
    const worker = new Worker(bootstrap(url), { eval: true, workerData: { dataDir } });
    await new Promise<void>((resolve, reject) => {
      worker.once("error", reject);
      worker.once("message", (m) => (m === "ready" ? resolve() : reject(new Error(`commit worker said ${String(m)}`))));
    });
    return new WorkerCommitWriter(worker);
  }

  commit(readings: AcceptedReading[], attestation: BatchAttestation | undefined, counters: MisbehaviourDelta[]): Promise<number | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, readings, attestation, counters } satisfies CommitRequest);
    });
  }

  async close(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise<void>((r) => this.worker.once("exit", () => r()));
    this.worker.postMessage("close");
    await exited;
  }
}
