// bench:chain-cpu's and bench:chain-pages's workload: 1,000 devices on the one-gateway bench chain
// (bench-genesis.ts), blocks of 4 batches of 1,024 readings, each device in turn, its sequence
// following what the chain already holds (so a store continued through BENCH_DIR takes them).
import { attestBatch } from "../shared/attestation.ts";
import { encodeReading, readingDigest } from "../shared/reading.ts";
import { decodeTx, signTx, txVersion, type DecodedTx } from "../shared/tx.ts";
import type { Chain } from "../gateway/chain/chain.ts";
import type { Identity } from "../gateway/chain/keyfile.ts";
import { benchGenesis, benchIdentity } from "./bench-genesis.ts";

export const devicesN = 1000;
export const batchReadings = 1024;
export const batchesPerBlock = 4;
export const blockReadings = batchReadings * batchesPerBlock;

export const gateway: Identity = benchIdentity("bench/gateway");
export const devices: Identity[] = Array.from({ length: devicesN }, (_, i) => benchIdentity(`bench/device/${i}`));
export const genesis = benchGenesis({ chainId: "mote-bench", gateway, owner: benchIdentity("bench/owner"), devices });

/** Gives the next block's batches (readings received at `receivedAtMs`) for `chain`, from where it stands. */
export function readingBlocks(chain: Chain): (receivedAtMs: number) => DecodedTx[] {
  const state = chain.state();
  let nonce = state.account(gateway.id).nonce;
  const nextSeq = devices.map((d) => (state.device(d.id)?.readings ? state.device(d.id)!.lastSequence + 1 : 0));
  let cursor = 0;
  return (receivedAtMs) =>
    Array.from({ length: batchesPerBlock }, () => {
      const readings = Array.from({ length: batchReadings }, () => {
        const i = cursor++ % devicesN;
        return { bytes: encodeReading(devices[i].key, devices[i].id, nextSeq[i]++, [{ name: "temp", unit: "Cel", value: 20 + (i % 50) / 4 }]), receivedAtMs };
      });
      const attestation = attestBatch(gateway.key, gateway.id, readings.map((r) => ({ digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs })));
      return decodeTx(signTx(gateway.key, genesis.chainId, { version: txVersion, author: gateway.publicKey, nonce: nonce++, fee: 1n, body: { kind: "readingBatch", attestation, readings } }));
    });
}
