// npm run bench:net — the network's end-to-end numbers for 1, 4 and 7 validators on this machine:
// gateway processes (chain on SQLite + PBFT over sealed loopback TCP + ingest on UDP), simulated devices
// sending real signed readings over CoAP, and the time from a device's send to the block that
// finalizes its reading at the gateway it sent to. Beside them, this machine's ceiling measured in
// the same run: Ed25519 verifications per second on all its cores, divided by the verifications a
// reading costs across the network (one at the ingest gateway, one at each validator), so each
// result reads as a fraction of what the hardware could do at best.
//
// For each validator count: saturated (every device sends its next reading as soon as the last is
// acknowledged), then paced at half of what the saturated row finalized ("half load"), then paced at
// 100/s. Devices send compact readings (format 2, as the firmware does) signed before the row starts:
// on a real network the devices' signing runs on the devices, not on the gateways' cores, so the
// bench keeps it out of the measured window (a device that runs out signs on demand, counted in the
// "signed live" note). "gateway CPU" is the gateway processes' CPU time (all threads, and their main
// threads alone) per finalized reading, summed over the network, from /proc: a figure that moves far
// less with what else loads the machine than readings/s; "busy" is the machine's CPU use over the row.
// "send→ack" is ingest's share of the latency: from a device's send to its gateway's 2.01.
//
//   npm run bench:net [-- --seconds 10 --warmup auto --devices 160 --validators 1,4,7 --rows saturated,half,100]
//   BENCH_NET_LATENCIES=<prefix>: each row's readings also go to <prefix>.<validators>-<rate>, one per line:
//   "<gateway> <height> <send→final ms> <sent at ms> <final at ms>" (which blocks a gateway's readings missed)
//   BENCH_NET_INTERVAL_MS=<ms>: the chain's block interval (default 200)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { privateKeyObject, publicKeyFromSeed, publicKeyObject, signEd25519, toHex, verifyEd25519 } from "../shared/ed25519.ts";
import { encodeCompactReading } from "../shared/reading.ts";
import { sensorCatalog } from "../shared/sensor-catalog.ts";
import { initLocalNetwork } from "../gateway/chain/local-network.ts";
import { TestCoapClient } from "../test/support/gateway-coap-client.ts";
import { TestDevice } from "../test/support/gateway-fixtures.ts";
import { NodeProcess } from "../test/consensus/process-harness.ts";
import { contentFormat } from "../shared/constants.ts";
import { opsPerSecond, printTable } from "./table.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "auto" },
    devices: { type: "string", default: "160" },
    validators: { type: "string", default: "1,4,7" },
    rows: { type: "string", default: "saturated,half,100" },
  },
});
const seconds = Number(values.seconds);
// A row measures a network that has run this long at its load, since a gateway runs for days and V8
// compiles its hot paths for tens of seconds after it starts, longer the more gateways share the
// cores. perf in 8 s windows of one saturated run (the compiler's share of the gateways' CPU, load
// starting about 5 s in): at 4 validators 23% at 11-19 s, 14% at 19-27, 4% at 27-35, 2% from 43;
// at 7 validators 21%, 15%, 11%, 7.5% at 35-43, 4% at 43-51, 2% at 51-59. A fixed 10 s warm-up
// measured the 7-validator rows with a fifth of their CPU compiling. "auto" waits 10 s plus 5 s per
// validator (15, 30 and 45 s at 1, 4 and 7), past where those shares fall under 5%.
const warmupSeconds = (validators: number): number => (values.warmup === "auto" ? 10 + 5 * validators : Number(values.warmup));
if (values.warmup !== "auto" && !(Number(values.warmup) >= 0)) throw new Error(`--warmup takes "auto" or seconds (a number ≥ 0), got "${values.warmup}"`);
const deviceCount = Number(values.devices);
const blockIntervalMs = Number(process.env.BENCH_NET_INTERVAL_MS ?? 200);

function ed25519Ceiling(): { perCore: number; cores: number } {
  const seed = new Uint8Array(32).fill(3);
  const key = publicKeyObject(publicKeyFromSeed(seed));
  const message = new Uint8Array(120).fill(1);
  const signature = signEd25519(privateKeyObject(seed), message);
  return { perCore: opsPerSecond(() => verifyEd25519(key, message, signature), 1500), cores: availableParallelism() };
}

const percentile = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);

