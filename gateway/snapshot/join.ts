// Joining side: `mote gateway join --from <api url> --genesis <file> --data-dir <dir>`. Downloads a
// peer's chain store (GET /v1/snapshot) into a staging directory inside the data directory, verifies
// it from the genesis file alone (verify.ts), and only then moves it into place as chain.sqlite. Any
// failure removes the staging directory: nothing is installed. The data directory's other files (the
// node's key, outbox, pending store, payloads) are never touched; `--replace` only replaces the
// chain store. `mote gateway start` then syncs the blocks after the snapshot's tip from peers.
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { GenesisFile } from "../chain/genesis.ts";
import { lockDataDir } from "../ingest/data-dir-lock.ts";
import { chainDbFileName } from "../storage/options.ts";
import { SnapshotError } from "./errors.ts";
import { verifySnapshot, type SnapshotReport } from "./verify.ts";

export interface JoinOptions {
  /** A peer's API, http://host:port. */
  from: string;
  genesis: GenesisFile;
  dataDir: string;
  /** Replace an existing chain store (the node's identity and other files stay). */
  replace?: boolean;
  /** Called as bytes arrive (total: the peer's Content-Length, when given). */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Largest snapshot accepted. */
  bytesMax?: number;
  /** Time to wait for the peer to start answering (it copies its store first). */
  connectTimeoutMs?: number;
}

export const joinDefaults = { bytesMax: 256 * 2 ** 30, connectTimeoutMs: 300_000 };

/** The staging directory inside a data directory; removed on failure and after install. */
export const stagingDirName = "snapshot.partial";

const storeFiles = (dir: string) => ["", "-wal", "-shm"].map((s) => join(dir, chainDbFileName + s));

export async function joinFromSnapshot(o: JoinOptions): Promise<SnapshotReport & { bytes: number }> {
  const release = lockDataDir(o.dataDir); // no gateway may run on the directory meanwhile
  const staging = join(o.dataDir, stagingDirName);
  try {
    if (existsSync(join(o.dataDir, chainDbFileName)) && !o.replace) {
      throw new SnapshotError("SNAPSHOT_EXISTS", `${o.dataDir} already holds a chain store; pass --replace to replace it (the node's key and other files are kept), or choose another --data-dir`);
    }
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const bytes = await download(o, join(staging, chainDbFileName));
    const report = verifySnapshot(staging, o.genesis);
    if (o.replace) for (const f of storeFiles(o.dataDir)) rmSync(f, { force: true });
    const [src, dst] = [storeFiles(staging), storeFiles(o.dataDir)];
    for (let i = 0; i < src.length; i++) if (existsSync(src[i])) renameSync(src[i], dst[i]);
    return { ...report, bytes };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    release();
  }
}

async function download(o: JoinOptions, path: string): Promise<number> {
  const bytesMax = o.bytesMax ?? joinDefaults.bytesMax;
  const url = `${o.from.replace(/\/+$/, "")}/v1/snapshot`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(o.connectTimeoutMs ?? joinDefaults.connectTimeoutMs) });
  } catch (e) {
    throw new SnapshotError("SNAPSHOT_DOWNLOAD", `cannot reach ${url}: ${(e as Error).message}; check --from`);
  }
  if (res.status !== 200 || !res.body) {
    const text = await res.text().catch(() => "");
    throw new SnapshotError("SNAPSHOT_DOWNLOAD", `${url} answered ${res.status}: ${text.slice(0, 300)}`);
  }
  const length = res.headers.get("content-length");
  const total = length === null ? undefined : Number(length);
  if (total !== undefined && total > bytesMax) throw new SnapshotError("SNAPSHOT_DOWNLOAD", `the snapshot is ${total} bytes, more than the ${bytesMax} accepted`);
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > bytesMax) return done(new SnapshotError("SNAPSHOT_DOWNLOAD", `the snapshot exceeds the ${bytesMax} bytes accepted`));
      o.onProgress?.(bytes, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(res.body as never), count, createWriteStream(path));
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError("SNAPSHOT_DOWNLOAD", `the download from ${url} broke off after ${bytes} bytes: ${(e as Error).message}; run the join again`);
  }
  if (total !== undefined && bytes !== total) throw new SnapshotError("SNAPSHOT_DOWNLOAD", `received ${bytes} of ${total} bytes from ${url}; run the join again`);
  return bytes;
}
