// The ingest pipeline, transport-free: bytes of a COSE_Sign1 reading in, an outcome out.
//
//   decode → look up device → durable backlog (backlog.ts), for a new reading → verify Ed25519
//   (node:crypto, cached keys) → replay window → durable backlog again → rate limit → co-sign and
//   commit (group-commit.ts) → "accepted"
//
// A retransmitted or re-sent reading whose exact bytes were already accepted is "duplicate" and
// gets the same 2.01 again, never a second record; if it is still being committed, the duplicate
// waits for that same commit. Everything else raises IngestError with its CoAP code.
import type { Logger } from "pino";
import { PublicKeyCache, toHex, verifyEd25519Async } from "../../shared/ed25519.ts";
import { ReadingError } from "../../shared/errors.ts";
import { payloadAnchors } from "../../shared/payload-anchor.ts";
import { readingBytesMax, sigStructure, type SignedReading } from "../../shared/reading.ts";
import { decodedReadings } from "../../shared/decoded-readings.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import type { DeviceRecord, DeviceRegistry } from "../devices/registry.ts";
import { LogThrottle } from "../log.ts";
import { IngestError, misbehaviourCodes, type IngestCode } from "./errors.ts";
import type { Backlog } from "./backlog.ts";
import type { GroupCommit } from "./group-commit.ts";
import { LruMap } from "./lru.ts";
import type { MisbehaviourCounters } from "./misbehaviour.ts";
import type { IngestOptions } from "./options.ts";
import type { PendingStore } from "./pending-store.ts";
import { TokenBucket } from "../token-bucket.ts";
import { verifiedReadings } from "../../shared/verified-readings.ts";
import { ReplayWindow } from "./replay-window.ts";

/**
 * `records`: the reading's SenML records, decoded here so later steps (the firmware offer) need not decode it again.
 * `shortKid`: the device's short kid, when it signed a compact reading under its long kid and should learn it.
 */
export type IngestOutcome = { kind: "accepted" | "duplicate"; deviceId: Uint8Array; sequence: number; records: SenmlRecord[]; batchId: number; shortKid?: Uint8Array };

export interface IngestCounters {
  accepted: number;
  duplicates: number;
  rejected: Partial<Record<IngestCode, number>>;
}

interface DeviceState {
  window: ReplayWindow;
  bucket: TokenBucket;
}

interface Inflight {
  digest: Uint8Array;
  committed: Promise<number>;
}

export interface PipelineDeps {
  registry: DeviceRegistry;
  store: PendingStore;
  commits: GroupCommit;
  misbehaviour: MisbehaviourCounters;
  keys: PublicKeyCache;
  options: IngestOptions;
  log: Logger;
  /** Refuses new readings with 5.03 while too many acknowledged ones wait for the chain. */
  backlog?: Backlog;
  nowMs?: () => number;
}

export class IngestPipeline {
  readonly counters: IngestCounters = { accepted: 0, duplicates: 0, rejected: {} };
  private readonly devices: LruMap<string, DeviceState>;
  /** Readings accepted and being committed, by "device/seq"; bounded by the commit queue. */
  private readonly inflight = new Map<string, Inflight>();
  private readonly throttle = new LogThrottle();
  private readonly nowMs: () => number;

  constructor(private readonly deps: PipelineDeps) {
    this.devices = new LruMap(deps.options.devicesCachedMax);
    this.nowMs = deps.nowMs ?? Date.now;
  }

