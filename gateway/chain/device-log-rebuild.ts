// Device logs rebuilt from the readings index: each device's readings in log order appended again
// (device-log.ts), and the result held to the log its certified record commits to. Used where the
// stored logs cannot be trusted or were not kept: a snapshot being installed (snapshot/verify.ts),
// and a file migrated from storage schema 3 or older, whose readings index recovery rebuilds
// from the bodies first (recover.ts; storage/schema.ts version 6).
import { fromHex, toHex } from "../../shared/ed25519.ts";
import type { ChainStore } from "../storage/chain-store.ts";
import { logAppend, readingLeafData } from "./device-log.ts";
import { State } from "./state.ts";

/** A device whose readings rows do not give the log its record commits to. */
export class DeviceLogMismatch extends Error {
  override name = "DeviceLogMismatch";
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

type LogRow = { seq: number; digest: Buffer; height: number; tx_idx: number; pos: number; gateway: Buffer; received_ms: number; log_idx: number };

/** Rewrites every device's log rows from its readings rows, one transaction per device; returns how many devices. */
export function rebuildDeviceLogs(store: ChainStore): number {
  const state = new State(store);
  const rows = store.db.prepare<[Buffer], LogRow>("SELECT seq, digest, height, tx_idx, pos, gateway, received_ms, log_idx FROM device_readings WHERE device = ? ORDER BY log_idx");
  const clear = store.db.prepare("DELETE FROM device_log WHERE (height, tx_idx, pos) IN (SELECT height, tx_idx, pos FROM device_readings WHERE device = ?)");
  let devices = 0;
  for (const [key] of [...store.stateEntries("device/")]) { // read all first: the loop writes
    const id = fromHex(key.slice("device/".length));
    const device = state.device(id)!;
    let frontier: Uint8Array[] = [];
    const nodes: ReturnType<typeof logAppend>["nodes"] = [];
    const readings = rows.all(Buffer.from(id));
    readings.forEach((r, i) => {
      if (r.log_idx !== i) throw new DeviceLogMismatch(`device ${toHex(id)}: reading ${r.seq} rebuilt at log position ${r.log_idx}, expected ${i}`);
      const appended = logAppend(id, frontier, i, readingLeafData({ sequence: r.seq, digest: u8(r.digest), height: r.height, gatewayId: u8(r.gateway), receivedAtMs: r.received_ms }));
      frontier = appended.frontier;
      nodes.push(...appended.nodes);
    });
    const sameFrontier = frontier.length === device.logFrontier.length && frontier.every((f, i) => same(f, device.logFrontier[i]));
    if (readings.length !== device.readings || !sameFrontier) {
      throw new DeviceLogMismatch(`device ${toHex(id)}: the readings index (${readings.length} readings) does not give the reading log its certified record commits to (${device.readings} readings)`);
    }
    const leaves = readings.map((r) => ({ deviceId: id, logIndex: r.log_idx, height: r.height, txIndex: r.tx_idx, position: r.pos }));
    store.db.transaction(() => {
      clear.run(Buffer.from(id));
      store.deviceLogs.write(nodes, leaves);
    })();
    devices += 1;
  }
  return devices;
}
