// Gossiped batches verified off the consensus thread (gateway/consensus/reading-preverify.ts): only
// readings that verify under their enrolled device's key are marked verified; block execution still gives
// a forged one its outcome; and admissions keep arrival order even when an earlier batch verifies slower,
// so an author's nonces stay in sequence; the proposer's wait for admissions under way (settled) ends when
// they have settled, or at its limit, and does not wait for later arrivals.
import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx } from "../../shared/tx.ts";
import { encodeReading, readingDigest } from "../../shared/reading.ts";
import { OrderedAdmission, preverifyReadings } from "../../gateway/consensus/reading-preverify.ts";
import { decodeTxResult, readingOutcome } from "../../gateway/chain/reading-outcome.ts";
import { batchBody, deviceReading, makeFixture, openChain, signed } from "../chain/fixture.ts";

function setup() {
  const f = makeFixture({ gateways: 1, users: 1, devices: 3, label: "preverify" });
  const { chain, mempool } = openChain(f);
  const gateway = f.gateways[0];
  const fee = (n: number) => BigInt(n) * chain.params().readingFee + chain.params().txFee;
  const batch = (nonce: number, readings: Uint8Array[]) =>
    signed(chain.chainId, gateway, nonce, batchBody(gateway, readings.map((bytes) => ({ bytes, receivedAtMs: Date.now() }))), fee(readings.length));
  return { f, chain, mempool, batch };
}

describe("reading pre-verification for gossiped batches", () => {
  it("marks only readings that verify under their enrolled device's key", async () => {
    const { f, chain, batch } = setup();
    const [a, b] = f.devices;
    const good = deviceReading(a, 1);
    const forged = encodeReading(generateKeyPairSync("ed25519").privateKey, b.id, 1, [{ name: "temp", value: 1 }]);
    const stranger = encodeReading(generateKeyPairSync("ed25519").privateKey, new Uint8Array(16).fill(7), 1, [{ name: "temp", value: 1 }]);
    const verified = await preverifyReadings(chain, decodeTx(batch(0, [good, forged, stranger, new Uint8Array([1, 2, 3])])));
    expect(verified.map(toHex)).toEqual([toHex(readingDigest(good))]);
  });

  it("admits in arrival order although an earlier batch takes longer to verify, and a forged reading still gets its outcome", async () => {
    const { f, mempool, chain, batch } = setup();
    const [a, b, c] = f.devices;
    const admission = new OrderedAdmission(chain, mempool);
    const big = batch(0, Array.from({ length: 200 }, (_, i) => deviceReading(a, i)));
    const small = batch(1, [deviceReading(b, 1)]);
    const forged = batch(2, [encodeReading(generateKeyPairSync("ed25519").privateKey, c.id, 1, [{ name: "temp", value: 1 }])]);
    const results = await Promise.all([admission.admit(big), admission.admit(small), admission.admit(forged), admission.admit(new Uint8Array([9, 9]))]);
    expect(results).toEqual([true, true, true, false]);
    expect(mempool.take(10).map((tx) => tx.nonce)).toEqual([0, 1, 2]);
    // Every envelope and attestation verified (gateway/chain/verified-txs.ts), the forged device
    // signature not: block execution checks readings one by one and gives it its outcome.
    const txs = mempool.take(10);
    expect(txs.map((tx) => mempool.verified(tx))).toEqual([true, true, true]);
    const { pending } = chain.build({ timeMs: Date.now() + 1, proposer: f.gateways[0].id, txs });
    expect(decodeTxResult(pending.execution.results[2]).readings).toEqual([readingOutcome.badSignature]);
    expect(decodeTxResult(pending.execution.results[1]).readings).toEqual([readingOutcome.recorded]);
  });

  it("settled: resolves when the admissions under way have settled, at its limit when they take longer, at once when none is", async () => {
    const { f, mempool, chain, batch } = setup();
    const [a, b] = f.devices;
    const admission = new OrderedAdmission(chain, mempool);
    expect(await admission.settled(1000)).toBe(0);

    // 400 readings to verify on the thread pool: long enough that a 1 ms limit ends the wait first.
    const slow = admission.admit(batch(0, Array.from({ length: 400 }, (_, i) => deviceReading(a, i))));
    const capped = await admission.settled(1);
    expect(capped).toBeGreaterThan(0);
    expect(mempool.take(10)).toEqual([]); // the wait ended, the admission had not
    const waited = admission.settled(60_000);
    await slow;
    // The last admission under way settled, so the wait is over, short of its minute.
    expect(await waited).toBeLessThan(60_000);
    expect(mempool.take(10).map((tx) => tx.nonce)).toEqual([0]);
    expect(await admission.settled(1000)).toBe(0);

    // A batch that arrives during the wait is not waited for; the one under way when it began is.
    const first = admission.admit(batch(1, [deviceReading(b, 1)]));
    const wait = admission.settled(60_000);
    const later = admission.admit(batch(2, Array.from({ length: 400 }, (_, i) => deviceReading(b, 100 + i))));
    await wait;
    expect(await Promise.race([first.then(() => "first settled"), new Promise((r) => setTimeout(() => r("still waiting"), 0))])).toBe("first settled");
    expect(mempool.take(10).map((tx) => tx.nonce)).toEqual([0, 1]);
    await later;
  });
});