  /** Ingests one reading; resolves once it is durably stored, or rejects with an IngestError. */
  async ingest(bytes: Uint8Array, source = "?"): Promise<IngestOutcome> {
    let reading: SignedReading | undefined;
    try {
      let digest: Uint8Array;
      ({ reading, digest } = this.decode(bytes));
      const { device, shortKid } = this.device(reading);
      const key = `${toHex(reading.deviceId)}/${reading.sequence}`;
      // A new reading the chain cannot take soon is refused before its signature costs anything
      // (under overload that verification is CPU the validators need); a repeat still gets its answer.
      if (!this.inflight.has(key) && this.state(reading.deviceId).window.check(reading.sequence) === "new") this.refuseForBacklog();
      await this.authenticate(reading, digest, device);
      const state = this.state(reading.deviceId);
      // From here to inflight.set there is no await: two copies of one reading cannot both pass.
      const verdict = state.window.check(reading.sequence);
      const inflight = this.inflight.get(key);
      if (inflight || verdict !== "new") return { ...(await this.repeat(reading, digest, inflight, verdict === "stale")), ...(shortKid ? { shortKid } : {}) };
      // Again (the backlog may have grown while the signature was checked), and before the rate
      // bucket: a reading refused for the chain's sake costs the device no token.
      this.refuseForBacklog();
      const retryAfterS = state.bucket.take(this.nowMs()) ? 0 : state.bucket.retryAfterS();
      if (retryAfterS > 0) throw new IngestError("RATE_LIMITED", `over ${this.deps.options.rateReadingsPerS} readings/s; retry in ${retryAfterS} s`, retryAfterS);
      const committed = this.deps.commits.submit({ deviceId: reading.deviceId, sequence: reading.sequence, digest, cose: bytes, receivedAtMs: Date.now() });
      this.inflight.set(key, { digest, committed });
      let batchId: number;
      try {
        batchId = await committed;
        state.window.mark(reading.sequence);
        this.deps.backlog?.added();
      } finally {
        this.inflight.delete(key);
      }
      this.counters.accepted++;
      // Per reading: the fields are built only when someone reads debug logs.
      if (this.deps.log.isLevelEnabled("debug")) this.deps.log.debug({ deviceId: toHex(reading.deviceId), seq: reading.sequence, batchId, source }, "reading accepted");
      return { kind: "accepted", deviceId: reading.deviceId, sequence: reading.sequence, records: reading.records, batchId, ...(shortKid ? { shortKid } : {}) };
    } catch (e) {
      if (e instanceof IngestError) this.refused(e, reading, source);
      throw e;
    }
  }

  /** The reading and its digest, decoded once in this process (shared/decoded-readings.ts): the chain side meets these bytes again. */
  private decode(bytes: Uint8Array): { reading: SignedReading; digest: Uint8Array } {
    if (bytes.length > readingBytesMax) throw new IngestError("TOO_LARGE", `reading is ${bytes.length} bytes; the limit is ${readingBytesMax}`);
    try {
      const decoded = decodedReadings.decode(bytes, (kid) => this.deps.registry.deviceIdOfKid(kid));
      // A payload anchor the device got wrong (shared/payload-anchor.ts) is refused here, where the
      // device hears why; whether the payload itself is here does not matter (it may come later).
      payloadAnchors(decoded.reading.records);
      return decoded;
    } catch (e) {
      if (e instanceof ReadingError && e.code === "COSE_KID_UNKNOWN") throw new IngestError("UNKNOWN_KID", "short kid unknown; sign with the device id as kid");
      if (e instanceof ReadingError) throw new IngestError("MALFORMED", `${e.code}: ${e.message}`);
      throw e;
    }
  }

  /**
   * The reading's enrolled, active device and, for a compact reading signed under the long kid by a
   * device that has a short one, the short kid to tell it.
   */
  private device(reading: SignedReading): { device: DeviceRecord; shortKid?: Uint8Array } {
    const id = toHex(reading.deviceId);
    const device = this.deps.registry.lookup(reading.deviceId);
    if (!device) throw new IngestError("UNKNOWN_DEVICE", `device ${id} is not enrolled; enroll it with its owner key (POST /e)`);
    if (device.status !== "active") {
      const code = device.status === "pending" ? "DEVICE_PENDING" : device.status === "revoked" ? "DEVICE_REVOKED" : "DEVICE_QUARANTINED";
      const why = device.status === "pending" ? "; an operator must approve it" : device.statusReason ? `: ${device.statusReason}` : "";
      throw new IngestError(code, `device ${id} is ${device.status}${why}`);
    }
    const teach = reading.format === 2 && reading.kid.length === reading.deviceId.length && device.shortKid !== undefined;
    return teach ? { device, shortKid: device.shortKid } : { device };
  }

