// Worker for bench/chain.ts: signs device readings (the devices' work, not the chain's) on the
// other core, so the bench's wall time goes to the chain. Devices derive from fixed labels, and
// this worker owns their sequence counters.
import { createHash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { encodeReading } from "../shared/reading.ts";
import { identityFromSeed } from "../gateway/chain/keyfile.ts";

const devicesN: number = workerData.devices;
const devices = Array.from({ length: devicesN }, (_, i) => identityFromSeed(new Uint8Array(createHash("sha256").update(`bench/device/${i}`).digest())));
// Past what a continued store (BENCH_DIR) recorded already.
const nextSeq = Uint32Array.from((workerData.firstSequences as number[] | undefined) ?? new Array<number>(devicesN).fill(0));
let cursor = 0;

parentPort!.on("message", ({ count, receivedAtMs }: { count: number; receivedAtMs: number }) => {
  const out = Array.from({ length: count }, () => {
    const i = cursor++ % devicesN;
    return { bytes: encodeReading(devices[i].key, devices[i].id, nextSeq[i]++, [{ name: "temp", unit: "Cel", value: 20 + (i % 50) / 4 }]), receivedAtMs };
  });
  parentPort!.postMessage(out);
});
