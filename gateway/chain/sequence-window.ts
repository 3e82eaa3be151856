// Which sequence numbers of a device the chain has recorded: the highest one and a bitmap of the
// `sequenceWindowBits` below it, kept in the device's state record (records.ts), so "sequence s is
// not on chain" is provable against the state root like the rest of the record.
//
// Why a window and not "strictly above the last": readings reach the chain out of order (a device
// roams between gateways, a gateway restarts with a backlog, batches land in any order), and each
// must still land exactly once. The ingest side keeps the same shape of window per gateway
// (gateway/ingest/replay-window.ts).
//
//   bit i of `window` (byte i >> 3, bit i & 7) is set  ⇔  sequence (last - i) is recorded.
//
// A sequence more than `sequenceWindowBits` below the highest is "stale": the chain cannot tell
// whether it was recorded, so it refuses it. Readings are kept pending by their gateway until they
// land, so this only happens to a reading held back while its device sent 1,024 newer ones.
import { invariantFailed } from "./errors.ts";

export const sequenceWindowBits = 1024;
export const sequenceWindowBytes = sequenceWindowBits / 8;

export interface SequenceWindow {
  /** Highest recorded sequence; -1 before the first reading. */
  last: number;
  window: Uint8Array;
}

export type SequenceVerdict = "new" | "recorded" | "stale";

export function emptyWindow(): Uint8Array {
  return new Uint8Array(sequenceWindowBytes);
}

export function windowVerdict(w: SequenceWindow, sequence: number): SequenceVerdict {
  if (sequence > w.last) return "new";
  const i = w.last - sequence;
  if (i >= sequenceWindowBits) return "stale";
  return (w.window[i >> 3] >> (i & 7)) & 1 ? "recorded" : "new";
}

/** Records `sequence` (which must be "new") in place. */
export function windowRecord(w: SequenceWindow, sequence: number): void {
  if (windowVerdict(w, sequence) !== "new") invariantFailed(`sequence ${sequence} is not new in the window ending at ${w.last}`);
  if (w.window.length !== sequenceWindowBytes) invariantFailed(`sequence window of ${w.window.length} bytes`);
  if (sequence > w.last) {
    shiftUp(w.window, w.last < 0 ? sequenceWindowBits : sequence - w.last);
    w.last = sequence;
  }
  const i = w.last - sequence;
  w.window[i >> 3] |= 1 << (i & 7);
}

/** Moves every bit `by` places towards older sequences; bits past the end fall off. */
function shiftUp(window: Uint8Array, by: number): void {
  if (by >= sequenceWindowBits) {
    window.fill(0);
    return;
  }
  const bytes = by >> 3;
  const bits = by & 7;
  for (let k = window.length - 1; k >= 0; k--) {
    const src = k - bytes;
    const hi = src >= 0 ? window[src] : 0;
    const lo = src - 1 >= 0 ? window[src - 1] : 0;
    window[k] = bits === 0 ? hi : ((hi << bits) | (lo >> (8 - bits))) & 0xff;
  }
}
