// Readings decoded and digested once per process. A gateway meets each reading's exact bytes up to
// five times (ingest, its own batch's admission, a peer's gossip, a proposal's pre-verification,
// block execution) and decoding (6 µs) plus SHA-256 (2 µs) each time showed in bench:net's profiles
// as a fifth of a gateway's main thread outside block execution, with the garbage that goes with it.
//
// The key is the exact bytes (all of them, as a latin1 string), so a hit means "these bytes decoded
// to this": decoding is a pure function of the bytes, the same on every node. Except one step: a
// short kid's device is chain state (decodeReading's resolveKid), and a short kid can name another
// device in a proposal that is never committed than in the one that is (kids are the next number of
// a counter), so the resolution is never cached: each caller's resolver runs on every call, and a
// cached entry keeps the kid as sent. Bytes that do not decode are not cached either (honest traffic
// has none, and a flood of them must not evict real readings); their error is decodeReading's own.
//
// Bounded in two generations (shared/lru.ts). Entries hold a private copy of the bytes (of a
// Buffer too, whose slice() would be a view),
// so the views a decoded reading keeps (protected header, payload, signature) never pin a whole
// p2p frame or block in memory.
//
//   const { reading, digest } = decodedReadings.decode(bytes, resolveKid);  // throws as decodeReading
//   const digest = decodedReadings.digest(bytes);                          // never throws
import { ReadingError } from "./errors.ts";
import { bytesEqual, toLatin1 } from "./byte-strings.ts";
import { Lru } from "./lru.ts";
import { decodeReading, readingBytesMax, readingDigest, type KidResolver, type SignedReading } from "./reading.ts";
import { isDeviceIdKid } from "./short-kid.ts";

interface Entry {
  /** Decoded with the kid as its own device id: `deviceId` is replaced on every use. */
  reading: SignedReading;
  digest: Uint8Array;
  /**
   * The last answer given (frozen), handed out again while the kid resolves to the same device: the
   * common case, which then allocates nothing. A gateway asks about each reading four or five times.
   */
  last?: Decoded;
}

type Decoded = { readonly reading: SignedReading; readonly digest: Uint8Array };

const unresolved: KidResolver = (kid) => kid;

export class DecodedReadings {
  private readonly entries: Lru<string, Entry>;
  readonly stats = { hits: 0, misses: 0 };

  constructor(readonly entriesMax: number) {
    this.entries = new Lru(entriesMax);
  }

  /** decodeReading(bytes, resolveKid) with readingDigest(bytes); throws exactly what decodeReading throws. */
  decode(bytes: Uint8Array, resolveKid?: KidResolver): Decoded {
    const entry = this.entry(bytes);
    if (!entry) return { reading: decodeReading(bytes, resolveKid), digest: readingDigest(bytes) };
    const { kid } = entry.reading;
    const deviceId = isDeviceIdKid(kid) ? kid : resolveKid?.(kid);
    if (!deviceId) throw new ReadingError("COSE_KID_UNKNOWN", `short kid ${Buffer.from(kid).toString("hex")} names no enrolled device`);
    if (entry.last && bytesEqual(entry.last.reading.deviceId, deviceId)) return entry.last;
    const reading = deviceId === kid ? entry.reading : Object.freeze({ ...entry.reading, deviceId });
    return (entry.last = Object.freeze({ reading, digest: entry.digest }));
  }

  /** readingDigest(bytes), from the cache when these bytes decode (and caching them for the next use). */
  digest(bytes: Uint8Array): Uint8Array {
    return this.entry(bytes)?.digest ?? readingDigest(bytes);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets everything (benches measuring a process that meets the data for the first time). */
  clear(): void {
    this.entries.clear();
  }

  /** The entry for these exact bytes, decoded now if new; undefined when they do not decode. */
  private entry(bytes: Uint8Array): Entry | undefined {
    if (bytes.length > readingBytesMax) return undefined;
    const key = toLatin1(bytes);
    const hit = this.entries.get(key);
    if (hit) {
      this.stats.hits++;
      return hit;
    }
    this.stats.misses++;
    // A copy whatever the input: a Buffer's own slice() is a view, and the entry would then change
    // with the caller's buffer while its key (these bytes as they were) stayed.
    const own = new Uint8Array(bytes);
    let reading: SignedReading;
    try {
      reading = decodeReading(own, unresolved);
    } catch {
      return undefined;
    }
    // Shared by every caller: frozen, so no caller can change what another one reads.
    for (const r of reading.records) Object.freeze(r);
    Object.freeze(reading.records);
    Object.freeze(reading);
    const entry = { reading, digest: readingDigest(own) };
    this.entries.set(key, entry);
    return entry;
  }
}

/**
 * The process's cache: 16,384 readings (1.6 KB of heap each, measured, so 26 MB full), so a reading stays
 * at least 8 s at 1,000 readings/s, past bench:net's saturated p99 from send to final; a reading met
 * again after it left is decoded again. Smaller than verified-readings.ts because each entry is ten
 * times larger, and what it retains is what the garbage collector marks.
 */
export const decodedReadings = new DecodedReadings(1 << 14);
