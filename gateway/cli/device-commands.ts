// `mote device …`: the device lifecycle an owner sees. Keys are born on the device (keygen boots
// the firmware on its flash directory); enrollment and revocation are owner-signed transactions.
import { Option, type Command } from "commander";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { sensorCatalog } from "../../shared/sensor-catalog.ts";
import { ApiClient } from "./api-client.ts";
import { hostPortArg, integerArg, secondsArg, type HostPort } from "./args.ts";
import { UsageError } from "./errors.ts";
import { apiOption } from "./chain-commands.ts";
import { ago, printFields, printJson, printTable } from "./output.ts";
import { submitTx, waitFinalized } from "./tx-author.ts";

function hexArg(hex: string, bytes: number, what: string): Uint8Array {
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(hex)) throw new UsageError("BAD_ARGUMENT", `"${hex}" is not a ${what}: give its ${bytes * 2} hex digits`);
  return fromHex(hex.toLowerCase());
}

function metadataArg(pairs: string[] = []): Map<string, string> {
  return new Map(
    pairs.map((p) => {
      const i = p.indexOf("=");
      if (i <= 0) throw new UsageError("BAD_ARGUMENT", `metadata "${p}" must be key=value`);
      return [p.slice(0, i), p.slice(i + 1)] as [string, string];
    }),
  );
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `mote device <name> <deviceId> --key <owner key>`: one owner-signed transaction about a device, awaited to finality. */
function ownerDeviceCommand(device: Command, name: string, description: string, kind: "revokeDevice" | "liftQuarantine", noun: string, done: string): void {
  device
    .command(`${name} <deviceId>`)
    .description(description)
    .requiredOption("--key <file>", "the owner's key file")
    .option(...apiOption)
    .option("--no-wait", "do not wait for finality")
    .action(async (id: string, o: { key: string; api: string; wait?: boolean }) => {
      const api = new ApiClient(o.api);
      const sent = await submitTx(api, o.key, { kind, deviceId: hexArg(id, 16, "device id") });
      console.log(`${noun} ${sent.id} submitted`);
      if (o.wait !== false) console.log(`${done} in block ${await waitFinalized(api, sent.id)}`);
    });
}

export function registerDeviceCommands(program: Command): void {
  const device = program.command("device").description("device identities, enrollment and history");

  device
    .command("keygen")
    .description("boot the firmware on a board's flash directory so it creates its own key (or reads the one it has); prints its public key and id")
    .requiredOption("--flash <dir>", "the board's flash directory (slot files)")
    .action(async (o: { flash: string }) => {
      // The emulator (and the board, for `run`) load with the commands that boot firmware.
      const [{ Firmware }, { SlotStore }, { RealClock }] = await Promise.all([import("../../hardware/emulator/firmware.ts"), import("../../hardware/emulator/slot-store.ts"), import("../../hardware/emulator/clock.ts")]);
      const fw = new Firmware({ clock: new RealClock(), slots: new SlotStore(o.flash), send: () => false, log: () => {} });
      fw.init(0);
      const { publicKey, deviceId } = fw.identity();
      printFields({ "device id": toHex(deviceId), "public key": toHex(publicKey), flash: o.flash });
      console.log("enroll it with: mote device enroll <public key> --key <owner key file>");
    });

  device
    .command("flash <firmware>")
    .description("flash a signed firmware image to a board over its serial line (CoAP Block1 over SLIP); resumes where a cut cable stopped it, and prints the version the board booted")
    .requiredOption("--port <tty>", "the board's serial port")
    .requiredOption("--manifest <file>", "the image's signed manifest (mote firmware sign)")
    .option("--baud <n>", "baud rate", integerArg(1200, 4_000_000, "a baud rate"), 115_200)
    .action(async (firmware: string, o: { port: string; manifest: string; baud: number }) => (await import("./device-flash.ts")).flashDevice({ firmware, ...o }));

  device
    .command("run")
    .description("run a board emulator with the real firmware on a flash directory, sending a reading every interval until Ctrl-C or --count readings; exit 0 when all were acknowledged, 3 when unacknowledged within CoAP's retransmission limits, 4 when the gateway refused one")
    .requiredOption("--flash <dir>", "the board's flash directory (its identity lives there; mote device keygen makes one)")
    .option("--create", "create the flash directory and a new device identity if it has none")
    .addOption(new Option("--gateway <host:port>", "a gateway's CoAP address over UDP").argParser(hostPortArg("the gateway's CoAP address", "127.0.0.1:5683")).default({ host: "127.0.0.1", port: 5683 }, "127.0.0.1:5683"))
    .option("--serial <path>", "send over this serial port (SLIP) instead of UDP")
    .option("--sensor <n>", `catalog sensor 0-${sensorCatalog.length - 1}: ${sensorCatalog.map((s) => s.name).join(", ")}`, integerArg(0, sensorCatalog.length - 1, "a catalog sensor"), 0)
    .option("--interval <s>", "seconds between readings", secondsArg(86_400), 5)
    .option("--count <n>", "stop after this many readings, once each is answered", integerArg(1, 1_000_000, "a reading count"))
    .addOption(new Option("--clock-speed <n>", "run the firmware's clock n times faster (tests)").argParser(integerArg(1, 1000, "a clock speed")).hideHelp())
    .action(async (o: { flash: string; create?: boolean; gateway: HostPort; serial?: string; sensor: number; interval: number; count?: number; clockSpeed?: number }) =>
      (await import("./device-run.ts")).runDevice({ flash: o.flash, create: o.create, gateway: o.gateway, serial: o.serial, sensor: o.sensor, intervalS: o.interval, count: o.count, clockSpeed: o.clockSpeed }),
    );

  device
    .command("enroll <publicKey>")
    .description("enroll a device on chain, owned by the key file's account")
    .requiredOption("--key <file>", "the owner's key file")
    .option("--meta <key=value>", "device metadata (repeatable)", collect)
    .option("--ttl-days <n>", "how long the device's readings are kept (0: forever)", integerArg(0, 36_500, "a number of days"), 0)
    .option(...apiOption)
    .option("--no-wait", "do not wait for finality")
    .action(async (pub: string, o: { key: string; meta?: string[]; ttlDays: number; api: string; wait?: boolean }) => {
      const api = new ApiClient(o.api);
      const sent = await submitTx(api, o.key, { kind: "enrollDevice", devicePublicKey: hexArg(pub, 32, "device public key"), metadata: metadataArg(o.meta), ttlDays: o.ttlDays });
      console.log(`enrollment ${sent.id} submitted`);
      if (o.wait !== false) console.log(`device enrolled in block ${await waitFinalized(api, sent.id)}`);
    });

  ownerDeviceCommand(device, "revoke", "revoke a device you own: every gateway refuses its readings from then on", "revokeDevice", "revocation", "device revoked");
  device
    .command("verify <deviceId> <sequence>")
    .description("check a finalized reading's provenance from --genesis alone: its digest is on chain and, unless it expired, its device signed the bytes")
    .requiredOption("--genesis <file>", "the network's genesis.json")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (id: string, seq: string, o: { genesis: string; api: string; json?: boolean }) => {
      if (!/^\d+$/.test(seq)) throw new UsageError("BAD_ARGUMENT", `sequence must be a whole number, got ${seq}`);
      const api = new ApiClient(o.api);
      const provenance = await api.get(`v1/devices/${toHex(hexArg(id, 16, "device id"))}/readings/${seq}`);
      // Loaded only here: the verifier brings the chain's codecs.
      const [{ genesisBlock, readGenesisFile }, { verifyReadingProvenance }] = await Promise.all([import("../chain/genesis.ts"), import("./verify-reading.ts")]);
      const g = genesisBlock(readGenesisFile(o.genesis));
      const r = await verifyReadingProvenance({ provenance, genesis: { header: g.header, validators: g.validators }, moreTransitions: (from) => api.get(`v1/epochs?from=${from}&limit=256`) });
      if (o.json) return printJson(r);
      printFields({ reading: `${r.deviceId}/${r.sequence}`, digest: r.digest, block: r.height, "certified head": r.headHeight });
      console.log(r.expired ? "verified from genesis: the digest is final on chain; the reading expired, its bytes are pruned on every gateway" : "verified from genesis: the device signed these bytes and their digest is final on chain");
    });

  device
    .command("retention <seconds>")
    .description("set how long the chain keeps your devices' reading values (0: forever): past it their bytes and payloads are pruned on every gateway, digests stay provable (docs/expiry.md)")
    .requiredOption("--key <file>", "the owner's key file")
    .option("--device <id>", "one device you own (default: all of your devices, present and future, that have no retention of their own)")
    .option(...apiOption)
    .option("--no-wait", "do not wait for finality")
    .action(async (seconds: string, o: { key: string; device?: string; api: string; wait?: boolean }) => {
      if (!/^\d+$/.test(seconds)) throw new UsageError("BAD_RETENTION", `retention must be whole seconds (0: forever), got ${seconds}`);
      const api = new ApiClient(o.api);
      const sent = await submitTx(api, o.key, { kind: "setRetention", deviceId: o.device ? hexArg(o.device, 16, "device id") : null, seconds: Number(seconds) });
      console.log(`retention ${sent.id} submitted`);
      if (o.wait !== false) console.log(`retention set in block ${await waitFinalized(api, sent.id)}`);
    });

  ownerDeviceCommand(device, "lift", "lift the quarantine gateways' reports put on a device you own (a quarantine for equivocation cannot be lifted: that key is compromised)", "liftQuarantine", "lift", "quarantine lifted");

  device
    .command("list")
    .description("devices enrolled on chain")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (o: { api: string; json?: boolean }) => {
      const page = await new ApiClient(o.api).get("v1/devices?limit=200");
      if (o.json) return printJson(page);
      printTable(["device", "status", "owner", "last seq", "readings", "last reading"], page.items.map((d: any) => [d.id, d.status, d.owner, d.lastSequence, d.readings, d.lastReading ? ago(d.lastReading.receivedAtMs) : "-"]));
    });

  device
    .command("show <deviceId>")
    .description("one device: key, owner, status, sequence, last reading")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (id: string, o: { api: string; json?: boolean }) => {
      hexArg(id, 16, "device id");
      const d = await new ApiClient(o.api).get(`v1/devices/${id}`);
      if (o.json) return printJson(d);
      printFields({ device: d.id, "public key": d.publicKey, owner: d.owner, status: d.status, "enrolled at block": d.enrolledHeight, "last sequence": d.lastSequence, readings: d.readings, evidence: d.evidence, metadata: d.metadata, "last reading": d.lastReading ? `seq ${d.lastReading.sequence}, ${ago(d.lastReading.receivedAtMs)}, block ${d.lastReading.height}` : "-" });
    });
}
