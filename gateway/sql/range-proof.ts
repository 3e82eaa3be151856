// Completeness of a device's sequence range [from, to]: the consecutive leaves [first, last] of
// the device's RFC 6962 reading log (gateway/chain/device-log.ts) with the hashes of the subtrees
// outside them, from which the client recomputes the log's root (the device record's frontier
// gives the root it must equal, and the record is proven against a certified state root).
//
// The log is in arrival order, not sequence order, so why do leaves [first, last] hold every
// sequence in [from, to]? Because of the chain's sequence window (sequence-window.ts): a reading
// is recorded only if its sequence is above (highest so far − W), W = sequenceWindowBits = 1024,
// so for leaves p before r, seq(r) > seq(p) − W. Hence:
//   every leaf before `first` has seq < seq(first) + W ≤ from   when seq(first) ≤ from − W (or first = 0);
//   every leaf after `last` has seq > seq(last) − W ≥ to        when seq(last) ≥ to + W (or last = size − 1).
// The proof carries those two witness leaves at its ends; in-order devices cost about W extra
// leaves on each side of the range.
//
// The hashes are the MTH (RFC 6962 §2.1) of each maximal subtree of the recursion that lies
// wholly outside [first, last], in the recursion's left-to-right order.
import { leafHash, nodeHash } from "../../shared/merkle.ts";
import { largestPowerOfTwoBelow, rangeHash, readingLeafData, type LogNodeReader } from "../chain/device-log.ts";
import type { ReadingRecord } from "../chain/records.ts";
import { sequenceWindowBits } from "../chain/sequence-window.ts";

/** W of the argument above. */
export const rangeWitnessGap = sequenceWindowBits;

/** Hashes of the subtrees outside leaves [first, last] of a log of `size` leaves, in recursion order. */
export function rangeSiblings(reader: LogNodeReader, deviceId: Uint8Array, size: number, first: number, last: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (lo: number, hi: number): void => {
    if (hi <= first || lo > last) {
      out.push(rangeHash(reader, deviceId, lo, hi));
      return;
    }
    if (hi - lo === 1) return;
    const k = largestPowerOfTwoBelow(hi - lo);
    walk(lo, lo + k);
    walk(lo + k, hi);
  };
  if (size > 0) walk(0, size);
  return out;
}

/** The log root from leaves [first, first + leaves.length) and the siblings; undefined when they do not fit. */
export function rangeRoot(size: number, first: number, leaves: ReadingRecord[], siblings: Uint8Array[]): Uint8Array | undefined {
  const last = first + leaves.length - 1;
  if (leaves.length === 0 || first < 0 || last >= size) return undefined;
  let s = 0;
  const walk = (lo: number, hi: number): Uint8Array | undefined => {
    if (hi <= first || lo > last) return siblings[s++];
    if (hi - lo === 1) return leafHash(readingLeafData(leaves[lo - first]));
    const k = largestPowerOfTwoBelow(hi - lo);
    const left = walk(lo, lo + k);
    const right = walk(lo + k, hi);
    return left && right ? nodeHash(left, right) : undefined;
  };
  const root = walk(0, size);
  return s === siblings.length ? root : undefined;
}

/** Whether leaves [first, last] of a log of `size` must hold every sequence in [from, to] (the argument above). */
export function rangeWitnessed(size: number, first: number, leaves: ReadingRecord[], from: number, to: number): { left: boolean; right: boolean } {
  const last = first + leaves.length - 1;
  return {
    left: first === 0 || leaves[0].sequence <= from - rangeWitnessGap,
    right: last === size - 1 || leaves[leaves.length - 1].sequence >= to + rangeWitnessGap,
  };
}
