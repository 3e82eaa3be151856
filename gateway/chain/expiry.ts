// Expiry (issue 13 item 1; source document 8.3: data expires rather than being deleted). The
// guarantee this module owns: a reading recorded in block b is pruned once a finalized block's time
// is ≥ time(b) + retention(device) (retention.ts, state), on every gateway alike, and nothing but its
// bytes goes:
//
//   pruned  the COSE bytes in the stored block body (pruned-body.ts), its decoded values
//           (reading_values rows), and off-chain payloads it alone anchored (payload-service.ts)
//   kept    the header, certificate, results, the readings row (digest, position, receipt), the
//           device's log (state): provenance still proves the digest (gateway/api/provenance.ts)
//
// Judged against finalized block time, never the wall clock. A local storage action that never
// changes a state root: each commit schedules it (`schedule`), and it runs off the commit path in
// rounds over the devices, each in slices of bounded work (devicesPerPass devices, readingsPerPass
// readings, blocksPerPass bodies rewritten), one per event-loop turn (setImmediate) while work
// remains, so consensus messages interleave and a commit never waits for it. A round that found
// nothing due is followed by the next one no sooner than roundIntervalMs after it began: a round
// visits every device, and starting one after every commit cost a 4-validator network at 5 blocks/s
// an eighth of each gateway's main thread with nothing ever due (bench:net, 160 devices). `drain` runs the slices in line (tools, benches, tests). A device's readings
// expire in log order (the log is chain order and a block's time only grows), so what is pruned is a
// prefix of each device's log: one cursor per device (expiry-store.ts). A longer retention set later
// keeps what is still there; it does not bring pruned bytes back.
import { decode } from "../../shared/cbor.ts";
import { fromHex } from "../../shared/ed25519.ts";
import { ExpiryStore } from "../storage/expiry-store.ts";
import type { ChainStore } from "../storage/chain-store.ts";
import { invariantFailed } from "./errors.ts";
import { decodeStoredBody, encodeStoredBody, pruneStoredTx, type PruneTarget } from "./pruned-body.ts";
import { decodeBlockResults, readingOutcome } from "./reading-outcome.ts";
import { deviceCodec } from "./records.ts";
import { deviceRetentionSeconds } from "./retention.ts";

export interface ExpiryOptions {
  devicesPerPass: number;
  readingsPerPass: number;
  blocksPerPass: number;
  /** A round that pruned nothing is followed by the next no sooner than this after it began (wall clock: pacing only, never what is due). */
  roundIntervalMs: number;
}

export const expiryDefaults: ExpiryOptions = { devicesPerPass: 256, readingsPerPass: 1024, blocksPerPass: 16, roundIntervalMs: 2000 };

export interface PassReport {
  readings: number;
  blocks: number;
  pagesReclaimed: number;
  /** Devices this slice looked at (a round is over when unproductive slices visited them all). */
  devices: number;
}

export class Expiry {
  readonly store: ExpiryStore;
  /** `failing`: the last slice failed (GET /v1/health says EXPIRY_FAILING until one succeeds). */
  readonly stats = { passes: 0, readingsPruned: 0, blocksRewritten: 0, pagesReclaimed: 0, failures: 0, failing: false, lastError: null as string | null };

  constructor(
    private readonly chain: ChainStore,
    readonly options: ExpiryOptions = expiryDefaults,
  ) {
    this.store = new ExpiryStore(chain.db);
  }

  /** Whether a device's reading (by its log index) has been pruned here. */
  isExpired(deviceId: Uint8Array, logIndex: number): boolean {
    return logIndex < this.store.cursor(deviceId);
  }

  /** When a reading of `height` expires under the device's retention now in force (null: kept forever). */
  expiresAtMs(deviceId: Uint8Array, height: number): number | null {
    const raw = this.chain.get(`device/${Buffer.from(deviceId).toString("hex")}`);
    if (!raw) return null;
    const seconds = deviceRetentionSeconds((k) => this.chain.get(k), deviceId, deviceCodec.from(decode(raw)));
    const t = this.store.blockTimeMs(height);
    return seconds === 0 || t === undefined ? null : t + seconds * 1000;
  }

  private latest: { finalizedMs: number; tipHeight: number } | undefined;
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private closed = false;
  /** performance.now() when the current (or last) round began; undefined before the first. */
  private roundStartedAt: number | undefined;
  private inRound = false;

  /** After a commit: slices run on later event-loop turns against the newest finalized block. */
  schedule(finalizedMs: number, tipHeight: number): void {
    this.latest = { finalizedMs, tipHeight };
    if (this.scheduled) return; // a round is running or waiting: it takes the newest block when it slices
    const waitMs = this.roundStartedAt === undefined ? 0 : this.roundStartedAt + this.options.roundIntervalMs - performance.now();
    this.scheduled = waitMs > 0 ? setTimeout(() => this.slice(), waitMs) : setImmediate(() => this.slice());
  }

  private quietDevices = 0;

  private slice(): void {
    this.scheduled = undefined;
    if (this.closed || !this.latest || !this.chain.db.open) return; // the node closed its store meanwhile
    if (!this.inRound) {
      this.inRound = true;
      this.roundStartedAt = performance.now();
    }
    if (this.step()) this.scheduled = setImmediate(() => this.slice()); // more may be due
    else this.inRound = false;
  }

