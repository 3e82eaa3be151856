// The sync protocol's "pruned" answer (gateway/p2p/envelope.ts kind 6): round-trips for any height,
// and random or mutated frames decode to an envelope or a typed P2pError, nothing else.
import fc from "fast-check";
import { expect, test } from "vitest";
import { ConsensusMessageError } from "../../shared/consensus-messages.ts";
import { decodeEnvelope, encodeEnvelope } from "../../gateway/p2p/envelope.ts";
import { P2pError } from "../../gateway/p2p/errors.ts";

const typed = (e: unknown) => e instanceof P2pError || e instanceof ConsensusMessageError;

test("syncPruned round-trips for any height", () => {
  fc.assert(
    fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (height) => {
      const bytes = encodeEnvelope({ kind: "syncPruned", height });
      expect(decodeEnvelope(bytes, 1024)).toEqual({ kind: "syncPruned", height });
    }),
  );
});

test("mutated and random syncPruned frames: an envelope or a typed error", () => {
  fc.assert(
    fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat(), fc.integer({ min: 1, max: 255 }), (height, at, x) => {
      const b = encodeEnvelope({ kind: "syncPruned", height });
      b[at % b.length] ^= x;
      try {
        const e = decodeEnvelope(b, 1024);
        expect(encodeEnvelope(decodeEnvelope(encodeEnvelope(e), 1024))).toEqual(encodeEnvelope(e));
      } catch (e) {
        expect(typed(e)).toBe(true);
      }
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 16 }), (tail) => {
      try {
        decodeEnvelope(Uint8Array.of(0x82, 0x06, ...tail), 1024);
      } catch (e) {
        expect(typed(e)).toBe(true);
      }
    }),
    { numRuns: 5000 },
  );
});
