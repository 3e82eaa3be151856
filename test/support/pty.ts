// A pseudo-terminal pair from socat: two real serial devices wired back to back, so a board
// emulator and a gateway (or a test peer) talk through the kernel's tty layer as over a cable.
import { spawn, type ChildProcess } from "node:child_process";

export interface PtyPair {
  a: string;
  b: string;
  close(): Promise<void>;
}

export async function openPtyPair(timeoutMs = 5_000): Promise<PtyPair> {
  const child: ChildProcess = spawn("socat", ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], { stdio: ["ignore", "ignore", "pipe"] });
  const paths: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat did not report two ptys within ${timeoutMs} ms; is socat installed (apt-get install socat)?`)), timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run socat (apt-get install socat): ${e.message}`));
    });
    let buffered = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const m of buffered.matchAll(/PTY is (\S+)/g)) if (!paths.includes(m[1])) paths.push(m[1]);
      if (paths.length === 2 && /starting data transfer loop/.test(buffered)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    a: paths[0],
    b: paths[1],
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
