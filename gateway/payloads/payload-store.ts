// Off-chain payloads kept by a gateway, content-addressed: <dataDir>/payloads/<SHA-256 hex>. A payload
// file appears only complete and checked: bytes are written to a temporary file under
// <dataDir>/payloads/tmp/ (a Block1 upload appends block by block, hashing as it goes), fsynced, and
// renamed onto their digest only when the hash matches; a file whose bytes no longer hash to its
// name is never served. `remove(digest)` exists for expiry (issue 13 item 1).
// The store holds at most bytesMax bytes, kept and being written together: past it a write fails with
// PAYLOAD_STORE_FULL (uploads answer 5.03, fetches retry later) rather than filling the disk.
import { createHash, randomBytes, type Hash } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../../shared/ed25519.ts";
import { PayloadError } from "./errors.ts";

const hexDigest = /^[0-9a-f]{64}$/;

/** A payload being written: append, then commit (hash checked) or abort (file removed). */
export class PayloadWriter {
  private fd: number | undefined;
  private readonly hash: Hash = createHash("sha256");
  bytes = 0;

  constructor(
    private readonly store: PayloadStore,
    readonly digestHex: string,
    readonly path: string,
  ) {
    this.fd = openSync(path, "wx", 0o644);
  }

  append(chunk: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`payload writer ${this.digestHex} already closed`);
    this.store.reserve(chunk.length);
    writeSync(this.fd, chunk);
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  /** Renames the file onto its digest if the bytes hash to it; PayloadError("PAYLOAD_DIGEST") otherwise (file removed). */
  commit(): { created: boolean } {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`payload writer ${this.digestHex} already closed`);
    this.fd = undefined;
    const got = this.hash.digest("hex");
    try {
      if (got !== this.digestHex) throw new PayloadError("PAYLOAD_DIGEST", `the ${this.bytes} bytes received hash to ${got}, not ${this.digestHex}; upload again`);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      rmSync(this.path, { force: true });
      this.store.release(this.bytes, false);
      throw e;
    }
    closeSync(fd);
    const created = !this.store.has(this.digestHex);
    renameSync(this.path, this.store.pathOf(this.digestHex));
    this.store.release(this.bytes, created);
    return { created };
  }

  abort(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.path, { force: true });
    this.store.release(this.bytes, false);
  }
}

export class PayloadStore {
  readonly dir: string;
  readonly tmpDir: string;
  /** Bytes of the payloads kept, and of those being written. */
  bytesKept = 0;
  bytesWriting = 0;

  constructor(
    dataDir: string,
    readonly bytesMax = Number.MAX_SAFE_INTEGER,
  ) {
    this.dir = join(dataDir, "payloads");
    this.tmpDir = join(this.dir, "tmp");
    mkdirSync(this.tmpDir, { recursive: true });
    // Temporary files of a previous run are uploads nobody will finish.
    for (const f of readdirSync(this.tmpDir)) rmSync(join(this.tmpDir, f), { force: true });
    for (const f of readdirSync(this.dir)) if (hexDigest.test(f)) this.bytesKept += statSync(join(this.dir, f)).size;
  }

  /** Counts bytes about to be written; PayloadError("PAYLOAD_STORE_FULL") past bytesMax. */
  reserve(bytes: number): void {
    if (this.bytesKept + this.bytesWriting + bytes > this.bytesMax) {
      throw new PayloadError("PAYLOAD_STORE_FULL", `this gateway keeps at most ${this.bytesMax} bytes of payloads (${this.bytesKept} kept, ${this.bytesWriting} being written); retry later`);
    }
    this.bytesWriting += bytes;
  }

  /** A writer finished: its bytes are kept (a new file) or given back. */
  release(bytes: number, kept: boolean): void {
    this.bytesWriting -= bytes;
    if (kept) this.bytesKept += bytes;
  }

  pathOf(digestHex: string): string {
    if (!hexDigest.test(digestHex)) throw new RangeError(`not a SHA-256 in lowercase hex: ${digestHex.slice(0, 70)}`);
    return join(this.dir, digestHex);
  }

  has(digest: Uint8Array | string): boolean {
    try {
      return statSync(this.pathOf(typeof digest === "string" ? digest : toHex(digest))).isFile();
    } catch {
      return false;
    }
  }

  /** Size in bytes of a kept payload, or undefined. */
  size(digest: Uint8Array | string): number | undefined {
    try {
      return statSync(this.pathOf(typeof digest === "string" ? digest : toHex(digest))).size;
    } catch {
      return undefined;
    }
  }

  /** The payload with this SHA-256, or undefined when absent or its file no longer matches its name. */
  get(digest: Uint8Array | string): Uint8Array | undefined {
    const hex = typeof digest === "string" ? digest : toHex(digest);
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.pathOf(hex));
    } catch {
      return undefined;
    }
    return createHash("sha256").update(bytes).digest("hex") === hex ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : undefined;
  }

  /** A writer for a payload expected to hash to `digestHex`, in a fresh temporary file. */
  writer(digestHex: string): PayloadWriter {
    this.pathOf(digestHex);
    return new PayloadWriter(this, digestHex, join(this.tmpDir, `${digestHex}.${randomBytes(6).toString("hex")}`));
  }

  /** Stores whole bytes (a fetch from another gateway): checked and atomic like an upload. */
  put(digestHex: string, bytes: Uint8Array): { created: boolean } {
    const w = this.writer(digestHex);
    try {
      w.append(bytes);
    } catch (e) {
      w.abort();
      throw e;
    }
    return w.commit();
  }

  /** Deletes a payload's bytes (expiry); true if there were any. */
  remove(digest: Uint8Array | string): boolean {
    const path = this.pathOf(typeof digest === "string" ? digest : toHex(digest));
    const size = this.size(digest);
    rmSync(path, { force: true });
    if (size !== undefined) this.bytesKept -= size;
    return size !== undefined;
  }
}
