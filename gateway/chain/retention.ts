// Retention policy (issue 13 item 1, source document 8.3): how long a device's reading payloads are
// kept. Policy is state, so every gateway judges expiry alike (expiry.ts prunes by it):
//
//   retention(device) = `retention/device/<id>` if set, else `retention/owner/<owner id>` if set,
//                       else the device's enrollment ttlDays × 86,400 s;  0 = keep forever.
//
// setRetention (tx 18) `[device id / null, seconds]`: the owner sets one device's retention, or (null)
// the default for all of its devices, present and future. Records are absent until such a
// transaction, so chains without one keep their state roots. Writing the enrollment default back
// still writes a record (a chosen policy, not the absence of one).
import { decode, type CborValue } from "../../shared/cbor.ts";
import { toHex } from "../../shared/ed25519.ts";
import type { DecodedTx, TxBody } from "../../shared/tx.ts";
import { invariant, reject } from "./errors.ts";
import { stateKey } from "./keys.ts";
import type { Device } from "./records.ts";
import type { State } from "./state.ts";

/** At most ~136 years: keeps seconds × 1000 far below 2^53. */
export const retentionSecondsMax = 2 ** 32;
const secondsPerDay = 86_400;

const seconds = (v: CborValue): number => {
  invariant(typeof v === "number" && Number.isSafeInteger(v) && v >= 0, "a retention record is an unsigned integer of seconds");
  return v;
};

/** Reads a retention record through any key-value view (State overlay or the chain store). */
export function retentionRecord(get: (key: string) => Uint8Array | undefined, key: string): number | undefined {
  const v = get(key);
  return v === undefined ? undefined : seconds(decode(v, { depthMax: 1, itemsMax: 1, bytesMax: 16 }));
}

/** The retention in force for a device, in seconds (0: forever). */
export function deviceRetentionSeconds(get: (key: string) => Uint8Array | undefined, deviceId: Uint8Array, device: Pick<Device, "owner" | "ttlDays">): number {
  return retentionRecord(get, stateKey.deviceRetention(deviceId)) ?? retentionRecord(get, stateKey.ownerRetention(device.owner)) ?? device.ttlDays * secondsPerDay;
}

export function applySetRetention(state: State, tx: DecodedTx, body: Extract<TxBody, { kind: "setRetention" }>): void {
  if (body.seconds > retentionSecondsMax) reject("RETENTION_OUT_OF_RANGE", `retention ${body.seconds} s is over ${retentionSecondsMax} s; use 0 to keep readings forever`);
  if (body.deviceId === null) {
    state.write(stateKey.ownerRetention(tx.authorId), body.seconds);
    return;
  }
  const d = state.device(body.deviceId);
  if (!d) reject("DEVICE_UNKNOWN", `device ${toHex(body.deviceId)} is not enrolled`);
  if (Buffer.compare(d.owner, tx.authorId) !== 0) reject("DEVICE_NOT_OWNER", `only the owner ${toHex(d.owner)} may set device ${toHex(body.deviceId)}'s retention`);
  state.write(stateKey.deviceRetention(body.deviceId), body.seconds);
}
