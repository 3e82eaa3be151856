// A gateway's reports of what it saw devices do (clause 9.3): ingest counts each device's forged
// signatures, replays and floods (gateway/ingest/misbehaviour.ts, persisted in the pending store);
// every `intervalMs` this turns the counts that grew by `threshold` or more since the last report into
// a signed reportDevice ("observed") transaction through the gateway's durable signer. The chain
// quarantines a device once f + 1 validators reported it (quarantine.ts). Only a registered gateway
// reports, and only about an enrolled, active device: anything else the chain would refuse.
import type { Logger } from "pino";
import { toHex } from "../../shared/ed25519.ts";
import type { Chain } from "./chain.ts";
import type { NodeSigner } from "./node-signer.ts";
import { deviceStatus } from "./records.ts";

export interface MisbehaviourRow {
  deviceId: Uint8Array;
  code: string;
  count: number;
  lastAtMs: number;
}

export interface MisbehaviourSource {
  /** Counters changed after `ms` (all counters for 0). */
  misbehaviourSince(ms: number): MisbehaviourRow[];
}

export interface ReporterOptions {
  intervalMs: number;
  /** Least new misbehaviour (all codes together) of one device that makes a report. */
  threshold: number;
}

export const reporterDefaults: ReporterOptions = { intervalMs: 5_000, threshold: 10 };

/** Ingest codes (gateway/ingest/errors.ts misbehaviourCodes) by report column. */
const column: Record<string, "badSignatures" | "replays" | "floods"> = {
  BAD_SIGNATURE: "badSignatures",
  REPLAY: "replays",
  STALE: "replays",
  RATE_LIMITED: "floods",
};

export class MisbehaviourReporter {
  /** Count of each (device, code) at the last report, or when this process started. */
  private readonly reported = new Map<string, number>();
  private lastRunMs = 0;
  readonly stats = { reports: 0 };

  constructor(
    private readonly chain: Chain,
    private readonly signer: NodeSigner,
    private readonly source: MisbehaviourSource,
    private readonly gatewayId: Uint8Array,
    private readonly log: Logger,
    private readonly options: ReporterOptions = reporterDefaults,
  ) {
    // What happened before this start was reported then, or is too old to matter now.
    for (const r of source.misbehaviourSince(0)) this.reported.set(`${toHex(r.deviceId)}/${r.code}`, r.count);
    this.lastRunMs = Date.now();
  }

  tick(nowMs: number): void {
    if (nowMs - this.lastRunMs < this.options.intervalMs) return;
    const since = this.lastRunMs - this.options.intervalMs; // overlap: a row flushed late is still seen
    this.lastRunMs = nowMs;
    const state = this.chain.state();
    if (!state.candidate(this.gatewayId)) return;
    const byDevice = new Map<string, MisbehaviourRow[]>();
    for (const r of this.source.misbehaviourSince(since)) {
      const key = toHex(r.deviceId);
      const rows = byDevice.get(key);
      if (rows) rows.push(r);
      else byDevice.set(key, [r]);
    }
    for (const [id, rows] of byDevice) {
      const counts = { badSignatures: 0, replays: 0, floods: 0 };
      for (const r of rows) {
        const col = column[r.code];
        if (col) counts[col] += r.count - (this.reported.get(`${id}/${r.code}`) ?? 0);
      }
      if (counts.badSignatures + counts.replays + counts.floods < this.options.threshold) continue;
      const deviceId = rows[0].deviceId;
      const device = state.device(deviceId);
      for (const r of rows) this.reported.set(`${id}/${r.code}`, r.count);
      if (!device || device.status !== deviceStatus.active) continue;
      this.signer.submit({ kind: "reportDevice", deviceId, evidence: "observed", ...counts }, { topic: `report/${id}` }, nowMs);
      this.stats.reports++;
      this.log.warn({ device: id, ...counts }, "device misbehaviour reported on chain");
    }
  }
}
