// Block-wise uploads of payloads (RFC 7959 Block1) to PUT /p/<SHA-256 hex>, as a state machine with a
// limit on everything. The `coap` package's server reassembles Block1 itself, but keeps every block in
// memory without a size bound for an exchange lifetime and throws on a gap, so uploads never reach it:
// admission.ts hands them to this module instead, and the bytes go to a temporary file
// (payload-store.ts), hashed as they arrive. Memory per upload is one block.
//
// RFC 7959 §2.5 (atomic): the server keeps the blocks and acts on the request only after the last.
//   - blocks are taken in order, by byte offset NUM × 2^(SZX+4), so a client may lower SZX midway (§2.5);
//     a block before the received end is a retransmission, acknowledged again, not written again;
//   - a block past the received end, or a block NUM > 0 of no upload in progress: 4.08 Request Entity
//     Incomplete (§2.9.2);
//   - a block with M set must be exactly the block size (§2.2);
//   - each block but the last: 2.31 Continue echoing Block1 with M set (§2.3);
//   - the last: 2.01 Created (or 2.04 Changed if the payload was already here) echoing Block1 with M
//     unset, only if the bytes hash to the path's SHA-256; otherwise 4.00 and the upload is dropped;
//   - total over payloadBytesMax, or a Size1 (§4) announcing more: 4.13 Request Entity Too Large with
//     Size1 = payloadBytesMax (§2.9.3);
//   - at most uploadsPerSourceMax uploads in flight per source and uploadsMax in all, else 5.03 with
//     Max-Age; an upload idle for idleMs is dropped with its file (sweep); a store past its bytesMax
//     (payload-store.ts) answers 5.03 PAYLOAD_STORE_FULL and drops the upload.
// The answer to a finished upload is remembered for idleMs, so a retransmitted last block (its ACK
// lost) gets the same 2.01 again rather than a 4.08.
import { blockBytes, type BlockOption } from "../coap/block-option.ts";
import { PayloadError } from "./errors.ts";
import type { PayloadStore, PayloadWriter } from "./payload-store.ts";

export interface UploadOptions {
  payloadBytesMax: number;
  uploadsPerSourceMax: number;
  uploadsMax: number;
  /** An upload without a block for this long is dropped. */
  idleMs: number;
  /** Max-Age of a 5.03 when the upload slots are full. */
  retryAfterS: number;
}

/** Answers of finished uploads remembered for retransmitted last blocks. */
export const finishedMax = 1024;

export const uploadDefaults: UploadOptions = { payloadBytesMax: 4 << 20, uploadsPerSourceMax: 2, uploadsMax: 32, idleMs: 60_000, retryAfterS: 10 };

export interface BlockRequest {
  /** The exchange's peer (transport:address:port): uploads are told apart by peer and path (§2.4). */
  source: string;
  digestHex: string;
  /** Absent: the whole payload in one message. */
  block1?: BlockOption;
  size1?: number;
  payload: Uint8Array;
}

export interface BlockAnswer {
  code: string;
  block1?: BlockOption;
  size1?: number;
  maxAgeS?: number;
  diagnostic?: string;
}

interface Upload {
  writer: PayloadWriter;
  lastMs: number;
}

const refuse = (code: string, diagnostic: string, extra: Partial<BlockAnswer> = {}): BlockAnswer => ({ code, diagnostic, ...extra });