  /** One slice at the newest finalized block; false once a whole round of devices found nothing due. */
  private step(): boolean {
    const r = this.afterCommit(this.latest!.finalizedMs, this.latest!.tipHeight);
    if (r.readings > 0) this.quietDevices = 0;
    else this.quietDevices += r.devices;
    if (r.readings > 0 || this.quietDevices < this.store.deviceCount()) return r.devices > 0 || r.readings > 0;
    this.quietDevices = 0;
    return false;
  }

  /** Runs slices in line until a whole round of devices has nothing due at the newest finalized block; returns readings pruned. */
  drain(): number {
    const before = this.stats.readingsPruned;
    while (this.latest && this.step());
    return this.stats.readingsPruned - before;
  }

  /** Stops scheduled slices (the store is closing). */
  close(): void {
    this.closed = true;
    if (this.scheduled) {
      clearImmediate(this.scheduled as NodeJS.Immediate);
      clearTimeout(this.scheduled as NodeJS.Timeout);
    }
    this.scheduled = undefined;
  }

  /**
   * One bounded slice at the block of time `finalizedMs`. Errors are counted and kept (stats, and
   * /v1/health EXPIRY_FAILING) rather than thrown: a storage action must not stop consensus.
   */
  afterCommit(finalizedMs: number, tipHeight: number): PassReport {
    try {
      const report = this.pass(finalizedMs, tipHeight);
      this.stats.passes++;
      this.stats.failing = false;
      this.stats.readingsPruned += report.readings;
      this.stats.blocksRewritten += report.blocks;
      this.stats.pagesReclaimed += report.pagesReclaimed;
      return report;
    } catch (e) {
      this.stats.failures++;
      this.stats.failing = true;
      this.stats.lastError = (e as Error).message;
      return { readings: 0, blocks: 0, pagesReclaimed: 0, devices: 0 };
    }
  }

  pass(finalizedMs: number, tipHeight: number): PassReport {
    const o = this.options;
    const horizon = new Map<number, number>(); // retention seconds → highest expired height
    const byBlock = new Map<number, Map<number, Map<number, PruneTarget>>>(); // height → tx → position → target
    const cursors: { deviceId: Uint8Array; logIndex: number }[] = [];
    const values: { deviceId: Uint8Array; sequence: number }[] = [];
    let budget = o.readingsPerPass;
    let devices = 0;
    for (const { key, value } of this.store.nextDevices(o.devicesPerPass)) {
      if (budget === 0 || byBlock.size >= o.blocksPerPass) break;
      devices++;
      const deviceId = fromHex(key.slice("device/".length));
      const seconds = deviceRetentionSeconds((k) => this.chain.get(k), deviceId, deviceCodec.from(decode(value)));
      let h = seconds === 0 ? 0 : horizon.get(seconds);
      if (h === undefined) horizon.set(seconds, (h = this.store.heightAtOrBefore(finalizedMs - seconds * 1000, tipHeight)));
      if (h < 1) {
        this.store.visited(key); // nothing of it is due
        continue;
      }
      const from = this.store.cursor(deviceId);
      let next = from;
      // The device's log from the cursor in growing chunks: most devices have a few readings due per
      // pass, and the rows past the horizon (the whole retention window) must not be read each time.
      let limited = false; // stopped by this slice's bounds, not by the horizon: visit it again next slice
      for (let chunk = 4, more = true; more; chunk = Math.min(chunk * 4, 1024)) {
        if (budget === 0) {
          limited = true;
          break;
        }
        const rows = this.store.readingsFrom(deviceId, next, Math.min(chunk, budget));
        more = rows.length === Math.min(chunk, budget);
        for (const r of rows) {
          if (r.height > h || (!byBlock.has(r.height) && byBlock.size >= o.blocksPerPass)) {
            limited = r.height <= h;
            more = false;
            break;
          }
          if (r.logIndex !== next) invariantFailed(`device ${key}: log index ${r.logIndex} where ${next} was expected`);
          let txs = byBlock.get(r.height);
          if (!txs) byBlock.set(r.height, (txs = new Map()));
          let positions = txs.get(r.txIndex);
          if (!positions) txs.set(r.txIndex, (positions = new Map()));
          positions.set(r.position, { deviceId, sequence: r.sequence });
          values.push({ deviceId, sequence: r.sequence });
          next++;
          budget--;
        }
      }
      if (next > from) cursors.push({ deviceId, logIndex: next });
      if (limited) break;
      this.store.visited(key);
    }
    if (cursors.length === 0) return { readings: 0, blocks: 0, pagesReclaimed: this.store.reclaim(), devices };
    this.store.transaction(() => {
      for (const [height, txs] of byBlock) {
        const stored = this.store.storedBody(height);
        if (stored === undefined) invariantFailed(`block ${height} holds readings to prune but is not stored`);
        const body = decodeStoredBody(stored.body);
        const results = decodeBlockResults(stored.results);
        for (const [txIndex, positions] of txs) {
          body.txs[txIndex] = pruneStoredTx(body.txs[txIndex], positions, (p) => results[txIndex].readings[p] === readingOutcome.recorded);
        }
        this.store.setBody(height, encodeStoredBody(body));
      }
      for (const v of values) this.store.deleteValues(v.deviceId, v.sequence);
      for (const c of cursors) this.store.setCursor(c.deviceId, c.logIndex);
    });
    return { readings: values.length, blocks: byBlock.size, pagesReclaimed: this.store.reclaim(), devices };
  }
}
