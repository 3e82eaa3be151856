// `mote device …`: the device lifecycle an owner sees. Keys are born on the device (keygen boots
// the firmware on its flash directory); enrollment and revocation are owner-signed transactions.
import type { Command } from "commander";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import { Firmware } from "../../hardware/emulator/firmware.ts";
import { SlotStore } from "../../hardware/emulator/slot-store.ts";
import { RealClock } from "../../hardware/emulator/clock.ts";
import { ApiClient } from "./api-client.ts";
import { Board, type BoardLink } from "../../hardware/emulator/board.ts";
import { Fleet } from "../../hardware/emulator/fleet.ts";
import { apiOption } from "./chain-commands.ts";
import { ago, printFields, printJson, printTable } from "./output.ts";
import { submitTx, waitFinalized } from "./tx-author.ts";

function hexArg(hex: string, bytes: number, what: string): Uint8Array {
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(hex)) throw new MoteError("BAD_ARGUMENT", `"${hex}" is not a ${what}: give its ${bytes * 2} hex digits`);
  return fromHex(hex.toLowerCase());
}

function metadataArg(pairs: string[] = []): Map<string, string> {
  return new Map(
    pairs.map((p) => {
      const i = p.indexOf("=");
      if (i <= 0) throw new MoteError("BAD_ARGUMENT", `metadata "${p}" must be key=value`);
      return [p.slice(0, i), p.slice(i + 1)] as [string, string];
    }),
  );
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerDeviceCommands(program: Command): void {
  const device = program.command("device").description("device identities, enrollment and history");

  device
    .command("keygen")
    .description("boot the firmware on a board's flash directory so it creates its own key (or reads the one it has); prints its public key and id")
    .requiredOption("--flash <dir>", "the board's flash directory (slot files)")
    .action((o: { flash: string }) => {
      const fw = new Firmware({ clock: new RealClock(), slots: new SlotStore(o.flash), send: () => false, log: () => {} });
      fw.init(0);
      const { publicKey, deviceId } = fw.identity();
      printFields({ "device id": toHex(deviceId), "public key": toHex(publicKey), flash: o.flash });
      console.log("enroll it with: mote device enroll <public key> --key <owner key file>");
    });

  device
    .command("run")
    .description("run a board emulator with the real firmware on a flash directory, sending a reading every interval until Ctrl-C")
    .requiredOption("--flash <dir>", "the board's flash directory (its identity lives there)")
    .option("--gateway <host:port>", "a gateway's CoAP address over UDP", "127.0.0.1:5683")
    .option("--serial <path>", "send over this serial port (SLIP) instead of UDP")
    .option("--sensor <n>", "catalog sensor 0-5: temp, hum, pres, batt, lux, co2", "0")
    .option("--interval <s>", "seconds between readings", "5")
    .option("--count <n>", "stop after this many readings")
    .action(async (o: { flash: string; gateway: string; serial?: string; sensor: string; interval: string; count?: string }) => {
      const [host, port] = [o.gateway.slice(0, o.gateway.lastIndexOf(":")), Number(o.gateway.slice(o.gateway.lastIndexOf(":") + 1))];
      const link: BoardLink = o.serial ? { kind: "serial", path: o.serial } : { kind: "udp", host, port };
      const board = await Board.boot({ dataDir: o.flash, link, log: (level, m) => level >= 2 && console.error(`firmware: ${m}`) });
      console.log(`device ${board.deviceIdHex} sending to ${o.serial ?? o.gateway}`);
      const fleet = new Fleet([{ board, sensor: Number(o.sensor), label: "cli" }]);
      fleet.start(Number(o.interval) * 1000);
      const report = setInterval(() => {
        const t = fleet.totals();
        console.log(`signed ${t.signed}, acknowledged ${t.acked}, refused ${t.rejected}, next sequence ${board.stat("sequenceNext")}`);
        if (o.count && t.acked + t.rejected >= Number(o.count)) void stop();
      }, Number(o.interval) * 1000);
      const stop = async () => {
        clearInterval(report);
        await fleet.stop();
        process.exit(0);
      };
      process.once("SIGINT", () => void stop());
    });

  device
    .command("enroll <publicKey>")
    .description("enroll a device on chain, owned by the key file's account")
    .requiredOption("--key <file>", "the owner's key file")
    .option("--meta <key=value>", "device metadata (repeatable)", collect)
    .option("--ttl-days <n>", "how long the device's readings are kept (0: forever)", "0")
    .option(...apiOption)
    .option("--no-wait", "do not wait for finality")
    .action(async (pub: string, o: { key: string; meta?: string[]; ttlDays: string; api: string; wait?: boolean }) => {
      const api = new ApiClient(o.api);
      const sent = await submitTx(api, o.key, { kind: "enrollDevice", devicePublicKey: hexArg(pub, 32, "device public key"), metadata: metadataArg(o.meta), ttlDays: Number(o.ttlDays) });
      console.log(`enrollment ${sent.id} submitted`);
      if (o.wait !== false) console.log(`device enrolled in block ${await waitFinalized(api, sent.id)}`);
    });

  device
    .command("revoke <deviceId>")
    .description("revoke a device you own: every gateway refuses its readings from then on")
    .requiredOption("--key <file>", "the owner's key file")
    .option(...apiOption)
    .option("--no-wait", "do not wait for finality")
    .action(async (id: string, o: { key: string; api: string; wait?: boolean }) => {
      const api = new ApiClient(o.api);
      const sent = await submitTx(api, o.key, { kind: "revokeDevice", deviceId: hexArg(id, 16, "device id") });
      console.log(`revocation ${sent.id} submitted`);
      if (o.wait !== false) console.log(`device revoked in block ${await waitFinalized(api, sent.id)}`);
    });

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