/** A device's readings, signed ahead of the row; past them it signs on demand. */
class PresignedDevice {
  readonly device = new TestDevice();
  private readonly ready: Uint8Array[] = [];
  private next = 0;
  signedLive = 0;

  presign(count: number): void {
    this.ready.length = 0;
    this.next = 0;
    for (let i = 0; i < count; i++) this.ready.push(this.sign(this.device.nextSequence + i));
  }

  /** The next reading and its sequence. */
  take(): { bytes: Uint8Array; sequence: number } {
    const sequence = this.device.nextSequence++;
    if (this.next < this.ready.length) return { bytes: this.ready[this.next++], sequence };
    this.signedLive++;
    return { bytes: this.sign(sequence), sequence };
  }

  private sign(sequence: number): Uint8Array {
    const temp = sensorCatalog.findIndex((s) => s.name === "temp");
    const s = sensorCatalog[temp];
    return encodeCompactReading(this.device.key.privateKey, this.device.deviceId, sequence, [{ name: s.name, unit: s.unit, value: 21 + (sequence % 7) / 4 }]);
  }
}

/** CPU ms a process used so far (utime + stime from /proc, clock ticks of 10 ms): all its threads, and its main thread; NaN off Linux. */
function cpuMs(pid: number | undefined): { all: number; main: number } {
  const read = (path: string): number => {
    try {
      const stat = readFileSync(path, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime (fields 14 and 15) in ticks of USER_HZ = 100
    } catch {
      return NaN;
    }
  };
  return { all: read(`/proc/${pid}/stat`), main: read(`/proc/${pid}/task/${pid}/stat`) };
}

function machineBusy(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

interface RowResult {
  finalized: number;
  perS: number;
  p50: number;
  p99: number;
  ackP50: number;
  heights: number;
  /** Heights node 0 decided after round 0 during the measured seconds. */
  lateHeights: number;
  gatewayCpuUsPerReading: number;
  gatewayMainUsPerReading: number;
  busyCores: number;
  signedLive: number;
}

/** `rate` readings/s offered in total, paced; 0: every device sends its next reading as soon as the last is acknowledged. */
async function run(n: number, rate: number, presignPerDevice: number): Promise<RowResult> {
  const dir = mkdtempSync(join(tmpdir(), "mote-bench-net-"));
  const p2pBase = 47000 + n * 20;
  const net = initLocalNetwork({ dir, gateways: n, devicesOwner: true, params: { blockIntervalMs, epochBlocks: 100_000, readingFee: 0 }, basePort: p2pBase });
  const owner = { privateKey: net.owner!.identity.key, publicKey: net.owner!.identity.publicKey, seed: net.owner!.identity.seed };
  const devices = Array.from({ length: deviceCount }, () => new PresignedDevice());
  net.genesis.devices = devices.map((d) => ({ publicKey: toHex(d.device.key.publicKey), owner: net.owner!.id }));
  writeFileSync(net.genesisPath, JSON.stringify(net.genesis));
  for (const d of devices) d.presign(presignPerDevice);
  const nodes = net.gateways.map(
    (g) =>
      new NodeProcess({
        dataDir: join(dir, `node-${g.index}`),
        genesisPath: net.genesisPath,
        keyPath: g.keyPath,
        p2pPort: p2pBase + g.index,
        peers: net.gateways.filter((x) => x !== g).map((x) => p2pBase + x.index),
        udpPort: p2pBase + 10 + g.index,
        trustedOwner: net.owner!.publicKey,
        reportReadings: true,
        // The bench measures the network, not the per-device admission policy (10 readings/s by
        // default, which would cap 160 devices at 1,600/s on any number of validators).
        ingest: { rateReadingsPerS: 1000, rateBurst: 1000 },
        logLevel: process.env.BENCH_NET_LOG ?? "warn",
      }),
  );
  try {
    await Promise.all(nodes.map((x) => x.start()));
    const clients = await Promise.all(nodes.map((x) => TestCoapClient.open(x.args.udpPort!)));
    for (const c of clients) for (const d of devices) await c.request({ method: "POST", path: "e", payload: d.device.enrollment(owner), contentFormat: contentFormat.cbor });
    // One socket per device, as real devices have: a shared client would fan every reply out to all waiters.
    const radios = await Promise.all(devices.map((_, i) => TestCoapClient.open(nodes[i % n].args.udpPort!)));
    // Finality of a reading: the block carrying it, reported by the gateway the device sent to.
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const acks: number[] = []; // send → the gateway's acknowledgement, during the measured seconds
    const perReading: string[] = []; // BENCH_NET_LATENCIES
    let heights = 0;
    let lateHeights = 0; // decided by node 0 after round 0 (a round timed out): whole seconds lost at 7 validators
    let measuring = false;
    nodes.forEach((node, i) => {
      node.onRawEvent = (e) => {
        if (e.event === "lateRound" && i === 0 && measuring) lateHeights++;
        if (e.event !== "finalized") return;
        const now = performance.now();
        if (i === 0 && measuring) heights++;
        for (const [device, seq] of (e.readings as [string, number][]) ?? []) {
          const key = `${i}/${device}/${seq}`;
          const t = sentAt.get(key);
          if (t === undefined) continue;
          sentAt.delete(key);
          if (!measuring) continue;
          latencies.push(now - t);
          if (process.env.BENCH_NET_LATENCIES) perReading.push(`${i} ${e.height} ${(now - t).toFixed(1)} ${t.toFixed(1)} ${now.toFixed(1)}`);
        }
      };
    });
    let stop = false;
    const replies = new Map<string, number>(); // CoAP response codes during the measured seconds
    const load = devices.map(async (d, i) => {
      const gateway = i % n;
      const periodMs = rate > 0 ? (devices.length * 1000) / rate : 0;
      if (periodMs) await new Promise((r) => setTimeout(r, (i * periodMs) / devices.length));
      // Paced devices send on their own clock's grid (a sensor samples on its timer, whenever the
      // last acknowledgement came): a device whose reply came late sends at its next slot, never at
      // once. Rescheduling from the reply instead let one group commit's acknowledgements (many
      // devices' at one instant) line their next sends up, and the fleet drifted into bursts: at
      // 750/s the readings of a gateway came in clumps of ten a few milliseconds apart, so where the
      // clumps fell against the block schedule moved a row's p50 by tens of milliseconds.
      let due = performance.now();
      while (!stop) {
        const { bytes, sequence } = d.take();
        const t = performance.now();
        // Compact readings go to POST / with no options (device/ABI.md "Readings").
        const reply = await radios[i].request({ method: "POST", path: "", payload: bytes }, 5000).catch(() => undefined);
        if (reply?.code.startsWith("2.")) {
          sentAt.set(`${gateway}/${toHex(d.device.deviceId)}/${sequence}`, t);
          if (measuring) acks.push(performance.now() - t);
        }
        if (measuring) replies.set(reply?.code ?? "timeout", (replies.get(reply?.code ?? "timeout") ?? 0) + 1);
        // Refused for load (4.29, 5.03) or unanswered: back off as the firmware does, not hammer.
        const backOff = reply && !reply.code.startsWith("2.") && !reply.code.startsWith("4.0");
        const now = performance.now();
        if (!periodMs) {
          if (backOff) await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        due += periodMs;
        const earliest = backOff ? now + 1000 : now;
        if (due < earliest) due += Math.ceil((earliest - due) / periodMs) * periodMs;
        await new Promise((r) => setTimeout(r, due - now));
      }
    });
    await new Promise((r) => setTimeout(r, warmupSeconds(n) * 1000));
    measuring = true;
    latencies.length = 0;
    acks.length = 0;
    const liveBefore = devices.reduce((s, d) => s + d.signedLive, 0);
    const cpuBefore = nodes.map((x) => cpuMs(x.child?.pid));
    const busyBefore = machineBusy();
    const start = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    measuring = false;
    const elapsedS = (performance.now() - start) / 1000;
    const cpuAfter = nodes.map((x) => cpuMs(x.child?.pid));
    const allMs = cpuAfter.reduce((s, c, i) => s + c.all - cpuBefore[i].all, 0);
    const mainMs = cpuAfter.reduce((s, c, i) => s + c.main - cpuBefore[i].main, 0);
    const busyAfter = machineBusy();
    const signedLive = devices.reduce((s, d) => s + d.signedLive, 0) - liveBefore;
    stop = true;
    await Promise.all(load);
    if (process.env.BENCH_NET_LOG) console.error(nodes[0].stderr);
    // A row that acknowledged readings and finalized (almost) none once went unexplained
    // (bench/HISTORY.md, tenth pass): say so, with every node's log tail (warnings and errors at
    // the default level).
    if (acks.length > 100 && latencies.length < acks.length / 100) {
      console.error(`  row finalized ${latencies.length} of the ${acks.length} readings acknowledged while measuring; node logs follow`);
      nodes.forEach((node, i) => console.error(`  --- node ${i} (last ${node.stderr.length} bytes of stderr)\n${node.stderr}`));
    }
    console.error(`  replies: ${[...replies].map(([code, count]) => `${code} ×${count}`).join(", ")}`);
    latencies.sort((a, b) => a - b);
    acks.sort((a, b) => a - b);
    if (process.env.BENCH_NET_LATENCIES) writeFileSync(`${process.env.BENCH_NET_LATENCIES}.${n}-${rate || "saturated"}`, perReading.join("\n") + "\n");
    await Promise.all([...clients, ...radios].map((c) => c.close()));
    const busyCores = ((busyAfter.busy - busyBefore.busy) / (busyAfter.total - busyBefore.total)) * cpus().length;
    return { finalized: latencies.length, perS: latencies.length / elapsedS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), ackP50: percentile(acks, 50), heights, lateHeights, gatewayCpuUsPerReading: (allMs * 1000) / Math.max(1, latencies.length), gatewayMainUsPerReading: (mainMs * 1000) / Math.max(1, latencies.length), busyCores, signedLive };
  } finally {
    await Promise.all(nodes.map((x) => x.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const ceiling = ed25519Ceiling();
const rowKinds = values.rows!.split(",");
const rows: (string | number)[][] = [];
let signedLive = 0;
for (const n of values.validators!.split(",").map(Number)) {
  const verificationsPerReading = 1 + n; // ingest gateway + every validator (mempool admission or block validation)
  const ceilingPerS = (ceiling.perCore * ceiling.cores) / verificationsPerReading;
  let saturatedPerS: number | undefined;
  for (const kind of rowKinds) {
    const rate = kind === "saturated" ? 0 : kind === "half" ? Math.max(10, Math.round((saturatedPerS ?? ceilingPerS * 0.3) / 2)) : Number(kind);
    // Enough signed readings for the whole row at the rate the ceiling allows, at most: the rest is
    // signed live, by this process, on the gateways' cores. The bound is above what one validator
    // finalizes saturated here (3,700–4,400/s): at 3,000 that row signed 29,178 readings live.
    const expected = (rate || Math.min(ceilingPerS, 6000)) * (warmupSeconds(n) + seconds + 2);
    const r = await run(n, rate, Math.ceil(expected / deviceCount));
    if (kind === "saturated") saturatedPerS = r.perS;
    signedLive += r.signedLive;
    const label = rate > 0 ? `${rate}/s paced${kind === "half" ? " (half)" : ""}` : "saturated";
    rows.push([label, n, Math.round(r.perS), r.ackP50, r.p50, r.p99, r.heights, Math.round(r.gatewayCpuUsPerReading), Math.round(r.gatewayMainUsPerReading), r.busyCores, Math.round(ceilingPerS), `${((r.perS / ceilingPerS) * 100).toFixed(1)}%`]);
    console.error(`${label}, n=${n}: ${r.finalized} readings finalized in ${seconds} s; ${r.lateHeights} of ${r.heights} heights took more than one round`);
  }
}
printTable(
  `bench:net — ${deviceCount} devices over CoAP/UDP (compact readings, signed ahead), gateways as processes on sealed loopback TCP, block interval ${blockIntervalMs} ms, ${seconds} s per row after ${values.warmup === "auto" ? "a warm-up of 10 s + 5 s per validator" : `${warmupSeconds(0)} s warm-up`}; this machine: ${Math.round(ceiling.perCore).toLocaleString("en-US")} Ed25519 verifications/s per core × ${ceiling.cores} cores`,
  ["offered load", "validators", "finalized readings/s", "send→ack p50 ms", "send→final p50 ms", "p99 ms", "blocks", "gateway CPU µs/reading", "of it main threads", "busy cores", "ceiling readings/s", "of ceiling"],
  rows,
);
console.log(`ceiling = verifications/s on all cores ÷ (1 + validators) verifications per reading; saturated rows include queueing in the latency; readings signed live during measurement: ${signedLive}.`);
