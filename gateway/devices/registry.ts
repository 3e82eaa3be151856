// Who may send readings: the device registry, looked up by device id on every reading. This is the
// interface the ingest pipeline depends on; the SQLite implementation (sqlite-registry.ts) serves
// a stand-alone gateway, and the chain will provide one backed by on-chain enrollments.

export type DeviceStatus = "active" | "pending" | "revoked" | "quarantined";

export interface DeviceRecord {
  deviceId: Uint8Array; // 16 bytes, deviceIdFromPublicKey(publicKey)
  publicKey: Uint8Array; // Ed25519, 32 bytes
  ownerPublicKey: Uint8Array; // the key that signed the enrollment
  status: DeviceStatus;
  metadata: Record<string, string | number>;
  enrolledAtMs: number;
  /** The owner-signed enrollment bytes (shared/enrollment.ts), kept as evidence. */
  enrollment: Uint8Array;
  /** Its short kid on chain (shared/short-kid.ts); absent on a registry without a chain or for devices enrolled before short kids. */
  shortKid?: Uint8Array;
  /** Why a quarantined device is refused, in words a device owner can act on (chain registries only). */
  statusReason?: string;
}

export type EnrollOutcome = "created" | "unchanged" | "updated";

export interface DeviceRegistry {
  /** Synchronous: it sits on the hot path of every reading. */
  lookup(deviceId: Uint8Array): DeviceRecord | undefined;
  /** The device id a short kid stands for (compact readings, shared/reading.ts); synchronous for the same reason. */
  deviceIdOfKid(kid: Uint8Array): Uint8Array | undefined;
  /** Inserts or updates the record of the same device and owner; the caller checked policy. */
  enroll(record: DeviceRecord): EnrollOutcome;
  setStatus(deviceId: Uint8Array, status: DeviceStatus): boolean;
  list(status?: DeviceStatus): DeviceRecord[];
  close(): void;
}
