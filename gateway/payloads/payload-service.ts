// A gateway's off-chain payloads between the chain, its store and the other gateways:
//   - scans finalized blocks for readings that anchor a payload (anchor-index.ts);
//   - fetches each anchored payload it lacks from the other gateways' GET /v1/payloads/<sha256>, the
//     reading's relaying gateway first (its id is the batch's author; peers tell their id on
//     /v1/health), then the others; the bytes must have the anchor's size and SHA-256; a round that
//     fails is retried after retryBaseMs × 2^attempts, at most retryMaxMs;
//   - answers what the API and the CoAP upload path ask: is it here, who anchors it, what is being fetched.
// A reading is accepted and finalized whether or not its payload is here (the device may upload after);
// until it arrives the API says "missing".
import type { Logger } from "pino";
import { sha256, toHex } from "../../shared/ed25519.ts";
import { payloadAnchors, type PayloadAnchor } from "../../shared/payload-anchor.ts";
import { ReadingError } from "../../shared/errors.ts";
import type { Chain } from "../chain/chain.ts";
import { BlockReader } from "../api/block-reader.ts";
import { ChainQueries } from "../api/queries.ts";
import { BoundedFetchError, fetchBounded } from "../http-fetch.ts";
import { AnchorIndex, type AnchorRow } from "./anchor-index.ts";
import { PayloadError } from "./errors.ts";
import type { PayloadStore } from "./payload-store.ts";

export interface PayloadServiceOptions {
  /** Other gateways' API base URLs (http://host:port). */
  peers: string[];
  /** The largest payload this gateway keeps (uploads and fetches). */
  payloadBytesMax: number;
  pollMs: number;
  fetchTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  fetchesInFlightMax: number;
  /** Blocks scanned per poll: a long chain is caught up over several polls. */
  scanBlocksPerPollMax: number;
  /** Readings decoded per poll (checked between blocks). */
  scanReadingsPerPollMax: number;
  fetch?: typeof globalThis.fetch;
}

export const payloadServiceDefaults: PayloadServiceOptions = {
  peers: [],
  payloadBytesMax: 4 << 20,
  pollMs: 500,
  fetchTimeoutMs: 30_000,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
  fetchesInFlightMax: 2,
  scanBlocksPerPollMax: 500,
  scanReadingsPerPollMax: 5000,
};

/** Anchors listed per digest (the proof route serves each one's provenance). */
export const anchorsPerDigestMax = 16;
/** Anchors checked for expiry per poll. */
export const expireAnchorsPerPollMax = 512;

interface Missing {
  attempts: number;
  nextAttemptMs: number;
  lastError: string | null;
  inFlight: boolean;
}

export interface PayloadStatus {
  sha256: string;
  present: boolean;
  anchors: AnchorRow[];
  /** Set while the payload is anchored but not here. */
  fetch: { attempts: number; nextAttemptMs: number; lastError: string | null; tooLarge: boolean } | null;
}

export class PayloadService {
  readonly index: AnchorIndex;
  private readonly queries: ChainQueries;
  private readonly reader: BlockReader;
  private readonly missing = new Map<string, Missing>();
  private readonly peerIds = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  readonly stats = { fetched: 0, fetchFailures: 0, expired: 0 };
  private expireCursor: AnchorRow | undefined;

  constructor(
    private readonly chain: Chain,
    readonly store: PayloadStore,
    private readonly log: Logger,
    readonly options: PayloadServiceOptions = payloadServiceDefaults,
    private readonly clock: () => number = Date.now,
  ) {
    this.index = new AnchorIndex(store.dir);
    this.queries = new ChainQueries(chain.store);
    this.reader = new BlockReader(chain, 256);
    for (const d of this.index.digests()) if (!store.has(d)) this.markMissing(d);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.index.close();
  }

