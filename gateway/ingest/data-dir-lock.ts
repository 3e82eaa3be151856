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
  const path = join(dataDir, lockFile);
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
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new MoteError("DATA_DIR_LOCKED", `${dataDir} is used by gateway process ${pid}; stop it or choose another --data-dir`);
      }
      unlinkSync(path); // stale: its owner died
    }
  }
  throw new MoteError("DATA_DIR_LOCKED", `cannot lock ${path}; another gateway is starting there`);
}
