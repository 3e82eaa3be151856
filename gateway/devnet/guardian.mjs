// `npm start`'s guardian: a small process that outlives the start script by a few seconds. While
// the script runs it notes the script's child processes (from /proc: gateways, socat, anything);
// once the script is gone, even by kill -9, it sends them SIGTERM, then SIGKILL after a grace,
// so nothing of the network survives its parent. Gateways also watch their parent themselves
// (exit-with-parent.mjs); socat cannot, which is why this exists. Linux only (/proc); elsewhere
// it exits at once and the gateways' own watch remains.
//
//   node guardian.mjs <pid of the start script>
import { readdirSync, readFileSync } from "node:fs";

const watched = Number(process.argv[2]);
const pollMs = 250;
const graceMs = 10_000;

/** pid → start time (field 22 of /proc/<pid>/stat), so a reused pid is never signalled. */
const seen = new Map();

function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = s.slice(s.lastIndexOf(")") + 2).split(" "); // the name may hold spaces
    return { ppid: Number(fields[1]), startTime: fields[19] };
  } catch {
    return undefined;
  }
}

function noteChildren() {
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const s = stat(pid);
    if (s?.ppid === watched) seen.set(pid, s.startTime);
  }
}

const survivors = () => [...seen].filter(([pid, startTime]) => stat(pid)?.startTime === startTime).map(([pid]) => pid);

function signal(pids, sig) {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone meanwhile
    }
  }
}

async function reap() {
  signal(survivors(), "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (survivors().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, pollMs));
  signal(survivors(), "SIGKILL");
  process.exit(0);
}

// The terminal's Ctrl-C or a group-wide SIGTERM reaches this process too: it stays until the script is gone.
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => {});
let platformOk = true;
try {
  readdirSync("/proc");
} catch {
  platformOk = false;
}
if (!platformOk || !(watched > 0)) process.exit(0);
const timer = setInterval(() => {
  if (process.ppid !== watched) {
    clearInterval(timer);
    void reap();
  } else noteChildren();
}, pollMs);
noteChildren();
