// A serial cable made of two pseudo-terminals joined by socat (raw, no echo): whatever is written
// to one end comes out of the other through the kernel's tty layer, like a UART's bytes. The board
// emulator sits on one end and a gateway's serial port on the other (npm start, tests).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";

/** True if socat (Debian package socat) can be run. */
export function socatAvailable(): boolean {
  return !spawnSync("socat", ["-V"], { stdio: "ignore" }).error;
}

export interface PtyPair {
  a: string;
  b: string;
  close(): Promise<void>;
}

/** `links` names stable symlinks to the two ends, so a restarted pair can appear at the same paths. */
export function openPtyPair(timeoutMs = 10_000, links?: [string, string]): Promise<PtyPair> {
  const end = (link?: string) => `pty,raw,echo=0${link ? `,link=${link}` : ""}`;
  const child: ChildProcess = spawn("socat", ["-d", "-d", end(links?.[0]), end(links?.[1])], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    const paths: string[] = [];
    let err = "";
    const timer = setTimeout(() => fail(new Error(`socat gave no pty pair within ${timeoutMs} ms: ${err}`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    };
    child.on("error", (e) => fail(new Error(`cannot run socat (apt-get install socat): ${e.message}`)));
    child.stderr!.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      for (const m of chunk.toString().matchAll(/PTY is (\S+)/g)) paths.push(m[1]);
      if (paths.length === 2 && /starting data transfer loop/.test(err)) {
        clearTimeout(timer);
        resolve({
          a: links?.[0] ?? paths[0],
          b: links?.[1] ?? paths[1],
          close: () =>
            new Promise<void>((r) => {
              if (child.exitCode !== null) return r();
              child.once("exit", () => r());
              child.kill("SIGTERM");
            }),
        });
      }
    });
  });
}
