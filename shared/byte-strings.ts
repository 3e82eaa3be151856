// Bytes as hex or latin1 strings: ids and digests become Map keys several times per reading on
// every gateway, and the CBOR decoder reads ASCII text this way. Buffer's own slice methods read any
// Uint8Array in place: wrapping it in a Buffer first cost an object per call, and its `.buffer`
// moved a small array's bytes off V8's heap into a malloc'd store (bench:net counted ~40 such
// stores per finalized reading, most of them made by the wrapping).
type Slicer = (this: Uint8Array, start: number, end: number) => string;
const { hexSlice, latin1Slice } = Buffer.prototype as unknown as { hexSlice: Slicer; latin1Slice: Slicer };
if (typeof hexSlice !== "function" || typeof latin1Slice !== "function") throw new Error("this Node has no Buffer.prototype.hexSlice/latin1Slice (Node 20 and later have them)");

export const toHex = (b: Uint8Array): string => hexSlice.call(b, 0, b.length);
/** The bytes as a latin1 string, one character per byte: a compact Map key. */
export const toLatin1 = (b: Uint8Array): string => latin1Slice.call(b, 0, b.length);
/** Bytes [start, end) of `b` as latin1, without a view of them. */
export const latin1Range = (b: Uint8Array, start: number, end: number): string => latin1Slice.call(b, start, end);
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));

/** Whether two arrays hold the same bytes: a plain loop, cheaper than a native call for keys and digests. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
