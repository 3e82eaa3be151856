// The process's set of verified readings (shared/verified-readings.ts): a hit needs the same digest
// under the same key, and the set never holds more than its bound, whatever is added.
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
});
