// `mote gateway start`: runs an ingest gateway from a config file and flags, until SIGINT/SIGTERM.
import type { Command } from "commander";
import { defaultConfig, loadConfigFile, mergeConfig, type GatewayConfig } from "../config.ts";
import { IngestGateway } from "../ingest/ingest-gateway.ts";
import { createLogger } from "../log.ts";
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
}

/** Defaults, then the config file, then flags: the later wins. */
export function configFromFlags(flags: StartFlags): GatewayConfig {
  let config = defaultConfig();
  if (flags.config) config = mergeConfig(config, loadConfigFile(flags.config));
  const o: Record<string, unknown> = {};
  if (flags.dataDir) o.dataDir = flags.dataDir;
  if (!flags.udp) o.udp = null;
  else if (flags.udpHost || flags.udpPort) o.udp = { host: flags.udpHost ?? config.udp?.host ?? "0.0.0.0", port: flags.udpPort === undefined ? (config.udp?.port ?? 5683) : Number(flags.udpPort) };
  if (flags.serial) o.serial = [...config.serial, ...flags.serial.map((path) => ({ path, baudRate: Number(flags.baudRate ?? 115_200) }))];
  if (flags.logLevel) o.log = { level: flags.logLevel };
  if (flags.trustOwner || flags.openEnrollment) o.enrollment = { trustedOwners: [...config.enrollment.trustedOwners, ...(flags.trustOwner ?? [])], open: flags.openEnrollment ?? config.enrollment.open };
  return mergeConfig(config, o);
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerGatewayCommands(program: Command): void {
  const gateway = program.command("gateway").description("run and inspect a gateway");
  gateway
    .command("start")
    .description("start a gateway: CoAP on UDP and serial ports, verifying, co-signing and storing device readings")
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
    .action(async (flags: StartFlags) => {
      const config = configFromFlags(flags);
      const log = createLogger({ level: config.log.level });
      const gw = await IngestGateway.start(config, log);
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
  registerDevicesCommands(gateway);
}
