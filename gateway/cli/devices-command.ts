// `mote gateway devices …`: the operator's view of the device registry of a gateway's data
// directory. Safe while the gateway runs: SQLite serializes the writes, and the running gateway
// notices the change (registry data_version) on its next lookup.
import type { Command } from "commander";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import type { DeviceStatus } from "../devices/registry.ts";
// SQLite and the stores load with the command that uses them, not with every `mote` start.
import type { SqliteDeviceRegistry } from "../devices/sqlite-registry.ts";

const dataDirOption = ["--data-dir <dir>", "the gateway's data directory", ".moteledger/gateway"] as const;

async function withRegistry<T>(dataDir: string, fn: (r: SqliteDeviceRegistry) => T): Promise<T> {
  const { SqliteDeviceRegistry } = await import("../devices/sqlite-registry.ts");
  const registry = SqliteDeviceRegistry.open(dataDir);
  try {
    return fn(registry);
  } finally {
    registry.close();
  }
}

function deviceIdArg(hex: string): Uint8Array {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new MoteError("BAD_DEVICE_ID", `"${hex}" is not a device id: give its 32 hex digits (see \`mote gateway devices list\`)`);
  return fromHex(hex.toLowerCase());
}

async function setStatus(dataDir: string, hex: string, status: DeviceStatus): Promise<void> {
  const ok = await withRegistry(dataDir, (r) => r.setStatus(deviceIdArg(hex), status));
  if (!ok) throw new MoteError("UNKNOWN_DEVICE", `device ${hex} is not in ${dataDir}; it must enroll first (POST /e)`);
  console.log(`device ${hex} is now ${status}`);
}

export function registerDevicesCommands(gateway: Command): void {
  const devices = gateway.command("devices").description("list, approve and revoke devices");
  devices
    .command("list")
    .description("devices known to this gateway, with their misbehaviour counters")
    .option(...dataDirOption)
    .option("--status <status>", "only active, pending, revoked or quarantined devices")
    .action(async (o: { dataDir: string; status?: DeviceStatus }) => {
      const { PendingStore } = await import("../ingest/pending-store.ts");
      const store = PendingStore.open(o.dataDir);
      try {
        await withRegistry(o.dataDir, (r) => {
          for (const d of r.list(o.status)) {
            const bad = Object.entries(store.misbehaviour(d.deviceId)).map(([c, n]) => `${c}=${n}`).join(" ");
            console.log(`${toHex(d.deviceId)}  ${d.status.padEnd(11)} owner ${toHex(d.ownerPublicKey).slice(0, 16)}…  ${JSON.stringify(d.metadata)}${bad ? `  ${bad}` : ""}`);
          }
        });
      } finally {
        store.close();
      }
    });
  devices.command("approve <deviceId>").description("activate a device queued for approval").option(...dataDirOption).action((id: string, o: { dataDir: string }) => setStatus(o.dataDir, id, "active"));
  devices.command("revoke <deviceId>").description("refuse a device's readings from now on").option(...dataDirOption).action((id: string, o: { dataDir: string }) => setStatus(o.dataDir, id, "revoked"));
}
