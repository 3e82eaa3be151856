// `mote gateway start`: runs a gateway from a config file and flags, until SIGINT/SIGTERM: ingest
// alone, or with --genesis/--key the whole node (chain, consensus, API; gateway/node/).
import type { Command } from "commander";
import { defaultConfig, loadConfigFile, mergeConfig, type GatewayConfig } from "../config.ts";
import { configFromEnv } from "../config-env.ts";
import { registerDevicesCommands } from "./devices-command.ts";

export interface StartFlags {
  config?: string;
  dataDir?: string;
  udpHost?: string;
  udpPort?: string;
  udp: boolean;
  serial?: string[];
  baudRate?: string;
  logLevel?: string;
  trustOwner?: string[];
  openEnrollment?: boolean;
  genesis?: string;
  key?: string;
  consensus?: string;
  p2pHost?: string;
  p2pPort?: string;
  peer?: string[];
  apiHost?: string;
  apiPort?: string;
  api?: boolean;
  payloadPeer?: string[];
}

/** Defaults, then the config file, then MOTE_* environment variables, then flags: the later wins. */
export function configFromFlags(flags: StartFlags, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let config = defaultConfig();
  if (flags.config) config = mergeConfig(config, loadConfigFile(flags.config));
  const fromEnv = configFromEnv(env, config);
  if (Object.keys(fromEnv).length > 0) config = mergeConfig(config, fromEnv);
  const o: Record<string, unknown> = {};
  if (flags.dataDir) o.dataDir = flags.dataDir;
  if (!flags.udp) o.udp = null;
  else if (flags.udpHost || flags.udpPort) o.udp = { host: flags.udpHost ?? config.udp?.host ?? "0.0.0.0", port: flags.udpPort === undefined ? (config.udp?.port ?? 5683) : Number(flags.udpPort) };
  if (flags.serial) o.serial = [...config.serial, ...flags.serial.map((path) => ({ path, baudRate: Number(flags.baudRate ?? 115_200) }))];
  if (flags.logLevel) o.log = { level: flags.logLevel };
  if (flags.trustOwner || flags.openEnrollment) o.enrollment = { trustedOwners: [...config.enrollment.trustedOwners, ...(flags.trustOwner ?? [])], open: flags.openEnrollment ?? config.enrollment.open };
  if (flags.genesis || flags.key || flags.consensus || flags.p2pHost || flags.p2pPort || flags.peer) {
    const n = config.network;
    o.network = {
      ...(flags.genesis || !n ? { genesis: flags.genesis ?? "" } : {}),
      ...(flags.key || !n ? { key: flags.key ?? "" } : {}),
      ...(flags.consensus ? { consensus: flags.consensus } : {}),
      ...(flags.p2pHost || flags.p2pPort ? { p2p: { host: flags.p2pHost ?? n?.p2p.host ?? "127.0.0.1", port: Number(flags.p2pPort ?? n?.p2p.port ?? 7401) } } : {}),
      ...(flags.peer ? { peers: [...(n?.peers ?? []), ...flags.peer] } : {}),
    };
  }
  if (flags.payloadPeer) o.payloads = { peers: [...config.payloads.peers, ...flags.payloadPeer] };
  if (flags.api === false) o.api = null;
  else if (flags.apiHost || flags.apiPort) o.api = { host: flags.apiHost ?? config.api?.host ?? "127.0.0.1", port: Number(flags.apiPort ?? config.api?.port ?? 8080) };
  else if (!config.api && (flags.genesis || config.network)) o.api = { host: "127.0.0.1", port: 8080 };
  return mergeConfig(config, o);
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command("gateway").description("run and inspect a gateway");
  gateway
    .command("start")
    .description("start a gateway: CoAP on UDP and serial ports verifying and co-signing device readings; with --genesis and --key also the chain, consensus and the HTTP API")
    .option("--config <file>", "JSON config file (see gateway/config.ts)")
    .option("--data-dir <dir>", "where the gateway keeps its key and databases")
    .option("--udp-host <host>", "UDP address to bind")
    .option("--udp-port <port>", "UDP port (0: any free port; default 5683)")
    .option("--no-udp", "do not listen on UDP")
    .option("--serial <path>", "serial port speaking SLIP-framed CoAP (repeatable)", collect)
    .option("--baud-rate <n>", "baud rate for --serial ports", "115200")
    .option("--trust-owner <hex>", "owner public key whose enrollments are accepted (repeatable)", collect)
    .option("--open-enrollment", "accept enrollments from any owner (development only)")
    .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent")
    .option("--genesis <file>", "run the chain of this genesis file (mote net init writes one)")
    .option("--key <file>", "this gateway's key file (its validator and co-signing identity)")
    .option("--consensus <mode>", "pbft (with the other validators) or solo (single validator, development)")
    .option("--p2p-host <host>", "address for consensus peers (default 127.0.0.1)")
    .option("--p2p-port <port>", "port for consensus peers (default 7401)")
    .option("--peer <host:port>", "a peer gateway to dial (repeatable)", collect)
    .option("--api-host <host>", "HTTP API address (default 127.0.0.1)")
    .option("--api-port <port>", "HTTP API, dashboard and /metrics port (default 8080)")
    .option("--no-api", "do not serve the HTTP API")
    .option("--payload-peer <url>", "another gateway's API (http://host:port) to fetch anchored payloads from (repeatable; docs/payloads.md)", collect)
    .action(async (flags: StartFlags) => {
      // Loaded here, not at the top: the node (fastify, SQLite, CoAP, pino) costs every other command's start.
      const [{ GatewayNode }, { createLogger }] = await Promise.all([import("../node/gateway-node.ts"), import("../log.ts")]);
      const config = configFromFlags(flags);
      const log = createLogger({ level: config.log.level });
      const gw = await GatewayNode.start(config, log);
      if (gw.apiUrl) console.error(`gateway API ${gw.apiUrl}  dashboard ${gw.apiUrl}/dashboard/`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, "stopping");
          resolve();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await gw.close();
    });
  gateway
    .command("join")
    .description("start a gateway's data directory from a peer's chain snapshot, verified from the genesis file alone (a new gateway, or one behind the peers' pruning horizon); then run `mote gateway start`")
    .requiredOption("--from <url>", "a peer gateway's API, http://host:port")
    .requiredOption("--genesis <file>", "the network's genesis file: the snapshot must verify against it")
    .requiredOption("--data-dir <dir>", "the data directory to start (its key and other files are kept)")
    .option("--replace", "replace a chain store the data directory already holds")
    .action(async (flags: { from: string; genesis: string; dataDir: string; replace?: boolean }) => {
      const [{ joinFromSnapshot }, { readGenesisFile }] = await Promise.all([import("../snapshot/join.ts"), import("../chain/genesis.ts")]);
      let shownMiB = -1;
      const report = await joinFromSnapshot({
        from: flags.from,
        genesis: readGenesisFile(flags.genesis),
        dataDir: flags.dataDir,
        replace: flags.replace,
        onProgress: (bytes, total) => {
          const mib = Math.floor(bytes / 2 ** 20);
          if (mib === shownMiB) return;
          shownMiB = mib;
          process.stderr.write(`\rdownloading ${mib} MiB${total ? ` of ${(total / 2 ** 20).toFixed(1)} MiB` : ""}`);
        },
      });
      process.stderr.write("\n");
      console.log(JSON.stringify(report));
      console.error(`joined at height ${report.tipHeight} (state root ${report.stateRoot}, ${report.epochsWalked} epochs walked, ${report.prunedBlocks} pruned blocks); now run: mote gateway start --data-dir ${flags.dataDir} ...`);
    });
  registerDevicesCommands(gateway);
}
