// npm run bench:net — the network's end-to-end numbers for 1, 4 and 7 validators on this machine:
// gateway processes (chain on SQLite + PBFT over loopback TCP + ingest on UDP), simulated devices
// sending real signed readings over CoAP, and the time from a device's send to the block that
// finalizes its reading at the gateway it sent to. Beside them, this machine's ceiling measured in
// the same run: Ed25519 verifications per second on all its cores, divided by the verifications a
// reading costs across the network (one at the ingest gateway, one at each validator), so each
// result reads as a fraction of what the hardware could do at best.
//
//   npm run bench:net [-- --seconds 10 --devices 48 --validators 1,4,7]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { contentFormat } from "../shared/constants.ts";
import { privateKeyObject, publicKeyFromSeed, publicKeyObject, signEd25519, toHex, verifyEd25519 } from "../shared/ed25519.ts";
import { initLocalNetwork } from "../gateway/chain/local-network.ts";
import { TestCoapClient } from "../test/support/gateway-coap-client.ts";
import { TestDevice } from "../test/support/gateway-fixtures.ts";
import { NodeProcess } from "../test/consensus/process-harness.ts";
import { opsPerSecond, printTable } from "./table.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "8" }, devices: { type: "string", default: "160" }, validators: { type: "string", default: "1,4,7" }, rates: { type: "string", default: "100,0" } },
});
const seconds = Number(values.seconds);
const deviceCount = Number(values.devices);

function ed25519Ceiling(): { perCore: number; cores: number } {
  const seed = new Uint8Array(32).fill(3);
  const key = publicKeyObject(publicKeyFromSeed(seed));
  const message = new Uint8Array(120).fill(1);
  const signature = signEd25519(privateKeyObject(seed), message);
  return { perCore: opsPerSecond(() => verifyEd25519(key, message, signature), 1500), cores: availableParallelism() };
}

/** CPU seconds a process used so far (utime + stime from /proc, clock ticks of 10 ms): the whole process, and its main thread. */
function cpuSeconds(pid: number | undefined): { all: number; main: number } {
  const read = (path: string): number => {
    try {
      const fields = readFileSync(path, "utf8").replace(/^.*\) /s, "").split(" ");
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: fields 14 and 15 of stat
    } catch {
      return 0; // not Linux, or the process is gone
    }
  };
  return pid === undefined ? { all: 0, main: 0 } : { all: read(`/proc/${pid}/stat`), main: read(`/proc/${pid}/task/${pid}/stat`) };
}

const percentile = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);

