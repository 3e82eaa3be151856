// npm start: a local Moteledger network on this machine (gateway/devnet/devnet.ts). Prints where
// the dashboard and the API are, shows devices' progress, and stops cleanly on Ctrl-C.
import { Command } from "commander";
import { Devnet } from "../gateway/devnet/devnet.ts";

const o = new Command("npm start")
  .description("run a local network: PBFT gateways, simulated devices with the real firmware, the dashboard")
  .option("--dir <dir>", "where the network keeps its data", ".moteledger")
  .option("--fresh", "delete the data directory first")
  .option("--gateways <n>", "validator gateways", "4")
  .option("--devices <n>", "devices over UDP (one more over a serial line if socat is installed)", "20")
  .option("--no-serial", "no serial-line device")
  .option("--interval <s>", "seconds between a device's readings", "5")
  .option("--duration <s>", "stop after this many seconds (default: run until Ctrl-C)")
  .option("--udp-port <port>", "gateway i takes CoAP on port + i", "5700")
  .option("--p2p-port <port>", "gateway i takes consensus peers on port + i", "7400")
  .option("--api-port <port>", "gateway i serves its API on port + i - 1", "8080")
  .parse(process.argv.slice(2), { from: "user" })
  .opts<{ dir: string; fresh?: boolean; gateways: string; devices: string; serial: boolean; interval: string; duration?: string; udpPort: string; p2pPort: string; apiPort: string }>();

const started = Date.now();
const say = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s  ${line}`);

const devnet = await Devnet.start({
  dir: o.dir,
  fresh: Boolean(o.fresh),
  gateways: Number(o.gateways),
  devices: Number(o.devices),
  serialDevice: o.serial,
  readingIntervalMs: Number(o.interval) * 1000,
  basePorts: { udp: Number(o.udpPort), p2p: Number(o.p2pPort), api: Number(o.apiPort) },
  progress: say,
}).catch((e: Error) => {
  console.error(`npm start: ${e.message}`);
  process.exit(1);
});

const first = devnet.gateways[0];
console.log(`
  dashboard  ${first.apiUrl}/dashboard/
  API        ${devnet.gateways.map((g) => g.apiUrl).join("  ")}   (OpenAPI: ${first.apiUrl}/openapi.json)
  CLI        npx mote status --api ${first.apiUrl}
  data       ${o.dir}   (gateway logs: ${o.dir}/gateway-*.log)
  Ctrl-C to stop
`);

const report = setInterval(async () => {
  const t = devnet.fleet.totals();
  const head = await fetch(`${first.apiUrl}/v1/head`).then((r) => r.json()).catch(() => undefined);
  say(`height ${head?.height ?? "?"}  readings signed ${t.signed}, acknowledged ${t.acked}, refused ${t.rejected}${t.busy ? `, skipped (outbox full) ${t.busy}` : ""}`);
}, 10_000);

let stopping = false;
async function stop(why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(report);
  say(`stopping (${why})…`);
  await devnet.stop();
  say("stopped");
  process.exit(0);
}
process.once("SIGINT", () => void stop("Ctrl-C"));
process.once("SIGTERM", () => void stop("SIGTERM"));
if (o.duration) setTimeout(() => void stop(`--duration ${o.duration}`), Number(o.duration) * 1000);
