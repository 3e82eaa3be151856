// The process's set of verified readings (shared/verified-readings.ts): a hit needs the same digest
// under the same key, and the set never holds more than its bound, whatever is added; verifyOnce runs a
// reading's verification once while it is under way and never again once it succeeded.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { VerifiedReadings } from "../../shared/verified-readings.ts";

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe("verified readings", () => {
  it("hits only the (digest, key) pair that was added", () => {
    fc.assert(
      fc.property(bytes32, bytes32, bytes32, (digest, key, other) => {
        const set = new VerifiedReadings(16);
        set.add(digest, key);
        expect(set.has(digest, key)).toBe(true);
        expect(set.has(digest, other)).toBe(Buffer.compare(key, other) === 0);
        expect(set.has(other, key)).toBe(Buffer.compare(digest, other) === 0);
        // A view into a larger buffer keys like its own bytes.
        const padded = new Uint8Array(40);
        padded.set(digest, 8);
        expect(set.has(padded.subarray(8), key)).toBe(true);
      }),
    );
  });

  it("keeps the key each digest verified under last, and a copy of it", () => {
    const set = new VerifiedReadings(16);
    const digest = new Uint8Array(32).fill(7);
    const a = new Uint8Array(32).fill(8);
    const b = new Uint8Array(32).fill(9);
    set.add(digest, a);
    a.fill(9); // the caller reuses its array: the entry keeps the bytes that verified
    expect(set.has(digest, b)).toBe(false);
    expect(set.has(digest, new Uint8Array(32).fill(8))).toBe(true);
    set.add(digest, b);
    expect(set.has(digest, b)).toBe(true);
    expect(set.has(digest, new Uint8Array(32).fill(8))).toBe(false); // asked again, it would be verified again
    expect(set.has(digest, b.subarray(0, 31))).toBe(false);
  });

  it("holds at most entriesMax, the newest always among them", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.array(bytes32, { maxLength: 300 }), (max, digests) => {
        const set = new VerifiedReadings(max);
        const key = new Uint8Array(32);
        for (const d of digests) {
          set.add(d, key);
          expect(set.size).toBeLessThanOrEqual(max);
          expect(set.has(d, key)).toBe(true);
        }
      }),
    );
  });

  it("verifyOnce: concurrent checks of one reading share one verification; a success is remembered, a failure is not", async () => {
    const set = new VerifiedReadings(16);
    const digest = new Uint8Array(32).fill(1);
    const key = new Uint8Array(32).fill(2);
    let runs = 0;
    let release!: (ok: boolean) => void;
    const verify = () => {
      runs++;
      return new Promise<boolean>((resolve) => (release = resolve));
    };
    const first = set.verifyOnce(digest, key, verify);
    const second = set.verifyOnce(digest, key, verify);
    expect(runs).toBe(1);
    expect(set.has(digest, key)).toBe(false); // not before it verified
    release(false);
    expect(await Promise.all([first, second])).toEqual([false, false]);
    expect(set.has(digest, key)).toBe(false);
    // A failure is not remembered: the next check verifies again (and succeeds this time).
    const third = set.verifyOnce(digest, key, verify);
    expect(runs).toBe(2);
    release(true);
    expect(await third).toBe(true);
    expect(set.has(digest, key)).toBe(true);
    expect(await set.verifyOnce(digest, key, verify)).toBe(true);
    expect(runs).toBe(2);
    expect(set.stats).toEqual({ run: 2, joined: 1 });
    // Another key for the same digest is another verification.
    void set.verifyOnce(digest, new Uint8Array(32).fill(3), verify);
    expect(runs).toBe(3);
  });

  it("verifyOnce: a verification that throws leaves nothing behind", async () => {
    const set = new VerifiedReadings(16);
    const digest = new Uint8Array(32).fill(4);
    const key = new Uint8Array(32).fill(5);
    await expect(set.verifyOnce(digest, key, () => Promise.reject(new Error("pool gone")))).rejects.toThrow("pool gone");
    expect(await set.verifyOnce(digest, key, () => Promise.resolve(true))).toBe(true);
    expect(set.stats).toEqual({ run: 2, joined: 0 });
  });
});