export class Block1Uploads {
  private readonly uploads = new Map<string, Upload>();
  private readonly finished = new Map<string, { answer: BlockAnswer; atMs: number }>();
  readonly stats = { completed: 0, refused: 0, abandoned: 0 };
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: PayloadStore,
    readonly options: UploadOptions = uploadDefaults,
    private readonly clock: () => number = Date.now,
    /** Called with each payload once it is stored (the payload service marks it present). */
    private readonly onStored: (digestHex: string, bytes: number) => void = () => {},
  ) {}

  /** Uploads in progress (tests, health). */
  get active(): number {
    return this.uploads.size;
  }

  receive(r: BlockRequest): BlockAnswer {
    const now = this.clock();
    this.sweep(now);
    const key = `${r.source} ${r.digestHex}`;
    const block = r.block1 ?? { num: 0, more: false, szx: 6 };
    const size = blockBytes(block.szx);
    const offset = block.num * size;
    const max = this.options.payloadBytesMax;
    if ((r.size1 !== undefined && r.size1 > max) || offset + r.payload.length > max) {
      this.drop(key);
      this.stats.refused++;
      return refuse("4.13", `PAYLOAD_TOO_LARGE: payloads up to ${max} bytes`, { size1: max });
    }
    if (block.more && r.payload.length !== size) return refuse("4.00", `PAYLOAD_BLOCK: block ${block.num} with M set carries ${r.payload.length} bytes; SZX ${block.szx} means ${size}`);
    let upload = this.uploads.get(key);
    if (!upload) {
      const done = this.finished.get(key);
      if (done && block.num > 0) return block.more ? { code: "2.31", block1: block } : { ...done.answer, block1: block };
      if (block.num > 0) return refuse("4.08", `PAYLOAD_INCOMPLETE: no upload of ${r.digestHex} in progress from you; start at block 0`);
      const busy = this.slotsFull(r.source);
      if (busy) return refuse("5.03", `PAYLOAD_BUSY: ${busy}; retry later`, { maxAgeS: this.options.retryAfterS });
      this.finished.delete(key);
      upload = { writer: this.store.writer(r.digestHex), lastMs: now };
      this.uploads.set(key, upload);
    }
    upload.lastMs = now;
    const received = upload.writer.bytes;
    if (offset < received) {
      // A retransmission of a block already written (its 2.31 was lost): the same answer again.
      if (offset + r.payload.length <= received && block.more) return { code: "2.31", block1: block };
      if (offset + r.payload.length !== received) return refuse("4.00", `PAYLOAD_BLOCK: block ${block.num} overlaps the ${received} bytes received with different bounds`);
    }
    if (offset > received) return refuse("4.08", `PAYLOAD_INCOMPLETE: block ${block.num} starts at byte ${offset}, but only ${received} bytes were received; send the blocks in order`);
    if (offset === received) {
      try {
        upload.writer.append(r.payload);
      } catch (e) {
        if (!(e instanceof PayloadError)) throw e;
        this.drop(key);
        this.stats.refused++;
        return refuse("5.03", `${e.code}: ${e.message}`, { maxAgeS: this.options.retryAfterS });
      }
    }
    if (block.more) return { code: "2.31", block1: block };
    return this.finish(key, upload, block);
  }

  private finish(key: string, upload: Upload, block: BlockOption): BlockAnswer {
    this.uploads.delete(key);
    let answer: BlockAnswer;
    try {
      const { created } = upload.writer.commit();
      this.stats.completed++;
      this.onStored(upload.writer.digestHex, upload.writer.bytes);
      answer = { code: created ? "2.01" : "2.04", block1: block };
    } catch (e) {
      if (!(e instanceof PayloadError)) throw e;
      this.stats.refused++;
      answer = refuse("4.00", `${e.code}: ${e.message}`);
    }
    // Bounded: the oldest remembered answer goes first (a lost ACK of an old upload then gets a 4.08).
    if (this.finished.size >= finishedMax) this.finished.delete(this.finished.keys().next().value!);
    this.finished.set(key, { answer, atMs: this.clock() });
    return answer;
  }

  private slotsFull(source: string): string | undefined {
    if (this.uploads.size >= this.options.uploadsMax) return `${this.options.uploadsMax} uploads in progress on this gateway`;
    const prefix = `${source} `;
    let mine = 0;
    for (const k of this.uploads.keys()) if (k.startsWith(prefix)) mine++;
    return mine >= this.options.uploadsPerSourceMax ? `${mine} uploads of yours in progress (at most ${this.options.uploadsPerSourceMax})` : undefined;
  }

  private drop(key: string): void {
    const u = this.uploads.get(key);
    if (!u) return;
    u.writer.abort();
    this.uploads.delete(key);
  }

  /** Drops uploads idle for idleMs (their temporary files too) and forgets old answers; returns how many uploads were dropped. */
  sweep(now = this.clock()): number {
    let dropped = 0;
    for (const [key, u] of this.uploads) {
      if (now - u.lastMs < this.options.idleMs) continue;
      this.drop(key);
      dropped++;
    }
    for (const [key, f] of this.finished) if (now - f.atMs >= this.options.idleMs) this.finished.delete(key);
    this.stats.abandoned += dropped;
    return dropped;
  }

  /** Sweeps every sweepMs, so an upload abandoned with no later traffic still goes (timer unref'd). */
  startSweeper(sweepMs = Math.max(1000, this.options.idleMs / 4)): void {
    this.sweeper ??= setInterval(() => this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const key of [...this.uploads.keys()]) this.drop(key);
  }
}
