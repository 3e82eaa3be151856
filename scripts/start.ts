// npm start: a local Moteledger network on this machine (gateway/devnet/devnet.ts). Prints where
// the dashboard and the API are, shows progress (per gateway: up or down, head advancing or
// stalled, backlog), and stops cleanly on Ctrl-C, SIGTERM or SIGHUP.
//
// Nothing outlives it: npm's shell may die without passing SIGTERM on, so this script also stops
// when its parent or an ancestor in its process group (npm, its shell) is gone; gateways watch this script the same way (exit-with-parent.mjs), and a
// guardian process (guardian.mjs) ends whatever is left (socat) if this script is killed with -9.
// A second start on the same --dir refuses (devnet.lock).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { Devnet } from "../gateway/devnet/devnet.ts";
import { exitGraceMs, exitWithAncestors, groupAncestors } from "../gateway/devnet/exit-with-parent.mjs";
import type { GatewayStatus } from "../gateway/devnet/processes.ts";
import { startBanner, type BannerSerialDevice } from "./start-banner.ts";

const o = new Command("npm start")
  .description("run a local network: PBFT gateways, simulated devices with the real firmware, the dashboard")
  .option("--dir <dir>", "where the network keeps its data", ".moteledger")
  .option("--fresh", "delete the data directory first")
  .option("--gateways <n>", "validator gateways", "4")
  .option("--devices <n>", "devices over UDP (one more over a serial line if socat is installed)", "20")
  .option("--no-serial", "no serial-line device")
  .option("--no-board", "no emulated Cortex-M3 board under qemu (present when its Debian toolchain is)")
  .option("--interval <s>", "seconds between a device's readings", "5")
  .option("--duration <s>", "stop after this many seconds (default: run until Ctrl-C)")
  .option("--udp-port <port>", "gateway i takes CoAP on port + i", "5700")
  .option("--p2p-port <port>", "gateway i takes consensus peers on port + i", "7400")
  .option("--api-port <port>", "gateway i serves its API on port + i - 1", "8080")
  .parse(process.argv.slice(2), { from: "user" })
  .opts<{ dir: string; fresh?: boolean; gateways: string; devices: string; serial: boolean; board: boolean; interval: string; duration?: string; udpPort: string; p2pPort: string; apiPort: string }>();

const started = Date.now();
const say = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`);

// Watchers first, before any child exists.
const guardian = spawn(process.execPath, [fileURLToPath(new URL("../gateway/devnet/guardian.mjs", import.meta.url)), String(process.pid)], { stdio: "ignore" });
guardian.unref();
const starting = new AbortController();
let devnet: Devnet | undefined;
let stopping = false;
async function stop(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(report);
  say(`stopping (${why})…`);
  // A stop that hangs still ends: the gateways and the guardian finish the job once we are gone.
  setTimeout(() => {
    say(`still stopping after ${exitGraceMs / 1000} s: exiting`);
    process.exit(1);
  }, exitGraceMs).unref();
  if (!devnet) {
    starting.abort(new Error(why)); // Devnet.start stops what it started and rejects
    return;
  }
  await devnet.stop();
  say("stopped");
  process.exit(0);
}
const signalNames: Record<string, string> = { SIGINT: "Ctrl-C", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP" };
for (const [sig, why] of Object.entries(signalNames)) process.on(sig, () => void stop(why));
const ancestors = groupAncestors();
exitWithAncestors(ancestors, () => void stop(`parent process exited (${ancestors.map((a) => a.pid).join(", ")})`));
let report: NodeJS.Timeout | undefined;

devnet = await Devnet.start({
  dir: o.dir,
  fresh: Boolean(o.fresh),
  gateways: Number(o.gateways),
  devices: Number(o.devices),
  serialDevice: o.serial,
  qemuBoard: o.board,
  readingIntervalMs: Number(o.interval) * 1000,
  basePorts: { udp: Number(o.udpPort), p2p: Number(o.p2pPort), api: Number(o.apiPort) },
  progress: say,
  signal: starting.signal,
}).catch((e: Error) => {
  if (stopping) say("stopped during start");
  else console.error(`npm start: ${e.message}`);
  process.exit(1);
});

console.log(
  startBanner({
    dir: o.dir,
    gateways: devnet.gateways.map((g) => ({ index: g.spec.index, apiUrl: g.apiUrl, udpPort: g.spec.udpPort, serialPaths: g.spec.serialPaths ?? [] })),
    serialDevices: serialDevices(devnet),
  }),
);


const lastHeight = new Map<number, number>();
report = setInterval(async () => {
  const t = devnet!.fleet.totals();
  const gateways = await devnet!.status();
  if (stopping) return;
  const refused = new Map<string, number>();
  for (const g of gateways) for (const [code, n] of Object.entries(g.refused ?? {})) refused.set(code, (refused.get(code) ?? 0) + n);
  const refusedTotal = [...refused.values()].reduce((a, b) => a + b, 0);
  const byCode = [...refused].map(([code, n]) => `${code} ${n}`).join(", ");
  const height = Math.max(...gateways.map((g) => g.height ?? 0));
  say(`height ${height}  readings signed ${t.signed}, acknowledged ${t.acked}, refused ${refusedTotal}${byCode ? ` (${byCode})` : ""}${t.busy ? `, skipped (outbox full) ${t.busy}` : ""}`);
  say(`gateways  ${gateways.map((g) => gatewayLine(g, lastHeight)).join("  |  ")}`);
}, 10_000);

/** Devices on serial lines: the simulated board (socat pty pair) and the qemu board, each end's pty. */
function serialDevices(d: Devnet): BannerSerialDevice[] {
  const out: BannerSerialDevice[] = [];
  const gatewayPaths = d.gateways.flatMap((g) => g.spec.serialPaths ?? []);
  for (const m of d.fleet.members) {
    const link = m.board.options.link;
    // The gateway reads the other end of the board's pty pair: the serial path no board writes.
    if (link.kind === "serial") out.push({ label: m.label, devicePath: link.path, gatewayPath: gatewayPaths.find((p) => p !== d.qemuDevice?.gatewaySide) ?? "?" });
  }
  if (d.qemuDevice) out.push({ label: "mote-mps2-an385 (qemu)", devicePath: d.qemuDevice.line.a, gatewayPath: d.qemuDevice.gatewaySide });
  return out;
}

/** "1 up h42 +10 pending 3", "3 DOWN (code 1)", "4 up h40 STALLED pending 120 BACKLOG_FULL". */
function gatewayLine(g: GatewayStatus, last: Map<number, number>): string {
  if (g.state === "down") return `${g.index} DOWN (${g.exit})`;
  if (g.state === "unreachable") return `${g.index} UNREACHABLE`;
  const before = last.get(g.index);
  last.set(g.index, g.height!);
  const advance = before === undefined ? "" : g.height! > before ? ` +${g.height! - before}` : " STALLED";
  const codes = (g.reasons ?? []).map((r) => r.split(":")[0]);
  return `${g.index} up h${g.height}${advance} pending ${g.pendingReadings ?? "?"}${codes.length ? ` ${codes.join(" ")}` : ""}`;
}

if (o.duration) setTimeout(() => void stop(`--duration ${o.duration}`), Number(o.duration) * 1000);
