// The pending store's writer thread. A commit with synchronous=FULL waits for the disk (an fsync,
// milliseconds); here it waits off the event loop, so the main thread keeps decoding and verifying
// the next readings meanwhile, and they form the next group commit.
import { parentPort, workerData } from "node:worker_threads";
import type { BatchAttestation } from "../../shared/attestation.ts";
import { PendingStore, type AcceptedReading, type MisbehaviourDelta } from "./pending-store.ts";

export interface CommitRequest {
  id: number;
  readings: AcceptedReading[];
  attestation: BatchAttestation | undefined;
  counters: MisbehaviourDelta[];
}

export type CommitReply = { id: number; batchId: number | undefined } | { id: number; error: string };

const store = PendingStore.open((workerData as { dataDir: string }).dataDir);
const port = parentPort!;
port.on("message", (req: CommitRequest | "close") => {
  if (req === "close") {
    store.close();
    port.close();
    return;
  }
  try {
    port.postMessage({ id: req.id, batchId: store.commitBatch(req.readings, req.attestation, req.counters) } satisfies CommitReply);
  } catch (e) {
    port.postMessage({ id: req.id, error: (e as Error).message } satisfies CommitReply);
  }
});
port.postMessage("ready");