  /** COSE_Sign1 verification (RFC 9052 §4.4) under the device's enrolled key, on the thread pool. */
  private async authenticate(reading: SignedReading, digest: Uint8Array, device: DeviceRecord): Promise<void> {
    const key = this.deps.keys.get(device.publicKey);
    if (!(await verifyEd25519Async(key, sigStructure(reading.protectedBytes, reading.payloadBytes), reading.signature))) {
      // Under a short kid the device is only what the kid says: a device told a wrong kid (a spoofed
      // 2.01) lands here, and its mistake must not count against the device that owns the kid.
      if (reading.kid.length !== reading.deviceId.length) throw new IngestError("KID_MISMATCH", "signature does not verify under this short kid's device; sign with the device id as kid");
      throw new IngestError("BAD_SIGNATURE", `signature does not verify under device ${toHex(reading.deviceId)}'s enrolled key`);
    }
    // The chain side of this process (this gateway's own batch, blocks carrying it) need not verify it again.
    verifiedReadings.add(digest, device.publicKey);
  }

  /** The device's replay window and rate bucket, loaded from the store when not in memory. */
  private state(deviceId: Uint8Array): DeviceState {
    const id = toHex(deviceId);
    let state = this.devices.get(id);
    if (!state) {
      state = this.loadState(deviceId);
      this.devices.set(id, state);
    }
    return state;
  }

  /** Throws the backlog's 5.03 when a new reading must not be acknowledged now (backlog.ts). */
  private refuseForBacklog(): void {
    const refusal = this.deps.backlog?.refusal(this.inflight.size);
    if (refusal) throw refusal;
  }

  /** Rebuilds a device's replay window from the store (after a restart or an LRU eviction). */
  private loadState(deviceId: Uint8Array): DeviceState {
    const { replayWindowSize, rateReadingsPerS, rateBurst } = this.deps.options;
    const window = new ReplayWindow(replayWindowSize);
    const recent = this.deps.store.recentSequences(deviceId, replayWindowSize);
    for (const seq of recent.reverse()) if (window.check(seq) === "new") window.mark(seq);
    return { window, bucket: new TokenBucket(rateReadingsPerS, rateBurst, this.nowMs()) };
  }

  /** A sequence number already seen: the same bytes are a duplicate (2.01 again), others a replay. */
  private async repeat(reading: SignedReading, digest: Uint8Array, inflight: Inflight | undefined, stale: boolean): Promise<IngestOutcome> {
    const prior = inflight?.digest ?? this.deps.store.digestOf(reading.deviceId, reading.sequence);
    if (prior && Buffer.compare(prior, digest) === 0) {
      const batchId = inflight ? await inflight.committed : 0;
      this.counters.duplicates++;
      return { kind: "duplicate", deviceId: reading.deviceId, sequence: reading.sequence, records: reading.records, batchId };
    }
    if (stale && !prior) throw new IngestError("STALE", `sequence ${reading.sequence} is older than the replay window; readings cannot be re-sent this late`);
    throw new IngestError("REPLAY", `sequence ${reading.sequence} was already used with other content`);
  }

  private refused(e: IngestError, reading: SignedReading | undefined, source: string): void {
    this.counters.rejected[e.code] = (this.counters.rejected[e.code] ?? 0) + 1;
    const deviceId = reading ? toHex(reading.deviceId) : undefined;
    if (reading && misbehaviourCodes.has(e.code)) this.deps.misbehaviour.count(reading.deviceId, e.code, this.nowMs());
    const suppressed = this.throttle.admit(`${deviceId ?? source}/${e.code}`);
    if (suppressed === undefined) return;
    const level = misbehaviourCodes.has(e.code) ? "warn" : "info";
    this.deps.log[level]({ deviceId, seq: reading?.sequence, code: e.code, coap: e.coapCode, source, suppressed: suppressed || undefined }, e.message);
  }
}
