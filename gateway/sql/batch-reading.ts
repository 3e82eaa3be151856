// One reading's COSE_Sign1 bytes, read out of a stored batch transaction without decoding the batch.
// A batch holds up to 4,096 readings from many devices, so a device's 100 readings may sit in 100
// batches: decoding each whole (decodeTx, about 5 ms for 1,024 readings) made a verified answer cost
// half a second. Walking the CBOR item heads (RFC 8949 §3) to the one entry costs microseconds.
//
//   tx    = [bstr unsigned, bstr signature]                        (shared/tx.ts)
//   unsigned = [version, type, author, nonce, fee, body]
//   body  = [bstr attestation, [[bstr COSE_Sign1, receivedAtMs]...]] (shared/tx-body.ts, readingBatch)
//
// Only for transactions the chain stored (decoded and verified when their block was committed); the
// caller checks the bytes against the digest its index recorded.

interface Head {
  major: number;
  arg: number;
  /** Offset just past the head. */
  next: number;
}

function head(b: Uint8Array, o: number): Head {
  if (o >= b.length) throw new RangeError("CBOR item runs past the end");
  const major = b[o] >> 5;
  const ai = b[o] & 31;
  if (ai < 24) return { major, arg: ai, next: o + 1 };
  const size = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : ai === 27 ? 8 : 0;
  if (size === 0 || o + 1 + size > b.length) throw new RangeError(`CBOR head ${b[o]} is not a definite length this walk reads`);
  let arg = 0;
  for (let k = 1; k <= size; k++) arg = arg * 256 + b[o + k];
  return { major, arg, next: o + 1 + size };
}

/** Offset just past the item at `o`. */
function skip(b: Uint8Array, o: number): number {
  const h = head(b, o);
  switch (h.major) {
    case 2:
    case 3:
      return h.next + h.arg;
    case 4: {
      let p = h.next;
      for (let i = 0; i < h.arg; i++) p = skip(b, p);
      return p;
    }
    case 5: {
      let p = h.next;
      for (let i = 0; i < 2 * h.arg; i++) p = skip(b, p);
      return p;
    }
    case 6:
      return skip(b, h.next);
    default:
      return h.next; // integers, simple values and floats: their argument is the whole item
  }
}

/** Offset of item `i` of the array at `o`. */
function item(b: Uint8Array, o: number, i: number): number {
  const h = head(b, o);
  if (h.major !== 4 || i >= h.arg) throw new RangeError(`expected an array with an item ${i}`);
  let p = h.next;
  for (let k = 0; k < i; k++) p = skip(b, p);
  return p;
}

function bytesAt(b: Uint8Array, o: number): Uint8Array {
  const h = head(b, o);
  if (h.major !== 2 || h.next + h.arg > b.length) throw new RangeError("expected a byte string");
  return b.subarray(h.next, h.next + h.arg);
}

/** The COSE_Sign1 bytes of entry `position` of a stored readingBatch transaction. */
export function batchReadingBytes(tx: Uint8Array, position: number): Uint8Array {
  const unsigned = bytesAt(tx, item(tx, 0, 0));
  const body = item(unsigned, 0, 5);
  const entry = item(unsigned, item(unsigned, body, 1), position);
  return bytesAt(unsigned, item(unsigned, entry, 0));
}