/** `rate` readings/s offered in total, paced; 0: every device sends its next reading as soon as the last is acknowledged. */
async function run(n: number, rate: number): Promise<{ finalized: number; perS: number; p50: number; p99: number; heights: number; rounds: string; cpuUs: number; mainUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "mote-bench-net-"));
  const p2pBase = 47000 + n * 20;
  const net = initLocalNetwork({ dir, gateways: n, devicesOwner: true, params: { blockIntervalMs: 200, epochBlocks: 100_000, readingFee: 0 }, basePort: p2pBase });
  const owner = { privateKey: net.owner!.identity.key, publicKey: net.owner!.identity.publicKey, seed: net.owner!.identity.seed };
  const devices = Array.from({ length: deviceCount }, () => new TestDevice());
  net.genesis.devices = devices.map((d) => ({ publicKey: toHex(d.key.publicKey), owner: net.owner!.id }));
  writeFileSync(net.genesisPath, JSON.stringify(net.genesis));
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
        logLevel: process.env.BENCH_NET_LOG ?? "warn",
      }),
  );
  try {
    await Promise.all(nodes.map((x) => x.start()));
    const clients = await Promise.all(nodes.map((x) => TestCoapClient.open(x.args.udpPort!)));
    for (const c of clients) for (const d of devices) await c.request({ method: "POST", path: "e", payload: d.enrollment(owner), contentFormat: contentFormat.cbor });
    // One socket per device, as real devices have: a shared client would fan every reply out to all waiters.
    const radios = await Promise.all(devices.map((_, i) => TestCoapClient.open(nodes[i % n].args.udpPort!)));
    // Finality of a reading: the block carrying it, reported by the gateway the device sent to.
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let heights = 0;
    let measuring = false;
    nodes.forEach((node, i) => {
      node.onRawEvent = (e) => {
        if (e.event !== "finalized") return;
        const now = performance.now();
        if (i === 0 && measuring) heights++;
        for (const [device, seq] of (e.readings as [string, number][]) ?? []) {
          const key = `${i}/${device}/${seq}`;
          const t = sentAt.get(key);
          if (t === undefined) continue;
          sentAt.delete(key);
          if (measuring) latencies.push(now - t);
        }
      };
    });
    let stop = false;
    const load = devices.map(async (d, i) => {
      const gateway = i % n;
      const periodMs = rate > 0 ? (devices.length * 1000) / rate : 0;
      if (periodMs) await new Promise((r) => setTimeout(r, (i * periodMs) / devices.length));
      while (!stop) {
        const due = performance.now() + periodMs;
        const sequence = d.nextSequence++;
        const bytes = d.reading(21, sequence);
        const t = performance.now();
        const reply = await radios[i].request({ method: "POST", path: "r", payload: bytes, contentFormat: contentFormat.coseSign1 }, 5000).catch(() => undefined);
        if (reply?.code.startsWith("2.")) sentAt.set(`${gateway}/${toHex(d.deviceId)}/${sequence}`, t);
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    });
    await new Promise((r) => setTimeout(r, 2000)); // warm-up
    measuring = true;
    latencies.length = 0;
    const start = performance.now();
    const cpuBefore = nodes.map((x) => cpuSeconds(x.child?.pid));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    measuring = false;
    const cpuAfter = nodes.map((x) => cpuSeconds(x.child?.pid));
    const cpuS = cpuAfter.reduce((a, c, i) => a + c.all - cpuBefore[i].all, 0);
    const mainS = cpuAfter.reduce((a, c, i) => a + c.main - cpuBefore[i].main, 0);
    const elapsedS = (performance.now() - start) / 1000;
    stop = true;
    await Promise.all(load);
    const status = await nodes[0].status();
    if (process.env.BENCH_NET_LOG) console.error(nodes[0].stderr);
    latencies.sort((a, b) => a - b);
    await Promise.all([...clients, ...radios].map((c) => c.close()));
    return { finalized: latencies.length, perS: latencies.length / elapsedS, p50: percentile(latencies, 50), p99: percentile(latencies, 99), heights, rounds: `${status.height}`, cpuUs: (cpuS * 1e6) / Math.max(1, latencies.length), mainUs: (mainS * 1e6) / Math.max(1, latencies.length) };
  } finally {
    await Promise.all(nodes.map((x) => x.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const ceiling = ed25519Ceiling();
const rows: (string | number)[][] = [];
for (const rate of values.rates!.split(",").map(Number)) {
  for (const n of values.validators!.split(",").map(Number)) {
    const r = await run(n, rate);
    const verificationsPerReading = 1 + n; // ingest gateway + every validator (mempool admission or block validation)
    const ceilingPerS = (ceiling.perCore * ceiling.cores) / verificationsPerReading;
    rows.push([rate > 0 ? `${rate}/s paced` : "saturated", n, Math.round(r.perS), r.p50, r.p99, r.heights, verificationsPerReading, Math.round(ceilingPerS), `${((r.perS / ceilingPerS) * 100).toFixed(1)}%`, Math.round(r.cpuUs), Math.round(r.mainUs)]);
    console.error(`offered ${rate || "max"}, n=${n}: ${r.finalized} readings finalized in ${seconds} s`);
  }
}
printTable(
  `bench:net — ${deviceCount} devices over CoAP/UDP, gateways as processes on loopback TCP, block interval 200 ms, ${seconds} s per row; this machine: ${Math.round(ceiling.perCore).toLocaleString("en-US")} Ed25519 verifications/s per core × ${ceiling.cores} cores`,
  ["offered load", "validators", "finalized readings/s", "send→final p50 ms", "p99 ms", "blocks", "verifications/reading", "ceiling readings/s", "of ceiling", "gateways' CPU µs/reading", "main threads µs/reading"],
  rows,
);
console.log("ceiling = verifications/s on all cores ÷ verifications per reading; saturated rows include queueing in the latency.");
console.log("CPU µs/reading: all gateway processes' CPU time (all threads; main threads alone) during the measured seconds ÷ readings finalized, summed over gateways: what a reading costs the network. Steadier than readings/s when other work loads the machine, not immune: contention inflates it, and each block's fixed costs are shared by fewer readings when fewer finalize.");
