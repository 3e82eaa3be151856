// One gateway per data directory: two writers would each believe their replay windows. The lock
// file holds the owner's pid; a lock left by a process that no longer exists (kill -9, power cut)
// is taken over.
import { readFileSync, writeFileSync, unlinkSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { MoteError } from "../../shared/errors.ts";

export const lockFile = "gateway.lock";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  return lockPidFile(join(dataDir, lockFile), (pid) =>
    pid === undefined
      ? new MoteError("DATA_DIR_LOCKED", `cannot lock ${join(dataDir, lockFile)}; another gateway is starting there`)
      : new MoteError("DATA_DIR_LOCKED", `${dataDir} is used by gateway process ${pid}; stop it or choose another --data-dir`),
  );
}

/**
 * Takes the lock file `path` for this process (it holds our pid) and returns its release. A lock
 * held by a live process throws `refused(pid)`; one left by a dead process is taken over.
 */
export function lockPidFile(path: string, refused: (pid: number | undefined) => Error): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx" });
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw refused(pid);
      unlinkSync(path); // stale: its owner died
    }
  }
  throw refused(undefined);
}
