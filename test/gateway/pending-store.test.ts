// The pending store's drain interface, as the chain core will use it: takeBatch, markIncluded,
// and per-reading proofs of co-signature from the stored attestation.
import { afterEach, describe, expect, it } from "vitest";
import { attestBatch, readingProof, verifyReadingProof } from "../../shared/attestation.ts";
import { publicKeyObject } from "../../shared/ed25519.ts";
import { readingDigest } from "../../shared/reading.ts";
import { identityFromSeed } from "../../gateway/ingest/gateway-identity.ts";
import { PendingStore, type AcceptedReading } from "../../gateway/ingest/pending-store.ts";
import { tempDir, TestDevice } from "../support/gateway-fixtures.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function accepted(d: TestDevice, n: number): AcceptedReading[] {
  return Array.from({ length: n }, () => {
    const cose = d.reading();
    return { deviceId: d.deviceId, sequence: d.nextSequence - 1, digest: readingDigest(cose), cose, receivedAtMs: Date.now() };
  });
}

describe("PendingStore drain", () => {
  it("hands out the oldest pending readings in order until marked included, across a reopen", () => {
    const dir = tempDir();
    dirs.push(dir);
    const gw = identityFromSeed(new Uint8Array(32).fill(7));
    let store = PendingStore.open(dir.path);
    const d = new TestDevice();
    const first = accepted(d, 3);
    const second = accepted(d, 5);
    const b1 = store.commitBatch(first, attestBatch(gw.privateKey, gw.gatewayId, first), [])!;
    const b2 = store.commitBatch(second, attestBatch(gw.privateKey, gw.gatewayId, second), [])!;
    expect(b2).toBeGreaterThan(b1);
    store.close();
    store = PendingStore.open(dir.path);

    const taken = store.takeBatch(4);
    expect(taken.map((r) => r.sequence)).toEqual([0, 1, 2, 3]);
    expect(store.takeBatch(4).map((r) => r.id)).toEqual(taken.map((r) => r.id)); // a read, not a lease
    store.markIncluded(taken.map((r) => r.id), 10);
    store.markIncluded(taken.map((r) => r.id), 11); // idempotent: the first height stays
    expect(store.takeBatch(100).map((r) => r.sequence)).toEqual([4, 5, 6, 7]);
    expect(store.allReadings().filter((r) => r.includedHeight === 10)).toHaveLength(4);
    expect(store.pendingCount()).toBe(4);
    const refused = store.takeBatch(1)[0];
    store.markRejected([refused.id], "DEVICE_UNKNOWN", "not enrolled on chain");
    expect(store.takeBatch(100).map((r) => r.sequence)).toEqual([5, 6, 7]);
    expect(store.allReadings().find((r) => r.id === refused.id)?.rejected).toBe("DEVICE_UNKNOWN: not enrolled on chain");
    expect(store.pendingCount()).toBe(3);
    // The custody invariant: a reason not intrinsic to the reading cannot drop it; "lost" is counted.
    expect(() => store.markRejected([taken[3].id], "MEMPOOL_AUTHOR_FULL", "a stall")).toThrow(/not a reason intrinsic/);
    expect(store.pendingCount()).toBe(3);
    store.markLost([store.takeBatch(1)[0].id], "READING_SEQUENCE_STALE", "below the window");
    expect([store.pendingCount(), store.lostCount()]).toEqual([2, 1]);

    // Proof of co-signature for one reading, from the stored attestation and leaves alone.
    const r = taken[3]; // the first reading of the second batch
    expect([r.batchId, r.leafIndex]).toEqual([b2, 0]);
    const leaves = store.batchReadings(r.batchId);
    const att = store.attestation(r.batchId)!;
    expect(verifyReadingProof(att, publicKeyObject(gw.publicKey), { digest: r.digest, receivedAtMs: r.receivedAtMs }, r.leafIndex, readingProof(leaves, r.leafIndex))).toBe(true);
    store.close();
  });

  it("refuses a second record of the same (device, sequence) and an attestation that does not cover the batch", () => {
    const dir = tempDir();
    dirs.push(dir);
    const gw = identityFromSeed(new Uint8Array(32).fill(9));
    const store = PendingStore.open(dir.path);
    const d = new TestDevice();
    const rs = accepted(d, 2);
    store.commitBatch(rs, attestBatch(gw.privateKey, gw.gatewayId, rs), []);
    expect(() => store.commitBatch([rs[0]], attestBatch(gw.privateKey, gw.gatewayId, [rs[0]]), [])).toThrow(/UNIQUE/);
    const more = accepted(d, 2);
    expect(() => store.commitBatch(more, attestBatch(gw.privateKey, gw.gatewayId, more.slice(0, 1)), [])).toThrow(/does not cover/);
    expect(store.counts()).toEqual({ readings: 2, pending: 2, batches: 1 });
    store.close();
  });
});