  /** Scans new finalized blocks, then starts the fetches that are due. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.scan();
      this.expire();
      await this.fetchDue();
    } catch (e) {
      this.log.error({ err: e, code: "PAYLOADS" }, "payload poll failed");
    } finally {
      this.polling = false;
    }
  }

  /**
   * Expiry (gateway/chain/expiry.ts): a payload goes when every reading anchoring it expired. A bounded
   * sweep over the anchors per poll (expireAnchorsPerPollMax), resuming where the last one stopped.
   */
  expire(): number {
    const rows = this.index.after(this.expireCursor, expireAnchorsPerPollMax);
    this.expireCursor = rows.length === expireAnchorsPerPollMax ? rows[rows.length - 1] : undefined;
    let removed = 0;
    for (const a of rows) {
      const row = this.queries.reading(a.deviceId, a.sequence);
      if (!row || !this.chain.expiry.isExpired(a.deviceId, row.logIndex)) continue;
      if (this.index.removeAnchor(a.digestHex, a.deviceId, a.sequence) > 0) continue;
      this.missing.delete(a.digestHex);
      if (this.store.remove(a.digestHex)) removed++;
    }
    this.stats.expired += removed;
    return removed;
  }

  /** Indexes the anchors of finalized blocks after the scanned height (at most scanBlocksPerPollMax). */
  scan(): void {
    const head = this.chain.head().height;
    const from = this.index.scannedHeight() + 1;
    const to = Math.min(head, from + this.options.scanBlocksPerPollMax - 1);
    if (to < from) return;
    const found = [];
    let readings = 0;
    let last = from - 1;
    // Whole blocks only, until scanReadingsPerPollMax readings were decoded: one poll never holds the event loop long.
    for (let h = from; h <= to && readings < this.options.scanReadingsPerPollMax; h++, last++) {
      const rows = this.queries.readingsOfBlock(h, 1 << 20);
      readings += rows.length;
      for (const row of rows) {
        const located = this.reader.reading(h, row.txIndex, row.position);
        if (!located && this.chain.expiry.isExpired(row.deviceId, row.logIndex)) continue; // expired: it anchors nothing any more
        if (!located) throw new Error(`index row ${toHex(row.deviceId)}/${row.sequence} at block ${h} has no reading`);
        for (const anchor of this.anchorsOf(located.reading.records, row.deviceId, row.sequence)) {
          found.push({ anchor, deviceId: row.deviceId, sequence: row.sequence, height: h, gatewayId: row.gatewayId });
        }
      }
    }
    this.index.record(last, found);
    for (const f of found) {
      const hex = toHex(f.anchor.digest);
      if (!this.store.has(hex)) this.markMissing(hex);
    }
  }

  private anchorsOf(records: Parameters<typeof payloadAnchors>[0], deviceId: Uint8Array, sequence: number): PayloadAnchor[] {
    try {
      return payloadAnchors(records);
    } catch (e) {
      // The chain records a reading whatever its anchors say; a malformed one anchors nothing.
      if (!(e instanceof ReadingError)) throw e;
      this.log.debug({ deviceId: toHex(deviceId), sequence, err: e.message }, "reading with a malformed payload anchor");
      return [];
    }
  }

  private markMissing(hex: string): void {
    if (!this.missing.has(hex)) this.missing.set(hex, { attempts: 0, nextAttemptMs: 0, lastError: null, inFlight: false });
  }

  /** The upload path stored it: nothing to fetch any more. */
  stored(hex: string): void {
    this.missing.delete(hex);
  }

  status(hex: string): PayloadStatus {
    const anchors = this.index.anchorsOf(hex, anchorsPerDigestMax);
    const present = this.store.has(hex);
    const m = this.missing.get(hex);
    const tooLarge = anchors.length > 0 && anchors[0].bytes > this.options.payloadBytesMax;
    return { sha256: hex, present, anchors, fetch: !present && anchors.length > 0 ? { attempts: m?.attempts ?? 0, nextAttemptMs: m?.nextAttemptMs ?? 0, lastError: m?.lastError ?? null, tooLarge } : null };
  }

