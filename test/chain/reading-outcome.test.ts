// Transaction results (gateway/chain/reading-outcome.ts): the encoding round-trips, the decoder
// refuses anything else with a typed error (random and mutated bytes), and the results root is
// the RFC 6962 root over the encoded results.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CborError } from "../../shared/errors.ts";
import { leafHash, merkleRoot } from "../../shared/merkle.ts";
import { decodeBlockResults, decodeTxResult, encodeBlockResults, encodeTxResult, resultsRootOf, type ReadingOutcome, type TxResult } from "../../gateway/chain/reading-outcome.ts";

const result = fc.record({
  failure: fc.option(fc.constantFrom("VALIDATOR_EVIDENCE_DUPLICATE", "VALIDATOR_EVIDENCE_NOT_VALIDATOR"), { nil: null }),
  readings: fc.array(fc.integer({ min: 0, max: 8 }).map((o) => o as ReadingOutcome), { maxLength: 64 }),
}) as fc.Arbitrary<TxResult>;

const typed = (e: unknown) => e instanceof TypeError || e instanceof CborError;

describe("transaction results", () => {
  it("round-trip, one block's list too, under an RFC 6962 root", () => {
    fc.assert(
      fc.property(fc.array(result, { maxLength: 20 }), (results) => {
        const encoded = results.map(encodeTxResult);
        expect(encoded.map(decodeTxResult)).toEqual(results);
        expect(decodeBlockResults(encodeBlockResults(encoded))).toEqual(results);
        expect(resultsRootOf(encoded)).toEqual(merkleRoot(encoded.map(leafHash)));
      }),
    );
  });

  it("refuse random and mutated bytes with a typed error, never anything else", () => {
    const valid = encodeTxResult({ failure: null, readings: [0, 1, 2, 8] });
    const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = valid.slice();
      b[i] ^= x;
      return b;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), mutated), (bytes) => {
        for (const decodeIt of [decodeTxResult, decodeBlockResults]) {
          try {
            decodeIt(bytes);
          } catch (e) {
            expect(typed(e), String(e)).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
