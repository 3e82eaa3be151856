// The device registry a chain-running gateway uses: the chain's own enrollments. A device is
// known here exactly when an owner-signed enrollDevice transaction is finalized, and refused as
// soon as a revocation or quarantine is, on every gateway alike (clause 9.3).
//
// Lookups sit on the hot path of every reading, so records are cached and the cache is dropped
// whenever the chain head moves (any finalized block may change a device's status).
import { toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import type { Chain } from "../chain/chain.ts";
import { deviceStatus } from "../chain/records.ts";
import { quarantineCause } from "../chain/quarantine.ts";
import type { State } from "../chain/state.ts";
import type { DeviceRecord, DeviceRegistry, DeviceStatus, EnrollOutcome } from "../devices/registry.ts";

const cachedDevicesMax = 100_000;

const statusName: Record<number, DeviceStatus> = { [deviceStatus.active]: "active", [deviceStatus.revoked]: "revoked", [deviceStatus.quarantined]: "quarantined" };

/** Enrollment over CoAP (POST /e) on a chain gateway: refused with 4.03 and what to do instead. */
export class EnrollOnChainError extends MoteError {
  readonly coapCode = "4.03";
}

function quarantineReason(state: State, deviceId: Uint8Array): string {
  return quarantineCause(state, deviceId) === "reports"
    ? "gateways reported misbehaviour; its owner may lift it"
    : "equivocation, its key is compromised; re-enroll";
}

export class ChainDeviceRegistry implements DeviceRegistry {
  private cache = new Map<string, DeviceRecord | null>();
  /** Short kid → device id; entries never change once assigned, only new ones appear. */
  private kids = new Map<string, Uint8Array>();
  private cachedAtHeight = -1;

  constructor(private readonly chain: Chain) {}

  private refresh(): void {
    const height = this.chain.head().height;
    if (height !== this.cachedAtHeight || this.cache.size >= cachedDevicesMax) {
      this.cache = new Map();
      this.cachedAtHeight = height;
    }
    if (this.kids.size >= cachedDevicesMax) this.kids = new Map();
  }

  deviceIdOfKid(kid: Uint8Array): Uint8Array | undefined {
    this.refresh();
    const key = toHex(kid);
    const hit = this.kids.get(key);
    if (hit) return hit;
    // Unknown kids are not cached: a flood of them must not evict real devices, and they may be assigned later.
    const id = this.chain.state().deviceIdOfKid(kid);
    if (id) this.kids.set(key, id);
    return id;
  }

  lookup(deviceId: Uint8Array): DeviceRecord | undefined {
    this.refresh();
    const key = toHex(deviceId);
    let record = this.cache.get(key);
    if (record === undefined) {
      const d = this.chain.state().device(deviceId);
      record = d
        ? {
            deviceId,
            publicKey: d.publicKey,
            ownerPublicKey: new Uint8Array(0), // the chain records the owner's account id, not its key
            status: statusName[d.status],
            metadata: Object.fromEntries(d.metadata),
            enrolledAtMs: 0,
            enrollment: new Uint8Array(0),
            ...(d.shortKid ? { shortKid: d.shortKid } : {}),
            ...(d.status === deviceStatus.quarantined ? { statusReason: quarantineReason(this.chain.state(), deviceId) } : {}),
          }
        : null;
      this.cache.set(key, record);
    }
    return record ?? undefined;
  }

  enroll(): EnrollOutcome {
    throw new EnrollOnChainError("ENROLL_ON_CHAIN", "this gateway follows the chain's enrollments: enroll with an enrollDevice transaction (mote device enroll <public key> --key <owner key>)");
  }

  setStatus(): boolean {
    throw new MoteError("STATUS_ON_CHAIN", "device status is the chain's: revoke with mote device revoke, quarantine comes from on-chain evidence");
  }

  list(status?: DeviceStatus): DeviceRecord[] {
    void status;
    throw new MoteError("LIST_ON_CHAIN", "list devices through the API (GET /v1/devices) or mote device list");
  }

  close(): void {}
}