  /** Digests anchored on chain and not here. */
  missingDigests(): string[] {
    return [...this.missing.keys()];
  }

  private async fetchDue(): Promise<void> {
    const now = this.clock();
    let inFlight = [...this.missing.values()].filter((m) => m.inFlight).length;
    const runs: Promise<void>[] = [];
    for (const [hex, m] of this.missing) {
      if (inFlight >= this.options.fetchesInFlightMax) break;
      if (m.inFlight || m.nextAttemptMs > now) continue;
      if (this.store.has(hex)) {
        this.missing.delete(hex);
        continue;
      }
      m.inFlight = true;
      inFlight++;
      runs.push(this.fetchOne(hex, m).finally(() => (m.inFlight = false)));
    }
    await Promise.all(runs);
  }

  private async fetchOne(hex: string, m: Missing): Promise<void> {
    const anchors = this.index.anchorsOf(hex, anchorsPerDigestMax);
    if (anchors.length === 0) return void this.missing.delete(hex);
    const bytesExpected = anchors[0].bytes;
    if (bytesExpected > this.options.payloadBytesMax) {
      m.lastError = `PAYLOAD_TOO_LARGE: ${bytesExpected} bytes; this gateway keeps at most ${this.options.payloadBytesMax}`;
      m.nextAttemptMs = Infinity;
      return;
    }
    const errors: string[] = [];
    for (const peer of await this.peersFor(anchors)) {
      try {
        const { bytes } = await fetchBounded(`${peer}/v1/payloads/${hex}`, { bytesMax: bytesExpected, timeoutMs: this.options.fetchTimeoutMs, fetch: this.options.fetch });
        if (bytes.length !== bytesExpected || toHex(sha256(bytes)) !== hex) {
          errors.push(`${peer}: served ${bytes.length} bytes that are not the anchored payload`);
          continue;
        }
        this.store.put(hex, bytes);
        this.missing.delete(hex);
        this.stats.fetched++;
        this.log.info({ sha256: hex, bytes: bytes.length, from: peer, attempts: m.attempts + 1 }, "payload fetched");
        return;
      } catch (e) {
        if (!(e instanceof BoundedFetchError) && !(e instanceof PayloadError)) throw e;
        errors.push(e.message);
        if (e instanceof PayloadError) break; // the store is full: no peer can help this round
      }
    }
    m.attempts++;
    m.lastError = errors.length ? errors.join("; ") : "no peer gateway configured";
    m.nextAttemptMs = this.clock() + Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (m.attempts - 1));
    this.stats.fetchFailures++;
    this.log.warn({ sha256: hex, attempts: m.attempts, retryInMs: m.nextAttemptMs - this.clock(), err: m.lastError, code: "PAYLOAD_FETCH" }, "payload fetch failed; retrying later");
  }

  /** Peers in the order to ask: the relaying gateways of the anchoring readings first, then the rest. */
  private async peersFor(anchors: AnchorRow[]): Promise<string[]> {
    const relays = new Set(anchors.map((a) => toHex(a.gatewayId)));
    const ids = await Promise.all(this.options.peers.map((p) => this.peerId(p)));
    const first = this.options.peers.filter((_, i) => ids[i] !== undefined && relays.has(ids[i]!));
    return [...first, ...this.options.peers.filter((p) => !first.includes(p))];
  }

  /** A peer's gateway id, from its /v1/health (200 or 503 alike), remembered once known. */
  private async peerId(peer: string): Promise<string | undefined> {
    const known = this.peerIds.get(peer);
    if (known) return known;
    try {
      const res = await (this.options.fetch ?? globalThis.fetch)(`${peer}/v1/health`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { nodeId?: unknown };
      if (typeof body.nodeId === "string" && /^[0-9a-f]+$/.test(body.nodeId)) {
        this.peerIds.set(peer, body.nodeId);
        return body.nodeId;
      }
    } catch {
      // Unknown for now: asked after the relays, and again next round.
    }
    return undefined;
  }
}
