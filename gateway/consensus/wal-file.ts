// The consensus record on disk: <dataDir>/consensus.wal, an append-only log of whole records of
// which the last complete one counts. A save appends one frame and fdatasyncs the file: one sync and
// two syscalls per vote, where replacing the file (write a temporary, fsync, rename, fsync the
// directory) took two syncs and five — bench:net's profiles of an idle 4-validator network put a
// quarter of each gateway's main thread in those saves, on the critical path of every height.
//
//   file  = magic frame*
//   magic = "MOTEWAL2"
//   frame = u32 length (BE) | 8 bytes of SHA-256(record) | record
//
// A kill -9 at any instant leaves a prefix of what was appended: the last frame may be torn (short,
// or its checksum fails), and load() takes the last frame before it. Past `rotateBytes` the next
// save starts a new file the old way (temporary + fsync + rename + directory fsync), so the file
// stays small; so does the first save after a load that found a torn tail or a record of the
// earlier format (the whole file was one record: accepted, and rewritten in this one).
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../../shared/ed25519.ts";
import type { WalStore } from "./wal.ts";

export const walFileName = "consensus.wal";
const magic = Buffer.from("MOTEWAL2", "latin1");
const checksumBytes = 8;
const frameHeaderBytes = 4 + checksumBytes;

const checksum = (record: Uint8Array): Uint8Array => sha256(record).subarray(0, checksumBytes);

export function encodeWalFrame(record: Uint8Array): Buffer {
  const header = Buffer.alloc(frameHeaderBytes);
  header.writeUInt32BE(record.length, 0);
  header.set(checksum(record), 4);
  return Buffer.concat([header, record]);
}

/**
 * The last complete record of a WAL file's bytes, and whether the file ended cleanly after it.
 * A file without the magic is a whole record of the earlier format (one record, replaced atomically).
 */
export function lastWalRecord(file: Uint8Array): { record: Uint8Array | undefined; clean: boolean } {
  if (file.length === 0) return { record: undefined, clean: false };
  if (file.length < magic.length || Buffer.compare(file.subarray(0, magic.length), magic) !== 0) return { record: file, clean: false };
  const view = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  let record: Uint8Array | undefined;
  let at = magic.length;
  while (at + frameHeaderBytes <= file.length) {
    const length = view.readUInt32BE(at);
    const end = at + frameHeaderBytes + length;
    if (end > file.length) break;
    const body = file.subarray(at + frameHeaderBytes, end);
    if (Buffer.compare(checksum(body), view.subarray(at + 4, at + frameHeaderBytes)) !== 0) break;
    record = body;
    at = end;
  }
  return { record, clean: at === file.length };
}

export class FileWalStore implements WalStore {
  readonly path: string;
  private readonly tmp: string;
  /** Open for appending, and the file's size; undefined until a save starts a file in this format. */
  private fd: number | undefined;
  private size = 0;
  writes = 0;
  rotations = 0;

  constructor(
    readonly dataDir: string,
    readonly rotateBytes = 8 << 20,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, walFileName);
    this.tmp = `${this.path}.tmp`;
  }

  load(): Uint8Array | undefined {
    let file: Uint8Array;
    try {
      file = new Uint8Array(readFileSync(this.path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    const { record, clean } = lastWalRecord(file);
    // Append only after a clean end: frames after a torn one would never be read back.
    this.closeFd();
    if (clean) {
      this.fd = openSync(this.path, "a", 0o600);
      this.size = file.length;
    }
    return record;
  }

  save(bytes: Uint8Array): void {
    const frame = encodeWalFrame(bytes);
    if (this.fd === undefined || this.size + frame.length > this.rotateBytes) return this.rewrite(frame);
    writeAll(this.fd, frame);
    fdatasyncSync(this.fd);
    this.size += frame.length;
    this.writes++;
  }

  close(): void {
    this.closeFd();
  }

  /** A new file holding just this frame, in place of the old one atomically. */
  private rewrite(frame: Buffer): void {
    this.closeFd();
    const fd = openSync(this.tmp, "w", 0o600);
    try {
      writeAll(fd, Buffer.concat([magic, frame]));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.tmp, this.path);
    const dir = openSync(this.dataDir, "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.fd = openSync(this.path, "a", 0o600);
    this.size = magic.length + frame.length;
    this.writes++;
    this.rotations++;
  }

  private closeFd(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}
